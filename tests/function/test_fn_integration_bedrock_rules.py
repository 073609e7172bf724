"""Requests Bedrock refuses, driven through the packaged function: the client gets a defined status and body.

Two layers per rule. The function's own guard answers first (400 with its code, no Bedrock call at all). Where
the guard lets a request through (a ``max_tokens`` cap above the model's output limit), or with the guard
taken away (in process, ``parse_event`` replaced), the strict stand-in refuses it the way Bedrock does and the
client gets ``400 invalid_request`` carrying Bedrock's own message.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from bedrock_stream import relay as relay_module
from bedrock_stream.bedrock_events import KNOWN_STOP_REASONS
from bedrock_stream.config import FunctionConfig
from bedrock_stream.contract import InvocationContext
from bedrock_stream.relay import Relay
from bedrock_stream.request import ModelRequest
from botocore.config import Config
from streaming_bedrock_local.bedrock_standin import BedrockStandin, RequestPlan

from .fn_integration_harness import MODEL_ID, Harness, parse_sse, prompt_event, proxy_event, split_response
from .test_fn_unit_relay import RecordingStream

USER = {"role": "user", "content": [{"text": "hello"}]}
ASSISTANT = {"role": "assistant", "content": [{"text": "hi"}]}

# (rule, the client's body, the function's code)
GUARDED: list[tuple[str, dict[str, Any], str]] = [
    ("temperature with top_p", {"prompt": "p", "temperature": 0.5, "top_p": 0.9}, "conflicting_parameters"),
    ("empty text", {"messages": [{"role": "user", "content": ""}]}, "invalid_request"),
    ("whitespace text", {"messages": [{"role": "user", "content": [{"text": " \n\t"}]}]}, "invalid_request"),
    ("assistant first", {"messages": [ASSISTANT, USER]}, "invalid_request"),
    ("two user turns", {"messages": [USER, USER]}, "invalid_request"),
    ("max_tokens over the cap", {"prompt": "p", "max_tokens": 64_001}, "max_tokens_too_large"),
    ("unknown field", {"prompt": "p", "top_k": 5}, "invalid_request"),
]


@pytest.mark.parametrize(("body", "code"), [g[1:] for g in GUARDED], ids=[g[0] for g in GUARDED])
def test_the_function_refuses_before_any_bedrock_call(fn: Harness, body: dict[str, Any], code: str) -> None:
    response = fn.call(proxy_event(json.dumps(body)))
    assert response.status == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    time.sleep(0.1)
    assert fn.model_calls_so_far() == []


def test_a_cap_above_the_models_output_limit_gets_bedrocks_refusal(fresh_harness: Harness) -> None:
    fresh_harness.env_overrides["MAX_TOKENS_CAP"] = "100000"  # what settings now refuse at preview for Haiku 4.5
    fresh_harness.start_function()
    response = fresh_harness.call(prompt_event("p"))  # no max_tokens: the function asks for its cap
    assert response.status == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] == (
        "Bedrock rejected the request: The maximum tokens you requested exceeds the model limit of 64000. Try "
        "again with a maximum tokens value that is lower than 64000."
    )
    [record] = fresh_harness.model_calls(1)
    assert (record.status, record.error_type) == (400, "ValidationException")


# (rule, Converse messages / inference the guard would have refused, Bedrock's message)
UNGUARDED: list[tuple[str, tuple[dict[str, Any], ...], dict[str, float], str]] = [
    ("temperature with top_p", (USER,), {"temperature": 0.5, "top_p": 0.9},
     "The model returned the following errors: `temperature` and `top_p` cannot both be specified for this "
     "model. Please use only one."),
    ("whitespace text", ({"role": "user", "content": [{"text": "  "}]},), {},
     "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, "
     "and try again."),
    ("assistant first", (ASSISTANT, USER), {},
     "A conversation must start with a user message. Try again with a conversation that starts with a user "
     "message."),
    ("two user turns", (USER, USER), {},
     "A conversation must alternate between user and assistant roles. Make sure the conversation alternates "
     "between user and assistant roles and try again."),
]


@pytest.mark.parametrize(("messages", "sampling", "message"), [u[1:] for u in UNGUARDED],
                         ids=[u[0] for u in UNGUARDED])
def test_without_the_guard_bedrock_refuses_and_the_client_gets_its_message(
    monkeypatch: pytest.MonkeyPatch, messages: tuple[dict[str, Any], ...], sampling: dict[str, float], message: str
) -> None:
    request = ModelRequest(messages=messages, max_tokens=100, temperature=sampling.get("temperature"),
                           top_p=sampling.get("top_p"))
    monkeypatch.setattr(relay_module, "parse_event", lambda event, limits: request)
    with BedrockStandin(pace_seconds=0, answer_tokens=3) as standin:
        client = boto3.client(
            "bedrock-runtime", region_name="ap-northeast-1", endpoint_url=standin.endpoint_url,
            aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        lines: list[str] = []
        out = RecordingStream()
        Relay(FunctionConfig(model_id=MODEL_ID), lambda: client, emit=lines.append)(
            {"httpMethod": "POST"}, InvocationContext("req", int(time.time() * 1000) + 30_000), out
        )
        [record] = standin.wait_for_done(1)
    assert out.status == 400
    assert json.loads(out.body) == {"error": {"code": "invalid_request",
                                              "message": f"Bedrock rejected the request: {message}"}}
    assert record.error_type == "ValidationException"
    assert json.loads(lines[0])["bedrock_error"] == "ValidationException"


@pytest.mark.parametrize("reason", [*KNOWN_STOP_REASONS, "a_reason_aws_adds_later"])
def test_every_stop_reason_reaches_the_sse_client(fn: Harness, reason: str) -> None:
    fn.standin.push(RequestPlan(stop_reason=reason))
    invocation = fn.invoke(prompt_event("why did you stop?", sse=True))
    response = split_response(invocation.wait(30))
    assert response.status == 200
    events = parse_sse(response.payload)
    assert events[-1] == ("done", {"stop_reason": reason})
    assert [name for name, _ in events if name == "done"] == ["done"]
    assert fn.log_for(invocation.request_id)["stop_reason"] == reason


@pytest.mark.parametrize("reason", ["guardrail_intervened", "model_context_window_exceeded"])
def test_a_plain_text_client_gets_the_text_and_the_log_keeps_the_reason(fn: Harness, reason: str) -> None:
    fn.standin.push(RequestPlan(stop_reason=reason))
    invocation = fn.invoke(prompt_event("plain"))
    response = split_response(invocation.wait(30))
    assert response.status == 200 and response.payload
    assert fn.log_for(invocation.request_id)["stop_reason"] == reason
