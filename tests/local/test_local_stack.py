"""End to end through the local stack: real HTTP → gateway → worker processes running the deployed zip → real
boto3 → the Bedrock stand-in's event-stream wire format, and back, streamed."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from streaming_bedrock_local.bedrock_standin import BeforeStreamFault, MidStreamFault, RequestPlan
from streaming_bedrock_local.chunked import ChunkData, ChunkedDecoder

from .conftest import (
    APP_ORIGIN,
    SEED_PROMPT,
    RunningStack,
    expected_answer,
    next_record,
    open_request,
    prompt_body,
    request,
    running_stack,
    sse_events,
)

ANSWER_TOKENS = 40
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(
        tmp_path_factory.mktemp("stack"),
        settings={"allowed_origins": [APP_ORIGIN], "heartbeat_seconds": 0.5},
        concurrency=4,
        answer_tokens=ANSWER_TOKENS,
        pace_seconds=0.01,
    ) as running:
        yield running


def _count(stack: RunningStack) -> int:
    return len(stack.standin.records())


def test_seed_request_streams_byte_exact(stack: RunningStack) -> None:
    before = _count(stack)
    stack.standin.push(RequestPlan(pace_seconds=0.03))  # a 1.2 s generation: a wide margin for the causality check
    result = request(stack.url, prompt_body(), {**JSON, **stack.auth()})
    record = next_record(stack.standin, before)
    assert result.status == 200, result.body
    assert result.complete
    assert result.header("Content-Type") == "text/plain; charset=utf-8"
    assert result.header("Transfer-Encoding") == "chunked"
    assert result.body.decode("utf-8") == expected_answer(SEED_PROMPT, ANSWER_TOKENS)
    # Streaming, not buffering: the client had bytes while the stand-in was still generating.
    assert record.last_token_at is not None
    assert result.first_byte_at < record.last_token_at
    assert len(result.chunks) > ANSWER_TOKENS // 4


def test_seed_request_with_curl_no_buffer(stack: RunningStack) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    before = _count(stack)
    stack.standin.push(RequestPlan(pace_seconds=0.03))
    command = [curl, "--silent", "--show-error", "--no-buffer", "-X", "POST", stack.url,
               "-H", "Content-Type: application/json", "-H", f"x-api-key: {stack.api_key}",
               "-d", json.dumps({"prompt": SEED_PROMPT})]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    first = process.stdout.read1(65536)  # type: ignore[attr-defined]
    first_at = time.monotonic()
    rest, errors = process.communicate(timeout=30)
    record = next_record(stack.standin, before)
    assert process.returncode == 0, errors
    assert (first + rest).decode("utf-8") == expected_answer(SEED_PROMPT, ANSWER_TOKENS)
    assert record.last_token_at is not None and first_at < record.last_token_at


def test_sse_end_to_end(stack: RunningStack) -> None:
    headers = {**JSON, **stack.auth(), "Accept": "text/event-stream", "Origin": APP_ORIGIN}
    result = request(stack.url, prompt_body("sse please"), headers)
    assert result.status == 200 and result.complete
    assert (result.header("Content-Type") or "").startswith("text/event-stream")
    assert result.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]
    events = sse_events(result.body)
    names = [name for name, _ in events]
    assert names[-1] == "done" and events[-1][1] == {"stop_reason": "end_turn"}
    assert "usage" in names and names.count("delta") == ANSWER_TOKENS
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == expected_answer("sse please", ANSWER_TOKENS)


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"prompt": ""}', b'{"prompt": "hi", "max_tokens": 999999}', b"[1, 2]", b""]
)
def test_bad_requests_get_400_with_cors(stack: RunningStack, body: bytes) -> None:
    before = _count(stack)
    result = request(stack.url, body, {**JSON, **stack.auth(), "Origin": APP_ORIGIN})
    assert result.status == 400, result.body
    error = result.json()["error"]
    assert error["code"] and error["message"]
    assert result.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]
    assert _count(stack) == before  # rejected before any Bedrock call


def test_throttling_maps_to_429(stack: RunningStack) -> None:
    stack.standin.fault = BeforeStreamFault("ThrottlingException")
    try:
        result = request(stack.url, prompt_body(), {**JSON, **stack.auth(), "Origin": APP_ORIGIN})
    finally:
        stack.standin.fault = None
    assert result.status == 429, result.body
    assert result.header("Retry-After")
    assert result.json()["error"]["code"]
    assert result.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]


def test_mid_stream_error_plain_ends_the_response_abnormally(stack: RunningStack) -> None:
    stack.standin.push(RequestPlan(fault=MidStreamFault("modelStreamErrorException", after_deltas=5)))
    result = request(stack.url, prompt_body("break please"), {**JSON, **stack.auth()})
    assert result.status == 200
    assert not result.complete  # no terminating chunk: the client can tell the answer is cut
    full = expected_answer("break please", ANSWER_TOKENS)
    assert full.startswith(result.body.decode("utf-8")) and len(result.body) > 0


def test_mid_stream_error_sse_sends_an_error_event(stack: RunningStack) -> None:
    stack.standin.push(RequestPlan(fault=MidStreamFault("throttlingException", after_deltas=3)))
    headers = {**JSON, **stack.auth(), "Accept": "text/event-stream"}
    result = request(stack.url, prompt_body("break sse"), headers)
    assert result.status == 200
    events = sse_events(result.body)
    assert [name for name, _ in events][:3] == ["delta", "delta", "delta"]
    assert events[-1][0] == "error" and events[-1][1]["code"]
    assert "done" not in [name for name, _ in events]


def test_preflight_and_cors_on_gateway_errors(stack: RunningStack) -> None:
    preflight = request(stack.url, None, {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}, "OPTIONS")
    assert preflight.status == 200
    assert preflight.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]
    assert "POST" in (preflight.header("Access-Control-Allow-Methods") or "")
    assert "x-api-key" in (preflight.header("Access-Control-Allow-Headers") or "").lower()

    missing = request(f"{stack.base}/prod/nope", prompt_body(), {**JSON, "Origin": APP_ORIGIN})
    assert missing.status == 403 and missing.json() == {"message": "Missing Authentication Token"}
    assert missing.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]

    wrong_method = request(stack.url, None, {"Origin": APP_ORIGIN}, "GET")
    assert wrong_method.status == 403 and wrong_method.json() == {"message": "Missing Authentication Token"}

    stranger = request(stack.url, prompt_body(), {**JSON, "Origin": "http://evil.test"})
    # Like the deployed gateway response: the one configured origin, statically; the browser refuses the stranger.
    assert stranger.status == 401 and stranger.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]


def test_api_key_missing_is_401_and_wrong_is_403_with_cors(stack: RunningStack) -> None:
    before = _count(stack)
    # The native route's key header is x-api-key (a Bearer key is for the OpenAI routes).
    cases: list[tuple[dict[str, str], int]] = [
        ({}, 401), ({"Authorization": f"Bearer {stack.api_key}"}, 401), ({"x-api-key": "wrong"}, 403)]
    for extra, status in cases:
        result = request(stack.url, prompt_body(), {**JSON, "Origin": APP_ORIGIN, **extra})
        assert result.status == status
        if status == 401:  # no key header: API Gateway's UNAUTHORIZED gateway response, OpenAI-shaped
            assert result.json()["error"]["code"] == "invalid_api_key"
        else:
            assert result.json() == {"message": "Forbidden"}
        assert result.header_values("Access-Control-Allow-Origin") == [APP_ORIGIN]
    assert _count(stack) == before


def test_stage_less_path_also_routes(stack: RunningStack) -> None:
    result = request(f"{stack.base}/{stack.settings.path}", prompt_body("no stage"), {**JSON, **stack.auth()})
    assert result.status == 200 and result.body.decode() == expected_answer("no stage", ANSWER_TOKENS)


def test_client_disconnect_stops_the_standin_early(stack: RunningStack) -> None:
    before = _count(stack)
    stack.standin.push(RequestPlan(answer_tokens=400, pace_seconds=0.01))
    connection, response, _ = open_request(stack.url, prompt_body("long one"), {**JSON, **stack.auth()})
    assert response.status == 200
    assert response.read1(65536)
    assert connection.sock is not None
    connection.sock.close()
    connection.close()
    record = next_record(stack.standin, before, timeout=20)
    assert record.outcome == "disconnected"
    assert record.tokens_planned == 400
    assert record.tokens_sent < 200  # 400 tokens would take 4 s; the disconnect stopped it well before


def test_fifty_concurrent_streams_are_byte_exact(stack: RunningStack) -> None:
    prompts = [f"concurrent {index}" for index in range(50)]

    def one(prompt: str) -> tuple[int, bool, str]:
        result = request(stack.url, prompt_body(prompt), {**JSON, **stack.auth()}, timeout=60)
        return result.status, result.complete, result.body.decode("utf-8")

    with ThreadPoolExecutor(max_workers=50) as executor:
        results = list(executor.map(one, prompts))
    for prompt, (status, complete, body) in zip(prompts, results, strict=True):
        assert status == 200 and complete
        assert body == expected_answer(prompt, ANSWER_TOKENS)


def test_function_logs_never_contain_prompt_or_answer(stack: RunningStack, tmp_path: Path) -> None:
    secret = "zebra-quartz-unique-prompt"
    result = request(stack.url, prompt_body(secret), {**JSON, **stack.auth()})
    assert result.status == 200
    time.sleep(0.2)
    log = stack.function_log()
    assert '"message"' in log  # the function did log
    assert secret not in log
    assert expected_answer(secret, ANSWER_TOKENS)[20:60] not in log


def test_sse_heartbeats_pass_through_during_slow_generation(stack: RunningStack) -> None:
    stack.standin.push(RequestPlan(answer_tokens=3, pace_seconds=1.3))
    headers = {**JSON, **stack.auth(), "Accept": "text/event-stream"}
    result = request(stack.url, prompt_body("slow one"), headers)
    assert result.status == 200 and result.complete
    text = result.body.decode()
    first_delta, last_delta = text.index("event: delta"), text.rindex("event: delta")
    # A keep-alive comment went out between two deltas 1.3 s apart (heartbeat after 0.5 s of silence).
    assert ": keep-alive" in text[first_delta:last_delta]
    deltas = "".join(data["text"] for name, data in sse_events(result.body) if name == "delta")
    assert deltas == expected_answer("slow one", 3)


def test_broken_requests_get_defined_answers(stack: RunningStack, capfd: pytest.CaptureFixture[str]) -> None:
    host, port = stack.server.server_address[:2]
    bad_chunked = (
        f"POST /prod/stream HTTP/1.1\r\nHost: x\r\nx-api-key: {stack.api_key}\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
    ).encode()
    short_body = f"POST /prod/stream HTTP/1.1\r\nx-api-key: {stack.api_key}\r\nContent-Length: 5\r\n\r\nab".encode()
    for raw in (bad_chunked, b"GARBAGE\r\n\r\n", short_body):
        with socket.create_connection((str(host), int(port)), timeout=10) as sock:
            sock.sendall(raw)
            if raw.endswith(b"ab"):
                sock.shutdown(socket.SHUT_WR)  # the client gives up inside its own body
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        if raw is bad_chunked:
            assert reply.startswith(b"HTTP/1.1 400 ")
            assert reply.endswith(b'{"message": "Invalid request body"}')
        elif raw.endswith(b"ab"):
            assert reply == b""  # never invoked with half a body
    time.sleep(0.2)
    assert "Traceback" not in capfd.readouterr().err


def _raw_exchange(stack: RunningStack, head: bytes, body: bytes | list[bytes], give_up: bool = False) -> bytes:
    """Send a request over a raw socket and read the reply; the socket stays open for writing unless ``give_up``,
    so a gateway that waits for more of the body times the read out (and the test fails) instead of answering."""
    host, port = stack.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=5) as sock:
        sock.sendall(head)
        for piece in [body] if isinstance(body, bytes) else body:
            sock.sendall(piece)
        if give_up:
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except TimeoutError:
            pytest.fail(f"the gateway did not answer; got {reply[:200]!r}")
    return reply


def test_chunked_request_bodies_are_framed_strictly(stack: RunningStack) -> None:
    head = (
        f"POST /prod/stream HTTP/1.1\r\nHost: x\r\nx-api-key: {stack.api_key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    bad_body = b"HTTP/1.1 400 "
    malformed = {
        "size shorter than the data (no CRLF after the chunk)": b'5\r\n{"prompt":"hi"}\r\n0\r\n\r\n',
        "negative size": b'-1\r\n{"prompt":"hi"}\r\n0\r\n\r\n',
        "bare LF framing": b'f\n{"prompt":"hi"}\n0\n\n',
        "size longer than the data": b'20\r\n{"prompt":"hi"}\r\n0\r\n\r\n' + b"x" * 17 + b"\r\n0\r\n\r\n",
    }
    for case, body in malformed.items():
        reply = _raw_exchange(stack, head, body)
        # The gateway's own 400, not the function's answer to a mangled body.
        assert reply.startswith(bad_body), case
        assert reply.endswith(b'{"message": "Invalid request body"}'), case

    # A declared chunk size over the 10 MB cap is refused before any of it is read (nothing more is sent).
    reply = _raw_exchange(stack, head, b"A00001\r\n")
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:100]
    # So is one that would take the running total over the cap.
    first = b'{"prompt":"' + b"x" * (6 * 1024 * 1024) + b'"}'
    reply = _raw_exchange(stack, head, [b"%x\r\n%b\r\n" % (len(first), first), b"500000\r\n"])
    assert reply.startswith(b"HTTP/1.1 413 "), reply[:100]

    # Well-formed: extensions, several chunks and a trailer section decode to the body the function gets.
    before = _count(stack)
    prompt = prompt_body("chunked prompt")
    body = b"4;ext=1\r\n%b\r\n%x\r\n%b\r\n0\r\nX-Trailer: t\r\n\r\n" % (prompt[:4], len(prompt) - 4, prompt[4:])
    reply = _raw_exchange(stack, head.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n"), body)
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert next_record(stack.standin, before).done.is_set()
    events = ChunkedDecoder().feed(reply.partition(b"\r\n\r\n")[2])
    answer = b"".join(event.data for event in events if isinstance(event, ChunkData))
    assert answer.decode() == expected_answer("chunked prompt", ANSWER_TOKENS)
