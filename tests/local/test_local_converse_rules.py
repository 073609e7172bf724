"""The Bedrock stand-in refuses what ConverseStream refuses, in Bedrock's error shape, and accepts every
documented request field (checked against botocore's bedrock-runtime service model, the oracle)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from streaming_bedrock_api import model_limits
from streaming_bedrock_local import converse_rules
from streaming_bedrock_local.bedrock_standin import BedrockStandin

HAIKU_45 = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
CLAUDE_35_HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
USER = {"role": "user", "content": [{"text": "hello"}]}


def _members(shape: Any) -> frozenset[str]:
    return frozenset(shape.members)


def test_field_lists_accept_everything_the_service_model_has() -> None:
    # Superset, not equality: the lists may know fields newer than the installed botocore (the lowest allowed
    # boto3 ships an older model), and must never refuse a field botocore can send.
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    request = model.operation_model("ConverseStream").input_shape
    assert _members(request) - {"modelId"} <= converse_rules.REQUEST_FIELDS
    assert _members(request.members["messages"].member) <= converse_rules.MESSAGE_FIELDS
    content = request.members["messages"].member.members["content"].member
    assert _members(content) <= converse_rules.CONTENT_BLOCK_MEMBERS
    assert _members(request.members["system"].member) <= converse_rules.SYSTEM_BLOCK_MEMBERS
    nested = {
        "inferenceConfig": converse_rules.INFERENCE_CONFIG_FIELDS,
        "guardrailConfig": converse_rules.GUARDRAIL_CONFIG_FIELDS,
        "toolConfig": converse_rules.TOOL_CONFIG_FIELDS,
        "performanceConfig": converse_rules.PERFORMANCE_CONFIG_FIELDS,
        "outputConfig": converse_rules.OUTPUT_CONFIG_FIELDS,
        "serviceTier": converse_rules.SERVICE_TIER_FIELDS,
    }
    for name, known in nested.items():
        if name in request.members:  # an older botocore may not have the newest members
            assert _members(request.members[name]) <= known, name


@pytest.mark.parametrize(
    ("model_id", "limit"),
    [
        (HAIKU_45, 64_000),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 64_000),
        ("anthropic.claude-opus-4-1-20250805-v1:0", 32_000),
        ("anthropic.claude-sonnet-4-20250514-v1:0", 64_000),
        (CLAUDE_35_HAIKU, None),
        ("amazon.nova-lite-v1:0", None),
    ],
)
def test_output_limits(model_id: str, limit: int | None) -> None:
    # The stand-in enforces the component's table (one table for preview and the stand-in).
    assert model_limits.output_token_limit(model_id) == limit


@pytest.fixture(scope="module")
def standin() -> Iterator[BedrockStandin]:
    with BedrockStandin(pace_seconds=0, answer_tokens=3) as server:
        yield server


def _client(standin: BedrockStandin) -> Any:
    return boto3.client(
        "bedrock-runtime", region_name="ap-northeast-1", endpoint_url=standin.endpoint_url,
        aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
    )


def _converse(standin: BedrockStandin, model_id: str, **request: Any) -> list[dict[str, Any]]:
    return list(_client(standin).converse_stream(modelId=model_id, **request)["stream"])


# (model, request, Bedrock's message) for each rule; the request is valid for botocore, so it reaches the wire.
REFUSED: list[tuple[str, str, dict[str, Any], str]] = [
    ("temperature with topP", HAIKU_45,
     {"messages": [USER], "inferenceConfig": {"temperature": 0.5, "topP": 0.9}},
     "The model returned the following errors: `temperature` and `top_p` cannot both be specified for this "
     "model. Please use only one."),
    ("empty text", HAIKU_45, {"messages": [{"role": "user", "content": [{"text": ""}]}]},
     "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, "
     "and try again."),
    ("whitespace text", HAIKU_45,
     {"messages": [USER, {"role": "assistant", "content": [{"text": "ok"}]},
                   {"role": "user", "content": [{"text": "fine"}, {"text": " \n\t "}]}]},
     "The text field in the ContentBlock object at messages.2.content.1 is blank. Add text to the text field, "
     "and try again."),
    ("assistant first", HAIKU_45, {"messages": [{"role": "assistant", "content": [{"text": "hi"}]}, USER]},
     "A conversation must start with a user message. Try again with a conversation that starts with a user "
     "message."),
    ("two user turns", HAIKU_45, {"messages": [USER, USER]},
     "A conversation must alternate between user and assistant roles. Make sure the conversation alternates "
     "between user and assistant roles and try again."),
    ("maxTokens over the model's limit", HAIKU_45, {"messages": [USER], "inferenceConfig": {"maxTokens": 64_001}},
     "The maximum tokens you requested exceeds the model limit of 64000. Try again with a maximum tokens value "
     "that is lower than 64000."),
    ("temperature above 1", CLAUDE_35_HAIKU, {"messages": [USER], "inferenceConfig": {"temperature": 1.5}},
     "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less "
     "than or equal to 1"),
]


@pytest.mark.parametrize(("model_id", "request_body", "message"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_bedrock_refusals_reach_boto3_as_validation_exception(
    standin: BedrockStandin, model_id: str, request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        _converse(standin, model_id, **request_body)
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["Error"]["Message"] == message
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def _raw_post(standin: BedrockStandin, model_id: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """A signed-looking POST without botocore's client-side validation (a lean client's view of the wire)."""
    request = urllib.request.Request(
        f"{standin.endpoint_url}/model/{model_id}/converse-stream", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/ap-northeast-1/bedrock/aws4_request"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, json.loads(error.read())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": [USER], "topK": 5}, 'Unknown parameter in input: "topK", must be one of: '),
        ({"messages": [USER], "inferenceConfig": {"maxTokens": 5, "topK": 5}},
         'Unknown parameter in inferenceConfig: "topK", must be one of: maxTokens, stopSequences, temperature, topP'),
        ({"messages": [{"role": "user", "content": [{"text": "a"}], "name": "x"}]},
         'Unknown parameter in messages[0]: "name", must be one of: content, role'),
        ({"messages": [{"role": "user", "content": [{"txt": "a"}]}]},
         'Unknown parameter in messages[0].content[0]: "txt", must be one of: '),
        ({"messages": [USER], "guardrailConfig": {"guardrailIdentifier": "g", "mode": "x"}},
         'Unknown parameter in guardrailConfig: "mode"'),
    ],
)
def test_unknown_fields_are_refused_in_bedrocks_error_shape(
    standin: BedrockStandin, body: dict[str, Any], message: str
) -> None:
    status, headers, payload = _raw_post(standin, HAIKU_45, body)
    assert status == 400
    assert headers["x-amzn-errortype"].startswith("ValidationException:")
    assert payload["message"].startswith(message)


def test_every_documented_field_is_accepted(standin: BedrockStandin) -> None:
    events = _converse(
        standin, HAIKU_45,
        messages=[
            USER,
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "thinking", "signature": "sig"}}},
                {"text": "I will call a tool."},
                {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"q": "x"}}},
            ]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"a": 1}}]}},
                                         {"cachePoint": {"type": "default"}}]},
        ],
        system=[{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
        inferenceConfig={"maxTokens": 64_000, "stopSequences": ["END"]},  # no temperature with thinking
        toolConfig={"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}],
                    "toolChoice": {"auto": {}}},
        guardrailConfig={"guardrailIdentifier": "abc123def456", "guardrailVersion": "1", "trace": "enabled",
                         "streamProcessingMode": "async"},
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
        additionalModelResponseFieldPaths=["/stop_sequence"],
        requestMetadata={"tenant": "a"},
        performanceConfig={"latency": "standard"},
    )
    assert {"messageStop": {"stopReason": "end_turn"}} in [
        {k: {kk: vv for kk, vv in v.items() if kk != "p"}} for e in events for k, v in e.items() if k == "messageStop"
    ]


def test_both_sampling_parameters_are_fine_for_models_that_accept_them(standin: BedrockStandin) -> None:
    events = _converse(standin, CLAUDE_35_HAIKU, messages=[USER],
                       inferenceConfig={"maxTokens": 100_000, "temperature": 0.5, "topP": 0.9})
    assert any("messageStop" in e for e in events)
