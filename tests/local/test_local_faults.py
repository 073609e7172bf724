"""How the local gateway and Lambda emulator treat a misbehaving function: malformed metadata, crashes, handler
errors, deadlines, idle streams. The function is the real runtime (exec wrapper, Runtime API loop) with a test
handler that misbehaves on purpose, packed by the same zip builder the component uses."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streaming_bedrock_api.settings import function_environment, resolve_settings
from streaming_bedrock_local.invocation import Chunk, Finished, InvokeFailed
from streaming_bedrock_local.lambda_pool import LambdaPool, PoolOptions

from .conftest import APP_ORIGIN, MODEL, RunningStack, StreamResult, copy_function_with, request, running_stack

# Runs inside the worker processes. ``?mode=`` picks the misbehaviour.
TEST_HANDLERS = r'''
"""Handlers that break the streaming contract on purpose (local stack tests only)."""
import json
import os
import time

from bedrock_stream import framing


def _raw(stream, data):
    # Bypass stream.start() so the metadata can be anything.
    stream.started = True
    stream._send(framing.streaming_response_head(stream._request_id, stream._connection.host_header)
                 + framing.encode_chunk(data))


def handle(event, context, stream):
    mode = (event.get("queryStringParameters") or {}).get("mode", "echo")
    if mode == "echo":
        stream.start(200, {"Content-Type": "application/json", "X-Multi": "a"}, cookies=["c=1"])
        stream.write(json.dumps(event).encode())
    elif mode == "bad_json":
        _raw(stream, b'{"statusCode": 200, "headers": ' + b"\x00" * 8 + b"payload")
    elif mode == "bad_key":
        _raw(stream, b'{"statusCode": 200, "body": "x"}' + b"\x00" * 8 + b"payload")
    elif mode == "no_delimiter":
        _raw(stream, b'{"statusCode": 200, "headers": {"X": "' + b"a" * 17000)
        time.sleep(0.5)
        stream.end()
    elif mode == "short_then_end":
        _raw(stream, b'{"statusCode": 200}')
    elif mode == "status":
        stream.start(418, {"Content-Type": "text/plain"})
        stream.write(b"teapot")
    elif mode == "crash_before":
        os._exit(3)
    elif mode == "crash_mid":
        stream.start(200, {"Content-Type": "text/plain"})
        stream.write(b"partial")
        time.sleep(0.2)
        os._exit(4)
    elif mode == "raise":
        raise ValueError("handler blew up")
    elif mode == "sleep":
        time.sleep(30)
    elif mode == "stall":
        stream.start(200, {"Content-Type": "text/plain"})
        stream.write(b"first")
        time.sleep(30)
    elif mode == "drip":
        stream.start(200, {"Content-Type": "text/plain"})
        for _ in range(100):
            stream.write(b".")
            time.sleep(0.05)
    elif mode == "aws_env":
        stream.start(200, {"Content-Type": "application/json"})
        stream.write(json.dumps({k: v for k, v in os.environ.items() if k.startswith("AWS_")}).encode())
    elif mode == "trailers":
        stream.start(200, {"Content-Type": "text/plain"})
        stream.write(b"some")
        stream.fail("Function.Boom", "failed after the first byte")
'''


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    tmp = tmp_path_factory.mktemp("faulty")
    source = copy_function_with(tmp, {"local_test_handlers.py": TEST_HANDLERS})
    with running_stack(
        tmp,
        settings={"auth": "none", "allowed_origins": [APP_ORIGIN]},
        source_dir=source,
        handler="local_test_handlers.handle",
        concurrency=2,
        timeout_s=2.0,
        gateway={"idle_timeout_s": 0.6},
    ) as running:
        yield running


def _replaced(stack: RunningStack, expected: int, timeout: float = 15.0) -> int:
    """Wait for the pool's replacement count to reach ``expected`` (the watcher restarts workers in the background)."""
    deadline = time.monotonic() + timeout
    while stack.pool.replacements < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return stack.pool.replacements


def _call(stack: RunningStack, mode: str, timeout: float = 30.0) -> StreamResult:
    headers = {"Content-Type": "application/json", "Origin": APP_ORIGIN}
    return request(f"{stack.url}?mode={mode}", b'{"x": 1}', headers, timeout=timeout)


def test_echo_event_shape(faulty: RunningStack) -> None:
    raw = b"\xff\xfe binary"
    result = request(
        f"{faulty.url}?mode=echo&a=1&a=2",
        raw,
        {"Content-Type": "application/octet-stream", "X-Test": "yes", "User-Agent": "t/1"},
    )
    assert result.status == 200 and result.complete
    assert result.header_values("Set-Cookie") == ["c=1"]
    event = result.json()
    assert event["resource"] == "/stream" and event["path"] == "/stream"
    assert event["httpMethod"] == "POST"
    assert event["requestContext"]["path"] == "/prod/stream"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["identity"]["userAgent"] == "t/1"
    assert event["requestContext"]["requestId"] == result.header("x-amzn-RequestId")
    assert event["headers"]["X-Test"] == "yes"
    assert event["queryStringParameters"] == {"mode": "echo", "a": "2"}
    assert event["multiValueQueryStringParameters"]["a"] == ["1", "2"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == raw


def test_function_status_passes_through(faulty: RunningStack) -> None:
    result = _call(faulty, "status")
    assert result.status == 418 and result.body == b"teapot" and result.complete


@pytest.mark.parametrize("mode", ["bad_json", "bad_key", "no_delimiter", "short_then_end"])
def test_malformed_metadata_is_500_with_cors(faulty: RunningStack, mode: str) -> None:
    result = _call(faulty, mode)
    assert result.status == 500
    assert result.json() == {"message": "Internal server error"}
    assert result.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]


def test_handler_exception_is_502_and_next_request_is_served(faulty: RunningStack) -> None:
    result = _call(faulty, "raise")
    assert result.status == 502 and result.json() == {"message": "Internal server error"}
    assert _call(faulty, "status").status == 418


def test_crash_before_response_replaces_the_worker(faulty: RunningStack) -> None:
    replaced = faulty.pool.replacements
    result = _call(faulty, "crash_before")
    assert result.status == 502
    assert _replaced(faulty, replaced + 1) == replaced + 1
    for _ in range(3):  # every worker slot serves again
        assert _call(faulty, "status").status == 418


def test_crash_mid_stream_ends_the_client_response_abnormally(faulty: RunningStack) -> None:
    replaced = faulty.pool.replacements
    result = _call(faulty, "crash_mid")
    assert result.status == 200
    assert result.body == b"partial" and not result.complete
    assert _replaced(faulty, replaced + 1) == replaced + 1
    assert _call(faulty, "status").status == 418


def test_error_trailers_end_the_client_response_abnormally(faulty: RunningStack) -> None:
    result = _call(faulty, "trailers")
    assert result.status == 200
    assert result.body == b"some" and not result.complete


def test_deadline_kills_and_replaces_the_worker(faulty: RunningStack) -> None:
    replaced = faulty.pool.replacements
    result = _call(faulty, "sleep", timeout=20)
    assert result.status == 502
    assert _replaced(faulty, replaced + 1) == replaced + 1
    assert _call(faulty, "status").status == 418


def test_idle_stream_is_cut(faulty: RunningStack, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="streaming_bedrock_local.gateway"):
        result = _call(faulty, "stall", timeout=20)
        outcome = _logged_outcome(caplog, result.header("x-amzn-RequestId"))
    assert result.status == 200
    assert result.body == b"first" and not result.complete
    # Cut by the 0.6 s idle limit, well before the 2 s function deadline would kill the worker (which looks the
    # same to the client): the response ended early, and the gateway says why.
    assert result.ended_at - result.started_at < 1.7
    assert outcome == "idle_timeout"


def _logged_outcome(caplog: pytest.LogCaptureFixture, request_id: str | None) -> object:
    """The gateway's logged outcome of request ``request_id``, once its line is there (it may trail the client a
    moment, and a line of an earlier test's request may arrive in between)."""
    assert request_id
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "streaming_bedrock_local.gateway"]
        mine = [line for line in lines if line.get("requestId") == request_id]
        if mine or time.monotonic() > deadline:
            return mine[-1].get("outcome") if mine else None
        time.sleep(0.01)


def test_gateway_log_line_per_request(faulty: RunningStack, caplog: pytest.LogCaptureFixture) -> None:
    def lines() -> list[dict[str, object]]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "streaming_bedrock_local.gateway"]

    with caplog.at_level("INFO", logger="streaming_bedrock_local.gateway"):
        _call(faulty, "bad_key")
        # The line is written once the response is out, so it may trail the client by a moment.
        deadline = time.monotonic() + 5
        while not lines() and time.monotonic() < deadline:
            time.sleep(0.01)
    logged = lines()
    assert logged and logged[-1]["status"] == 500 and logged[-1]["outcome"] == "invalid_metadata"
    assert "body" in str(logged[-1]["error"])


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Short gateway limits: 0.8 s integration timeout (time to the metadata), 1.5 s per stream."""
    tmp = tmp_path_factory.mktemp("limited")
    source = copy_function_with(tmp, {"local_test_handlers.py": TEST_HANDLERS})
    with running_stack(
        tmp,
        settings={"auth": "none", "integration_timeout_ms": 800, "timeout_seconds": 10},
        source_dir=source,
        handler="local_test_handlers.handle",
        concurrency=2,
        gateway={"stream_limit_s": 1.5},
    ) as running:
        yield running


def test_stream_time_limit_cuts_a_long_stream(limited: RunningStack) -> None:
    result = _call(limited, "drip")
    assert result.status == 200 and not result.complete
    assert result.body and set(result.body) == {ord(".")} and len(result.body) < 100
    duration = result.chunks[-1][0] - result.started_at
    assert 1.0 < duration < 4.0


def test_integration_timeout_before_metadata_is_504(limited: RunningStack) -> None:
    result = _call(limited, "sleep")
    assert result.status == 504 and result.json() == {"message": "Endpoint request timed out"}
    assert result.chunks[-1][0] - result.started_at < 5.0


def test_a_replacement_due_just_as_stop_begins_is_never_started() -> None:
    """The race: a watcher whose backoff ends just before stop() sets its flag. The hook makes that moment
    deterministic: the watcher's backoff wait runs stop() up to its kills, then returns "not stopping"."""
    environment = function_environment(resolve_settings({"model_id": MODEL}))
    pool = LambdaPool(PoolOptions(environment=environment, region="ap-northeast-1", concurrency=1,
                                  output=subprocess.DEVNULL))  # fmt: skip
    pool.start()
    stopper = threading.Thread(target=pool.stop, name="stopper")
    kills_done, stop_began = threading.Event(), threading.Event()
    api_stop = pool.api.stop

    def api_stop_after_kills() -> None:  # stop() calls this once it has killed every registered worker
        kills_done.set()
        api_stop()

    class BackoffEndsAsStopBegins(threading.Event):
        fired = False

        def wait(self, timeout: float | None = None) -> bool:
            if threading.current_thread().name.startswith("watch-") and not self.fired:
                self.fired = True
                stopper.start()
                stop_began.set()
                assert kills_done.wait(10)
                return False
            return super().wait(timeout)

    try:
        pool.wait_ready(timeout=30)
        pool.api.stop = api_stop_after_kills  # type: ignore[method-assign]
        pool._stopping = BackoffEndsAsStopBegins()
        (original,) = pool.worker_pids
        os.kill(original, signal.SIGKILL)  # the watcher wakes, backs off ... and stop() begins
        assert stop_began.wait(15)
        stopper.join(timeout=15)
        assert not stopper.is_alive()
        # No process started after stop() killed the workers (one would run on in a deleted task root).
        assert pool.worker_pids == [original]
        assert pool.replacements == 0
    finally:
        for worker in pool._workers.values():
            if worker.process is not None and worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        if not stopper.is_alive() and not pool._stopping.is_set():
            pool.stop()



@pytest.mark.parametrize("forward", [False, True])
def test_workers_get_the_developers_aws_credentials_only_when_told(
    forward: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in USERS_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    source = copy_function_with(tmp_path, {"local_test_handlers.py": TEST_HANDLERS})
    options = PoolOptions(environment={}, region="ap-northeast-1", concurrency=1, source_dir=source,
                          handler="local_test_handlers.handle", output=subprocess.DEVNULL,
                          forward_aws_credentials=forward)  # fmt: skip
    with LambdaPool(options) as pool:
        pool.wait_ready(timeout=30)
        invocation = pool.invoke({"queryStringParameters": {"mode": "aws_env"}}, "env-check")
        body = b""
        while (event := invocation.next_event(10)) is not None and not isinstance(event, (Finished, InvokeFailed)):
            body += event.data if isinstance(event, Chunk) else b""
    assert isinstance(event, Finished), event
    seen = json.loads(body.partition(b"\x00" * 8)[2])
    if forward:  # --bedrock real, https:// endpoints
        assert {name: seen.get(name) for name in USERS_AWS_ENVIRONMENT} == USERS_AWS_ENVIRONMENT
    else:  # the stand-in, http:// endpoints: nothing of the developer's, dummy keys
        assert not set(seen.values()) & set(USERS_AWS_ENVIRONMENT.values())
        assert seen["AWS_ACCESS_KEY_ID"] == seen["AWS_SESSION_TOKEN"] == "local"
        assert seen["AWS_REGION"] == "ap-northeast-1"


USERS_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIAUSERSREALKEY0000",
    "AWS_SECRET_ACCESS_KEY": "users-secret",
    "AWS_SESSION_TOKEN": "users-session-token",
    "AWS_PROFILE": "users-profile",
}
