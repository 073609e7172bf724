"""Relay edge cases, in process: a recording ResponseStream and a scripted client at the botocore boundary.

The real boundary (botocore parsing the wire format, the Runtime API) is covered by the integration tests;
these pin down ordering and status decisions that are hard to reach through the stand-in.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from bedrock_stream.config import FunctionConfig
from bedrock_stream.contract import ClientDisconnected, InvocationContext
from bedrock_stream.relay import Relay
from botocore.exceptions import ClientError, EventStreamError


class RecordingStream:
    def __init__(self, fail_on_write: int | None = None) -> None:
        self.started = False
        self.calls: list[tuple[Any, ...]] = []
        self.fail_on_write = fail_on_write
        self.writes = 0

    def start(self, status: int, headers: Mapping[str, str], cookies: Sequence[str] = ()) -> None:
        assert not self.started
        self.started = True
        self.calls.append(("start", status, dict(headers)))

    def write(self, data: bytes) -> None:
        assert self.started
        self.writes += 1
        if self.fail_on_write is not None and self.writes >= self.fail_on_write:
            raise ClientDisconnected("gone")
        self.calls.append(("write", data))

    def fail(self, error_type: str, message: str) -> None:
        self.calls.append(("fail", error_type, message))

    @property
    def status(self) -> int:
        return int(self.calls[0][1])

    @property
    def body(self) -> bytes:
        return b"".join(c[1] for c in self.calls if c[0] == "write")


class ScriptedStream:
    """Yields events, sleeping before some; records close()."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        for item in self.script:
            if self.closed.is_set():
                return
            if isinstance(item, float):
                self.closed.wait(item)
                continue
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.closed.set()


class ScriptedClient:
    def __init__(self, script: list[Any] | BaseException) -> None:
        self.script = script
        self.stream: ScriptedStream | None = None
        self.calls: list[dict[str, Any]] = []

    def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if isinstance(self.script, BaseException):
            raise self.script
        self.stream = ScriptedStream(self.script)
        return {"stream": self.stream}


def delta(text: str) -> dict[str, Any]:
    return {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}


STOP = {"messageStop": {"stopReason": "end_turn"}}
USAGE = {"metadata": {"usage": {"inputTokens": 2, "outputTokens": 3, "totalTokens": 5}}}


def run(client: ScriptedClient, *, sse: bool = False, remaining_ms: int = 60_000, heartbeat: float = 10.0,
        stream: RecordingStream | None = None) -> tuple[RecordingStream, dict[str, Any]]:
    config = FunctionConfig(model_id="m", max_tokens_cap=50, heartbeat_seconds=heartbeat, deadline_margin_ms=100)
    lines: list[str] = []
    relay = Relay(config, lambda: client, emit=lines.append)
    event = {"httpMethod": "POST", "headers": {"Accept": "text/event-stream"} if sse else {},
             "body": json.dumps({"prompt": "p"})}
    context = InvocationContext("req", int(time.time() * 1000) + remaining_ms)
    out = stream or RecordingStream()
    relay(event, context, out)
    return out, json.loads(lines[0])


def test_text_answer_commits_200_with_the_first_delta_and_relays_each_as_a_write() -> None:
    out, log = run(ScriptedClient([{"messageStart": {"role": "assistant"}}, delta("a"), delta("b"), STOP, USAGE]))
    assert [c[0] for c in out.calls] == ["start", "write", "write"]
    assert out.status == 200 and out.body == b"ab"
    assert (log["status"], log["stop_reason"], log["input_tokens"], log["output_tokens"]) == (200, "end_turn", 2, 3)


def test_sse_usage_comes_before_done_even_though_bedrock_sends_stop_first() -> None:
    out, _ = run(ScriptedClient([delta("a"), STOP, USAGE]), sse=True)
    assert out.body == (
        b'event: delta\ndata: {"text":"a"}\n\n'
        b'event: usage\ndata: {"input_tokens":2,"output_tokens":3,"total_tokens":5'
        b',"cache_read_input_tokens":0,"cache_write_input_tokens":0}\n\n'
        b'event: done\ndata: {"stop_reason":"end_turn"}\n\n'
    )


def test_empty_answer_is_an_empty_200_not_an_error() -> None:
    out, log = run(ScriptedClient([STOP, USAGE]))
    assert out.calls == [("start", 200, out.calls[0][2])] and log["status"] == 200


def test_in_stream_error_before_any_text_still_gets_its_http_status() -> None:
    error = EventStreamError({"Error": {"Code": "throttlingException", "Message": "x"}}, "ConverseStream")
    out, log = run(ScriptedClient([{"messageStart": {"role": "assistant"}}, error]))
    assert out.status == 429 and out.calls[0][2]["Retry-After"] == "2"
    assert json.loads(out.body) == {
        "error": {"code": "throttled", "message": "Bedrock is throttling requests; retry after a short wait"}}
    assert log["error_code"] == "throttled" and log["bedrock_error"] == "throttlingException"


def test_pre_stream_client_error_gets_its_status() -> None:
    out, _ = run(ScriptedClient(ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                                            "ConverseStream")))
    assert out.status == 502 and json.loads(out.body)["error"]["code"] == "bedrock_access_denied"


def test_error_after_text_is_a_trailer_in_text_mode_and_an_event_in_sse() -> None:
    error = EventStreamError({"Error": {"Code": "modelStreamErrorException", "Message": "x"}}, "ConverseStream")
    out, log = run(ScriptedClient([delta("a"), error]))
    assert out.calls[-1] == ("fail", "model_error", "the model failed while generating; retry the request")
    assert log["status"] == 200 and log["error_code"] == "model_error"
    out, _ = run(ScriptedClient([delta("a"), error]), sse=True)
    assert out.body.endswith(b'event: error\ndata: {"code":"model_error","message":"the model failed while '
                             b'generating; retry the request","retryable":true}\n\n')


def test_stream_ending_without_a_stop_reason_is_reported_not_passed_off_as_complete() -> None:
    out, _ = run(ScriptedClient([delta("a")]), sse=True)
    assert b'"code":"incomplete_stream"' in out.body and b"event: done" not in out.body
    out, _ = run(ScriptedClient([USAGE]))
    assert out.status == 502


def test_deadline_before_any_output_is_504_and_closes_the_bedrock_stream() -> None:
    client = ScriptedClient([5.0, delta("late"), STOP])
    started = time.monotonic()
    out, log = run(client, remaining_ms=300)  # 300 ms left, 100 ms margin → stop after ~200 ms
    assert time.monotonic() - started < 2.0
    assert out.status == 504 and log["timed_out"] is True
    assert client.stream is not None and client.stream.closed.is_set()


def test_deadline_after_output_ends_sse_with_done_timeout() -> None:
    out, log = run(ScriptedClient([delta("a"), 5.0, delta("b"), STOP]), sse=True, remaining_ms=300)
    assert out.body.endswith(b'event: done\ndata: {"stop_reason":"timeout"}\n\n')
    assert b'"b"' not in out.body and log["stop_reason"] == "timeout"


def test_heartbeats_fill_silence_and_a_later_error_is_an_sse_event() -> None:
    error = EventStreamError({"Error": {"Code": "throttlingException", "Message": "x"}}, "ConverseStream")
    out, _ = run(ScriptedClient([0.6, error]), sse=True, heartbeat=0.1)
    assert out.status == 200
    heartbeats, _, rest = out.body.partition(b"event:")
    assert heartbeats.count(b": keep-alive\n\n") >= 2 and heartbeats.replace(b": keep-alive\n\n", b"") == b""
    assert rest.startswith(b" error\n")
    assert out.body.endswith(b'"retryable":true}\n\n')


def test_no_heartbeats_in_plain_text() -> None:
    out, _ = run(ScriptedClient([0.3, delta("a"), STOP]), heartbeat=0.05)
    assert out.body == b"a"


def test_disconnect_stops_consuming_and_closes_the_bedrock_stream() -> None:
    client = ScriptedClient([delta("a"), delta("b"), 5.0, delta("c"), STOP])
    _, log = run(client, stream=RecordingStream(fail_on_write=2))
    assert log["disconnected"] is True and log["deltas"] == 2
    assert client.stream is not None and client.stream.closed.is_set()


def test_client_build_failure_is_a_500_with_a_pointer_to_the_logs() -> None:
    def broken() -> Any:
        raise RuntimeError("no region")

    config = FunctionConfig(model_id="m")
    relay = Relay(config, broken, emit=lambda line: None)
    out = RecordingStream()
    relay({"body": '{"prompt": "p"}'}, InvocationContext("r", int(time.time() * 1000) + 60_000), out)
    assert out.status == 500 and json.loads(out.body)["error"]["code"] == "function_init_failed"


def test_invalid_request_never_touches_the_client() -> None:
    client = ScriptedClient([STOP])
    config = FunctionConfig(model_id="m", max_tokens_cap=50)
    out = RecordingStream()
    Relay(config, lambda: client, emit=lambda line: None)(
        {"body": '{"prompt": "p", "max_tokens": 51}'}, InvocationContext("r", int(time.time() * 1000) + 60_000), out)
    assert out.status == 400 and client.calls == []


@pytest.mark.parametrize("sse", [False, True])
def test_converse_arguments_carry_the_configured_model_and_cap(sse: bool) -> None:
    client = ScriptedClient([STOP])
    run(client, sse=sse)
    assert client.calls == [{"modelId": "m", "messages": [{"role": "user", "content": [{"text": "p"}]}],
                             "inferenceConfig": {"maxTokens": 50}}]
