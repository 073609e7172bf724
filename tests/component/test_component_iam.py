"""The Bedrock policy: exact documents for bare models and for us./jp./global. inference profiles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_bedrock_api.iam import bedrock_policy_document, classify_model_id

from .conftest import ACCOUNT, REGION, run_component

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
ACTION = ["bedrock:InvokeModelWithResponseStream"]


def _profile_statements(profile: str, region: str, index: int = 0) -> list[dict[str, Any]]:
    profile_arn = f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{profile}"
    return [
        {"Sid": f"InferenceProfile{index}", "Effect": "Allow", "Action": ACTION, "Resource": [profile_arn]},
        {
            "Sid": f"ProfileModels{index}",
            "Effect": "Allow",
            "Action": ACTION,
            "Resource": [f"arn:aws:bedrock:*::foundation-model/{HAIKU}"],
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}},
        },
    ]


def test_bare_foundation_model() -> None:
    assert bedrock_policy_document([HAIKU], "us-east-1", ACCOUNT) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FoundationModel0",
                "Effect": "Allow",
                "Action": ACTION,
                "Resource": [f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"],
            }
        ],
    }


def test_us_geographic_profile() -> None:
    document = bedrock_policy_document([f"us.{HAIKU}"], "us-west-2", ACCOUNT)
    assert document == {"Version": "2012-10-17", "Statement": _profile_statements(f"us.{HAIKU}", "us-west-2")}


def test_jp_geographic_profile() -> None:
    document = bedrock_policy_document([f"jp.{HAIKU}"], "ap-northeast-1", ACCOUNT)
    assert document == {"Version": "2012-10-17", "Statement": _profile_statements(f"jp.{HAIKU}", "ap-northeast-1")}


def test_global_profile_adds_the_regionless_model_for_unspecified_region() -> None:
    profile_arn = f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/global.{HAIKU}"
    document = bedrock_policy_document([f"global.{HAIKU}"], "eu-west-1", ACCOUNT)
    assert document["Statement"] == [
        *_profile_statements(f"global.{HAIKU}", "eu-west-1"),
        {
            "Sid": "GlobalModel0",
            "Effect": "Allow",
            "Action": ACTION,
            "Resource": [f"arn:aws:bedrock:::foundation-model/{HAIKU}"],
            "Condition": {
                "StringEquals": {"aws:RequestedRegion": "unspecified", "bedrock:InferenceProfileArn": profile_arn}
            },
        },
    ]


def test_additional_models_and_partition() -> None:
    document = bedrock_policy_document(
        [f"us-gov.{HAIKU}", "amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"], "us-gov-west-1", ACCOUNT, "aws-us-gov"
    )
    resources = [resource for statement in document["Statement"] for resource in statement["Resource"]]
    assert resources == [
        f"arn:aws-us-gov:bedrock:us-gov-west-1:{ACCOUNT}:inference-profile/us-gov.{HAIKU}",
        f"arn:aws-us-gov:bedrock:*::foundation-model/{HAIKU}",
        "arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.nova-lite-v1:0",
    ]


@pytest.mark.parametrize(
    ("model_id", "kind"),
    [
        (HAIKU, "foundation-model"),
        (f"apac.{HAIKU}", "geographic-profile"),
        (f"au.{HAIKU}", "geographic-profile"),
        (f"ca.{HAIKU}", "geographic-profile"),
        (f"eu.{HAIKU}", "geographic-profile"),
        (f"global.{HAIKU}", "global-profile"),
        ("meta.llama3-8b-instruct-v1:0", "foundation-model"),
        ("amazon.nova-lite-v1:0", "foundation-model"),
        (f"mx.{HAIKU}", "geographic-profile"),  # a geography newer than the known list
    ],
)
def test_classification(model_id: str, kind: str) -> None:
    assert classify_model_id(model_id).kind == kind


@pytest.mark.parametrize("model_id", [HAIKU, f"us.{HAIKU}", f"jp.{HAIKU}", f"global.{HAIKU}"])
def test_never_wildcard_resources_or_actions(model_id: str) -> None:
    for statement in bedrock_policy_document([model_id], REGION, ACCOUNT)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ACTION
        assert "*" not in statement["Resource"]
        for resource in statement["Resource"]:
            assert resource.endswith(HAIKU)
        if "bedrock:*::" in statement["Resource"][0]:
            # A region wildcard is only allowed through the named profile.
            assert "bedrock:InferenceProfileArn" in statement["Condition"]["StringEquals"]


def test_empty_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="model_ids"):
        bedrock_policy_document([], REGION, ACCOUNT)
    with pytest.raises(ValueError, match="account"):
        bedrock_policy_document([HAIKU], REGION, "")


def test_the_role_policy_of_a_run_is_the_document_for_the_stack_region_and_account() -> None:
    run = run_component(
        {"model_id": f"jp.{HAIKU}", "additional_model_ids": [f"global.{HAIKU}"], "auth": "none"}
    )
    policy = run.one("aws:iam/rolePolicy:RolePolicy", suffix="-bedrock")
    assert json.loads(policy.inputs["policy"]) == bedrock_policy_document(
        [f"jp.{HAIKU}", f"global.{HAIKU}"], REGION, ACCOUNT
    )
    assert policy.inputs["role"] == "chat-role-id"


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_model = st.builds(lambda a, b, v: f"{a}.{b}-v{v}:0", _segment, _segment, st.integers(0, 9))
_prefix = st.sampled_from(["", "us.", "eu.", "jp.", "apac.", "au.", "ca.", "global."])
_model_id = st.builds(lambda prefix, model: prefix + model, _prefix, _model)


@settings(max_examples=200, deadline=None)
@given(st.lists(_model_id, min_size=1, max_size=4))
def test_any_model_list_yields_only_scoped_invoke_statements(model_ids: list[str]) -> None:
    document = bedrock_policy_document(model_ids, REGION, ACCOUNT)
    statements = document["Statement"]
    sids = [statement["Sid"] for statement in statements]
    assert len(sids) == len(set(sids))
    expected = 0
    for model_id in dict.fromkeys(model_ids):
        kind = classify_model_id(model_id).kind
        expected += {"foundation-model": 1, "geographic-profile": 2, "global-profile": 3}[kind]
    assert len(statements) == expected
    for statement in statements:
        assert statement["Action"] == ACTION
        for resource in statement["Resource"]:
            assert resource != "*"
            assert resource.startswith(("arn:aws:bedrock:*::foundation-model/", "arn:aws:bedrock:::foundation-model/",
                                        f"arn:aws:bedrock:{REGION}:"))
            if resource.startswith(("arn:aws:bedrock:*:", "arn:aws:bedrock:::")):
                assert "bedrock:InferenceProfileArn" in statement["Condition"]["StringEquals"]
