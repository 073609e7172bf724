"""Per-model request rules the function applies before any Bedrock call (temperature + top_p), and the stop
reasons and access-denied advice the client gets."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from bedrock_stream.bedrock_events import (
    KNOWN_STOP_REASONS,
    Stop,
    classify_error_code,
    map_stream_event,
)
from bedrock_stream.config import FunctionConfig
from bedrock_stream.contract import InvocationContext
from bedrock_stream.model_rules import claude_version, temperature_and_top_p_exclusive
from bedrock_stream.relay import Relay

from .test_fn_unit_relay import RecordingStream, ScriptedClient, delta

HAIKU_45 = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.mark.parametrize(
    ("model_id", "version", "exclusive"),
    [
        (HAIKU_45, (4, 5), True),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", (4, 5), True),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", (4, 5), True),
        ("anthropic.claude-opus-4-1-20250805-v1:0", (4, 1), True),
        ("global.anthropic.claude-opus-4-5-20251101-v1:0", (4, 5), True),
        ("anthropic.claude-sonnet-4-6", (4, 6), True),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", (4, 0), False),
        ("anthropic.claude-opus-4-20250514-v1:0", (4, 0), False),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", None, False),
        ("anthropic.claude-3-7-sonnet-20250219-v1:0", None, False),
        ("amazon.nova-lite-v1:0", None, False),
        ("meta.llama3-8b-instruct-v1:0", None, False),
    ],
)
def test_the_sampling_rule_follows_the_model_family(
    model_id: str, version: tuple[int, int] | None, exclusive: bool
) -> None:
    assert claude_version(model_id) == version
    assert temperature_and_top_p_exclusive(model_id) is exclusive


def _serve(model_id: str, body: dict[str, Any]) -> tuple[RecordingStream, ScriptedClient, dict[str, Any]]:
    client = ScriptedClient([delta("ok"), {"messageStop": {"stopReason": "end_turn"}}])
    lines: list[str] = []
    relay = Relay(FunctionConfig(model_id=model_id, max_tokens_cap=50), lambda: client, emit=lines.append)
    out = RecordingStream()
    relay({"httpMethod": "POST", "headers": {}, "body": json.dumps(body)},
          InvocationContext("req", int(time.time() * 1000) + 60_000), out)
    return out, client, json.loads(lines[0])


def test_temperature_with_top_p_is_a_400_naming_both_before_any_bedrock_call() -> None:
    out, client, log = _serve(HAIKU_45, {"prompt": "p", "temperature": 0.5, "top_p": 0.9})
    assert out.status == 400 and client.calls == []
    error = json.loads(out.body)["error"]
    assert error["code"] == "conflicting_parameters"
    assert "'temperature'" in error["message"] and "'top_p'" in error["message"]
    assert log["error_code"] == "conflicting_parameters"


@pytest.mark.parametrize(
    ("sampling", "inference"),
    [
        ({"temperature": 0.5}, {"maxTokens": 50, "temperature": 0.5}),
        ({"top_p": 0.9}, {"maxTokens": 50, "topP": 0.9}),
        ({}, {"maxTokens": 50}),
    ],
)
def test_one_sampling_parameter_is_forwarded(sampling: dict[str, float], inference: dict[str, Any]) -> None:
    out, client, _ = _serve(HAIKU_45, {"prompt": "p", **sampling})
    assert out.status == 200
    assert client.calls[0]["inferenceConfig"] == inference


def test_models_that_accept_both_still_get_both() -> None:
    out, client, _ = _serve("anthropic.claude-3-5-haiku-20241022-v1:0", {"prompt": "p", "temperature": 0.5,
                                                                          "top_p": 0.9})
    assert out.status == 200
    assert client.calls[0]["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.5, "topP": 0.9}


@pytest.mark.parametrize("reason", [*KNOWN_STOP_REASONS, "some_reason_added_later"])
def test_every_stop_reason_passes_through_verbatim(reason: str) -> None:
    assert map_stream_event({"messageStop": {"stopReason": reason}}) == Stop(reason)


def test_all_nine_documented_stop_reasons_are_known() -> None:
    assert set(KNOWN_STOP_REASONS) == {
        "end_turn", "max_tokens", "stop_sequence", "tool_use", "guardrail_intervened", "content_filtered",
        "malformed_model_output", "malformed_tool_use", "model_context_window_exceeded",
    }


def test_access_denied_gives_the_current_model_access_steps_not_the_retired_console_page() -> None:
    failure = classify_error_code("AccessDeniedException", "no", HAIKU_45)
    assert failure.status == 502 and failure.code == "bedrock_access_denied"
    assert "Model access" not in failure.message and "model access" not in failure.message
    assert "first-time-use form" in failure.message and "Marketplace" in failure.message
    assert "bedrock:InvokeModelWithResponseStream" in failure.message and HAIKU_45 in failure.message
