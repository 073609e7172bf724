"""A guardrail on every call: the function's environment, and IAM that requires it (pure documents and mocks)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from bedrock_stream import guardrail as function_side
from bedrock_stream.config import load_config
from bedrock_stream.guardrail import with_guardrail
from botocore.session import get_session
from streaming_bedrock_api import guardrail_spec as component_side
from streaming_bedrock_api.guardrail_spec import GuardrailSpecError, parse_guardrail
from streaming_bedrock_api.iam import bedrock_policy_document
from streaming_bedrock_api.settings import SettingsError

from .conftest import ACCOUNT, REGION, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
GUARDRAIL_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/gr0abc123"


def _invoke_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if "bedrock:InvokeModelWithResponseStream" in s["Action"]]


def test_every_invoke_statement_requires_the_guardrail_and_the_role_may_apply_it() -> None:
    guardrail = parse_guardrail({"id": "gr0abc123", "version": 3})
    for model in (MODEL, "anthropic.claude-haiku-4-5-20251001-v1:0", "global.anthropic.claude-haiku-4-5-20251001-v1:0"):
        document = bedrock_policy_document([model], REGION, ACCOUNT, "aws", guardrail)
        invokes = _invoke_statements(document)
        assert invokes
        for statement in invokes:
            assert statement["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"] == f"{GUARDRAIL_ARN}:3"
        apply = [s for s in document["Statement"] if s["Action"] == ["bedrock:ApplyGuardrail"]]
        assert apply == [{"Sid": "ApplyGuardrail", "Effect": "Allow", "Action": ["bedrock:ApplyGuardrail"],
                          "Resource": [GUARDRAIL_ARN]}]
    # The profile condition is kept beside the guardrail's.
    profile = bedrock_policy_document([MODEL], REGION, ACCOUNT, "aws", guardrail)["Statement"][1]
    assert set(profile["Condition"]["StringEquals"]) == {"bedrock:InferenceProfileArn", "bedrock:GuardrailIdentifier"}


def test_draft_and_arn_identifiers() -> None:
    draft = parse_guardrail({"id": GUARDRAIL_ARN, "version": "DRAFT"})
    statement = _invoke_statements(bedrock_policy_document([MODEL], REGION, ACCOUNT, "aws", draft))[0]
    assert statement["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"] == [GUARDRAIL_ARN,
                                                                                      f"{GUARDRAIL_ARN}:DRAFT"]


def test_the_component_wires_the_guardrail_into_the_function_and_its_role() -> None:
    run = run_component(
        {"model_id": MODEL, "guardrail": {"id": "gr0abc123", "version": "2", "stream_processing_mode": "async",
                                          "trace": "enabled"}}
    )
    variables = run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert {k: v for k, v in variables.items() if k.startswith("GUARDRAIL_")} == {
        "GUARDRAIL_IDENTIFIER": GUARDRAIL_ARN,  # the full ARN, though the stack names the guardrail by its id
        "GUARDRAIL_VERSION": "2",
        "GUARDRAIL_STREAM_PROCESSING_MODE": "async",
        "GUARDRAIL_TRACE": "enabled",
    }
    # What the function will send is exactly what IAM requires (the user guide's conditions are ARN-valued).
    config = load_config({**variables, "AWS_REGION": REGION})
    sent = with_guardrail({}, config.guardrail)["guardrailConfig"]
    required = f"{sent['guardrailIdentifier']}:{sent['guardrailVersion']}"
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy", suffix="-bedrock").inputs["policy"])
    invokes = _invoke_statements(policy)
    assert invokes
    for statement in invokes:
        assert statement["Condition"]["StringEquals"]["bedrock:GuardrailIdentifier"] == required
    assert any(s["Action"] == ["bedrock:ApplyGuardrail"] for s in policy["Statement"])


def test_without_a_guardrail_nothing_changes() -> None:
    run = run_component({"model_id": MODEL})
    variables = run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert not any(k.startswith("GUARDRAIL_") for k in variables)
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy", suffix="-bedrock").inputs["policy"])
    assert "GuardrailIdentifier" not in json.dumps(policy) and "ApplyGuardrail" not in json.dumps(policy)


@pytest.mark.parametrize(
    ("guardrail", "message"),
    [
        ({"id": "GR-1", "version": "1"}, "is not a guardrail id"),
        ({"id": "abc", "version": "0"}, "must be a version number"),
        ({"id": "abc", "version": "1", "stream_processing_mode": "later"}, "'sync' or 'async'"),
        ({"id": "abc", "version": "1", "trace": "full"}, "trace: must be one of"),
        ({"id": "abc", "version": "1", "mode": "sync"}, "unknown field 'mode'"),
        ("abc", "expected an object"),
    ],
)
def test_bad_guardrail_settings_fail_at_preview(guardrail: Any, message: str) -> None:
    with pytest.raises(SettingsError, match="guardrail") as error:
        run_component({"model_id": MODEL, "guardrail": guardrail})
    assert message in str(error.value)


def test_the_component_and_the_function_accept_exactly_what_bedrock_does() -> None:
    """Two copies of the guardrail's rules (the function ships without the component): botocore's service model
    is the oracle for both."""
    shape = get_session().get_service_model("bedrock-runtime").operation_model("ConverseStream").input_shape
    members = shape.members["guardrailConfig"].members
    for side in (function_side, component_side):
        assert set(side.TRACE_MODES) == set(members["trace"].enum), side.__name__
        assert set(side.STREAM_PROCESSING_MODES) == set(members["streamProcessingMode"].enum), side.__name__
    identifier = re.compile(members["guardrailIdentifier"].metadata["pattern"])
    version = re.compile(members["guardrailVersion"].metadata["pattern"])
    samples = [("abc123", "1"), (GUARDRAIL_ARN, "DRAFT"), ("Abc", "1"), ("abc-1", "1"), ("abc", "0"),
               ("abc", "123456789"), ("abc", "draft"), ("arn:aws:bedrock:x:1:guardrail/a", "1"), ("abc", "99999999")]
    for sample_id, sample_version in samples:
        sendable = bool(identifier.fullmatch(sample_id) and version.fullmatch(sample_version))
        try:
            parse_guardrail({"id": sample_id, "version": sample_version})
            accepted = True
        except GuardrailSpecError:
            accepted = False
        assert accepted == sendable, (sample_id, sample_version)
