"""The guardrail in the function: configuration, guardrailConfig on the call, and the SSE end of an intervention."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from bedrock_stream.config import ConfigError, FunctionConfig, load_config
from bedrock_stream.contract import InvocationContext
from bedrock_stream.guardrail import GuardrailConfig, load_guardrail, with_guardrail
from bedrock_stream.relay import Relay
from botocore.session import get_session

from .test_fn_unit_relay import RecordingStream, ScriptedClient, delta

BASE = {"BEDROCK_MODEL_ID": "m", "AWS_REGION": "ap-northeast-1"}


def test_the_call_carries_exactly_bedrocks_guardrail_fields() -> None:
    guardrail = load_guardrail({"GUARDRAIL_IDENTIFIER": "abc123", "GUARDRAIL_VERSION": "4",
                                "GUARDRAIL_STREAM_PROCESSING_MODE": "async", "GUARDRAIL_TRACE": "enabled"})
    arguments = with_guardrail({"modelId": "m"}, guardrail)
    # botocore's service model is the oracle for the field names and values.
    shape = get_session().get_service_model("bedrock-runtime").operation_model("ConverseStream").input_shape
    members = shape.members["guardrailConfig"].members
    assert set(arguments["guardrailConfig"]) <= set(members)
    assert arguments["guardrailConfig"] == {"guardrailIdentifier": "abc123", "guardrailVersion": "4",
                                           "streamProcessingMode": "async", "trace": "enabled"}
    assert arguments["guardrailConfig"]["streamProcessingMode"] in members["streamProcessingMode"].enum
    assert with_guardrail({"modelId": "m"}, None) == {"modelId": "m"}
    assert load_config(BASE).guardrail is None


@pytest.mark.parametrize(
    "env",
    [{"GUARDRAIL_IDENTIFIER": "abc"}, {"GUARDRAIL_IDENTIFIER": "abc", "GUARDRAIL_VERSION": "1",
                                       "GUARDRAIL_TRACE": "loud"},
     {"GUARDRAIL_IDENTIFIER": "abc", "GUARDRAIL_VERSION": "1", "GUARDRAIL_STREAM_PROCESSING_MODE": "x"}],
)
def test_a_bad_guardrail_environment_fails_init(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="GUARDRAIL_"):
        load_config({**BASE, **env})


def _guarded_run(trace: str, accept: str) -> tuple[RecordingStream, ScriptedClient, list[str]]:
    metadata: dict[str, Any] = {"usage": {"inputTokens": 4, "outputTokens": 1, "totalTokens": 5},
                                "metrics": {"latencyMs": 1}}
    if trace != "disabled":
        metadata["trace"] = {"guardrail": {"inputAssessment": {"abc": {"topicPolicy": {"topics": []}}}}}
    client = ScriptedClient([delta("Blocked."), {"messageStop": {"stopReason": "guardrail_intervened"}},
                             {"metadata": metadata}])
    lines: list[str] = []
    config = FunctionConfig(model_id="m", guardrail=GuardrailConfig("abc", "1", "sync", trace))
    stream = RecordingStream()
    event = {"httpMethod": "POST", "headers": {"accept": accept}, "body": json.dumps({"prompt": "q"})}
    Relay(config, lambda: client, emit=lines.append)(event, InvocationContext("r", int(time.time() * 1000) + 60_000),
                                                     stream)
    return stream, client, lines


def test_an_intervention_ends_the_sse_stream_clearly_with_the_trace() -> None:
    stream, client, lines = _guarded_run("enabled", "text/event-stream")
    assert client.calls[0]["guardrailConfig"]["guardrailIdentifier"] == "abc"
    body = stream.body.decode()
    events = [block.split("\n") for block in body.strip().split("\n\n")]
    names = [lines_[0].removeprefix("event: ") for lines_ in events]
    assert names == ["delta", "guardrail", "usage", "done"]
    assert json.loads(events[1][1].removeprefix("data: "))["trace"]["inputAssessment"]["abc"]
    assert json.loads(events[-1][1].removeprefix("data: ")) == {"stop_reason": "guardrail_intervened"}
    log = json.loads(lines[0])
    assert log["stop_reason"] == "guardrail_intervened" and "inputAssessment" not in lines[0]


def test_without_tracing_no_trace_event_and_plain_text_just_ends() -> None:
    stream, _, _ = _guarded_run("disabled", "text/event-stream")
    assert b"event: guardrail" not in stream.body and b'"stop_reason":"guardrail_intervened"' in stream.body
    text, _, _ = _guarded_run("enabled", "text/plain")
    assert text.status == 200 and text.body == b"Blocked."
