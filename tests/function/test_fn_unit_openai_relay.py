"""The OpenAI routes inside the relay: dispatch by resource, late status, in-band errors, non-stream, models."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from bedrock_stream.config import FunctionConfig
from bedrock_stream.contract import InvocationContext
from bedrock_stream.openai_relay import openai_route
from bedrock_stream.relay import Relay
from botocore.exceptions import ClientError, EventStreamError

from tests.function.test_fn_unit_relay import STOP, USAGE, RecordingStream, ScriptedClient, delta

MODEL = "m"
CHAT = "/openai/v1/chat/completions"


def run(client: ScriptedClient, body: dict[str, Any] | None = None, *, resource: str = CHAT,
        method: str = "POST", remaining_ms: int = 60_000, heartbeat: float = 10.0,
        thinking: int | None = None) -> tuple[RecordingStream, dict[str, Any]]:
    config = FunctionConfig(model_id=MODEL, max_tokens_cap=50, heartbeat_seconds=heartbeat, deadline_margin_ms=100,
                            openai_model_ids=(MODEL, "other"), openai_model_alias="default",
                            thinking_budget_tokens=thinking)
    lines: list[str] = []
    relay = Relay(config, lambda: client, emit=lines.append)
    event = {"resource": resource, "path": resource, "httpMethod": method, "headers": {"Origin": "https://a.b"},
             "body": json.dumps(body) if body is not None else None}
    out = RecordingStream()
    relay(event, InvocationContext("req", int(time.time() * 1000) + remaining_ms), out)
    return out, json.loads(lines[0])


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "default", "messages": [{"role": "user", "content": "hi"}], **extra}


def data_lines(body: bytes) -> list[str]:
    return [e[len("data: "):] for e in body.decode().split("\n\n") if e.startswith("data: ")]


def test_dispatch_by_resource_suffix() -> None:
    assert openai_route({"resource": "/v1/chat/completions"}) == "chat"
    assert openai_route({"resource": "/x/v1/models"}) == "models"
    assert openai_route({"resource": "/stream"}) is None and openai_route("junk") is None


def test_stream_commits_200_with_first_chunk_and_ends_with_done() -> None:
    client = ScriptedClient([{"messageStart": {"role": "assistant"}}, delta("a"), delta("b"), STOP, USAGE])
    out, log = run(client, chat(stream=True, stream_options={"include_usage": True}))
    assert client.calls[0]["modelId"] == MODEL
    assert out.status == 200 and out.calls[0][2]["Content-Type"].startswith("text/event-stream")
    assert out.calls[0][2]["Access-Control-Allow-Origin"] == "*"
    payloads = data_lines(out.body)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:2]] == ["a", "b"]
    assert chunks[2]["choices"][0]["finish_reason"] == "stop" and chunks[3]["usage"]["total_tokens"] == 5
    assert chunks[0]["model"] == "default"
    assert (log["status"], log["output_format"], log["deltas"], log["model"]) == (200, "openai-sse", 2, MODEL)


def test_throttling_before_first_byte_is_a_429_with_retry_after() -> None:
    error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "ConverseStream")
    out, log = run(ScriptedClient(error), chat(stream=True))
    assert out.status == 429 and out.calls[0][2]["Retry-After"] == "2"
    assert out.calls[0][2]["x-should-retry"] == "true"
    assert json.loads(out.body)["error"]["type"] == "rate_limit_error" and log["error_code"] == "throttled"


def test_access_denied_says_do_not_retry() -> None:
    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "x"}}, "ConverseStream")
    out, _ = run(ScriptedClient(error), chat())
    assert out.status == 502 and out.calls[0][2]["x-should-retry"] == "false"
    assert json.loads(out.body)["error"]["code"] == "bedrock_access_denied"


def test_mid_stream_error_is_a_data_error_line_without_done() -> None:
    error = EventStreamError({"Error": {"Code": "modelStreamErrorException", "Message": "x"}}, "ConverseStream")
    out, log = run(ScriptedClient([delta("a"), error]), chat(stream=True))
    payloads = data_lines(out.body)
    assert out.status == 200 and "[DONE]" not in payloads
    assert json.loads(payloads[-1]) == {"error": {"message": "the model failed while generating; retry the request",
                                                  "type": "server_error", "param": None, "code": "model_error"}}
    assert log["error_code"] == "model_error" and log["status"] == 200


def test_non_stream_is_one_completion_and_errors_keep_their_status() -> None:
    out, log = run(ScriptedClient([delta("a"), delta("b"), STOP, USAGE]), chat())
    body = json.loads(out.body)
    assert out.status == 200 and out.calls[0][2]["Content-Type"] == "application/json"
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == "ab"
    assert log["output_format"] == "openai-json"
    error = EventStreamError({"Error": {"Code": "throttlingException", "Message": "x"}}, "ConverseStream")
    out, _ = run(ScriptedClient([delta("a"), error]), chat())
    assert out.status == 429


def test_heartbeat_is_an_sse_comment() -> None:
    out, _ = run(ScriptedClient([0.3, delta("a"), STOP, USAGE]), chat(stream=True), heartbeat=0.1)
    assert out.body.startswith(b": keep-alive\n\n")


def test_deadline_before_output_is_504_and_after_it_finishes_with_length() -> None:
    out, log = run(ScriptedClient([5.0, delta("a")]), chat(stream=True), remaining_ms=300)
    assert out.status == 504 and log["timed_out"]
    out, _ = run(ScriptedClient([delta("a"), 5.0, delta("b")]), chat(stream=True), remaining_ms=300)
    chunks = [json.loads(p) for p in data_lines(out.body)[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length" and data_lines(out.body)[-1] == "[DONE]"


def test_bad_request_never_calls_bedrock() -> None:
    client = ScriptedClient([STOP])
    out, log = run(client, {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert out.status == 400 and client.calls == [] and log["error_code"] == "model_not_found"
    assert json.loads(out.body)["error"]["param"] == "model"


def test_models_route_and_methods() -> None:
    out, _ = run(ScriptedClient([]), resource="/v1/models", method="GET")
    assert out.status == 200 and [m["id"] for m in json.loads(out.body)["data"]] == [MODEL, "other", "default"]
    out, _ = run(ScriptedClient([]), resource="/v1/models", method="POST")
    assert out.status == 405 and out.calls[0][2]["Allow"] == "GET, OPTIONS"
    out, _ = run(ScriptedClient([]), chat(), method="GET")
    assert out.status == 405 and json.loads(out.body)["error"]["code"] == "method_not_allowed"
    out, _ = run(ScriptedClient([]), method="OPTIONS")
    assert out.status == 204


@pytest.mark.parametrize("route", ["openai", "native"])
def test_thinking_budget_goes_into_the_request(route: str) -> None:
    client = ScriptedClient([delta("a"), STOP, USAGE])
    config = FunctionConfig(model_id=MODEL, max_tokens_cap=5000, thinking_budget_tokens=1024)
    relay = Relay(config, lambda: client, emit=lambda line: None)
    body = chat(model=MODEL) if route == "openai" else {"prompt": "p"}
    event = {"resource": CHAT if route == "openai" else "/stream", "httpMethod": "POST", "body": json.dumps(body)}
    relay(event, InvocationContext("r", int(time.time() * 1000) + 60_000), RecordingStream())
    assert client.calls[0]["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    out = RecordingStream()
    event["body"] = json.dumps({**body, "temperature": 0.3})
    relay(event, InvocationContext("r", int(time.time() * 1000) + 60_000), out)
    assert out.status == 400 and len(client.calls) == 1
