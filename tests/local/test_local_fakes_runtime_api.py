"""The local Lambda Runtime API: the pure chunked decoder, and the server driven by a hand-written runtime."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_bedrock_local.chunked import BodyEnd, ChunkData, ChunkedDecoder, ChunkedError
from streaming_bedrock_local.runtime_api import RuntimeAPIServer
from streaming_bedrock_local.runtime_invocation import Invocation, decode_error_trailers

PREFIX = "/2018-06-01/runtime"

# ---- chunked decoder ---------------------------------------------------------------------------------------


def encode_chunked(chunks: list[bytes], trailers: list[tuple[str, str]]) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c)
    return out + b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in trailers) + b"\r\n"


trailer_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z")
trailer_values = st.from_regex(r"\A[ -~]{0,40}\Z").map(str.strip)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=200), max_size=8),
    st.lists(st.tuples(trailer_names, trailer_values), max_size=3),
    st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
    st.binary(max_size=10),
)
def test_decoder_reassembles_chunks_and_trailers_in_any_split(
    chunks: list[bytes], trailers: list[tuple[str, str]], cuts: list[int], after: bytes
) -> None:
    wire = encode_chunked(chunks, trailers) + after
    decoder = ChunkedDecoder()
    events = []
    pos = 0
    index = 0
    while pos < len(wire):
        step = cuts[index % len(cuts)]
        events += decoder.feed(wire[pos : pos + step])
        pos += step
        index += 1
    pieces = [e for e in events if isinstance(e, ChunkData)]
    ends = [e for e in events if isinstance(e, BodyEnd)]
    assert b"".join(p.data for p in pieces) == b"".join(chunks)
    # Pieces regroup into exactly the chunks the sender framed.
    regrouped, current = [], b""
    for piece in pieces:
        current += piece.data
        if piece.chunk_end:
            regrouped.append(current)
            current = b""
    assert regrouped == chunks
    assert ends == [BodyEnd(tuple(trailers))] and events[-1] == ends[0]
    assert decoder.done and decoder.unused == after


def test_decoder_accepts_chunk_extensions_and_uppercase_hex() -> None:
    decoder = ChunkedDecoder()
    events = decoder.feed(b"A;name=value\r\n0123456789\r\n0\r\n\r\n")
    assert events == [ChunkData(b"0123456789", True), BodyEnd(())]


def test_decoder_tells_how_much_of_the_current_chunk_is_still_to_come() -> None:
    decoder = ChunkedDecoder()
    assert decoder.chunk_remaining == 0
    decoder.feed(b"A;name=value\r\n")
    assert decoder.chunk_remaining == 10  # the declared size, before any of the data
    decoder.feed(b"0123")
    assert decoder.chunk_remaining == 6
    decoder.feed(b"456789\r\n")
    assert decoder.chunk_remaining == 0
    decoder.feed(b"0\r\n")
    assert decoder.chunk_remaining == 0 and not decoder.done  # trailers next
    decoder.feed(b"\r\n")
    assert decoder.done


@pytest.mark.parametrize(
    "wire",
    [
        b"zz\r\nabc\r\n",  # not hex
        b"3\r\nabcXY",  # data not followed by CRLF
        b"\r\n",  # empty size line
        b"0\r\nno colon here\r\n\r\n",  # bad trailer
        b"0\r\nbad name: v\r\n\r\n",
        b"1" * 5000,  # size line without end
        b"11111111111111111\r\n",  # 17 hex digits
    ],
)
def test_decoder_rejects_malformed_bodies(wire: bytes) -> None:
    with pytest.raises(ChunkedError):
        ChunkedDecoder().feed(wire)


def test_error_trailers_decode() -> None:
    body = base64.b64encode(json.dumps({"errorType": "X", "errorMessage": "m"}).encode()).decode()
    trailers = {"lambda-runtime-function-error-type": "X", "Lambda-Runtime-Function-Error-Body": body}
    assert decode_error_trailers(trailers) == ("X", {"errorType": "X", "errorMessage": "m"})
    assert decode_error_trailers({}) == (None, None)


# ---- the server, driven by a minimal hand-written runtime client ----------------------------------------------


@pytest.fixture
def api() -> Iterator[RuntimeAPIServer]:
    with RuntimeAPIServer(function_arn="arn:aws:lambda:ap-northeast-1:123456789012:function:f") as server:
        yield server


class RawRuntime:
    """A runtime speaking raw HTTP/1.1 on one keep-alive socket, so chunk framing and trailers are exact."""

    def __init__(self, address: str) -> None:
        host, port = address.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.file.readline()
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.file.read(int(headers.get("content-length", "0")))
        return status, headers, body

    def next(self) -> tuple[dict[str, str], bytes]:
        self.sock.sendall(f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = self.read_response()
        assert status == 200
        return headers, body

    def post(self, path: str, body: bytes, extra: str = "") -> tuple[int, dict[str, str], bytes]:
        head = f"POST {PREFIX}/{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        self.sock.sendall(head.encode() + body)
        return self.read_response()

    def start_stream(self, request_id: str) -> None:
        self.sock.sendall(
            (
                f"POST {PREFIX}/invocation/{request_id}/response HTTP/1.1\r\nHost: x\r\n"
                "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: application/vnd.awslambda.http-integration-response\r\n"
                "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
            ).encode()
        )

    def chunk(self, data: bytes) -> None:
        self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def end_stream(self, trailers: str = "") -> tuple[int, dict[str, str], bytes]:
        self.sock.sendall(b"0\r\n" + trailers.encode() + b"\r\n")
        return self.read_response()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def test_next_hands_out_event_and_headers(api: RuntimeAPIServer) -> None:
    invocation = api.invoke({"hello": "world"}, timeout_ms=30_000, client_context="cc")
    runtime = RawRuntime(api.address)
    before = int(time.time() * 1000)
    headers, body = runtime.next()
    assert json.loads(body) == {"hello": "world"}
    assert headers["lambda-runtime-aws-request-id"] == invocation.request_id
    assert headers["lambda-runtime-invoked-function-arn"].endswith(":function:f")
    assert headers["lambda-runtime-trace-id"].startswith("Root=1-")
    assert headers["lambda-runtime-client-context"] == "cc"
    assert before + 29_000 <= int(headers["lambda-runtime-deadline-ms"]) <= int(time.time() * 1000) + 30_000
    status, _, reply = runtime.post(f"invocation/{invocation.request_id}/response", b'{"ok":1}')
    assert (status, json.loads(reply)) == (202, {"status": "OK"})
    result = invocation.wait(5)
    assert (result.mode, result.body, result.complete) == ("buffered", b'{"ok":1}', True)
    runtime.close()


def test_streamed_chunks_reach_the_invocation_as_they_are_sent(api: RuntimeAPIServer) -> None:
    invocation = api.invoke(b"{}")
    runtime = RawRuntime(api.address)
    runtime.next()
    runtime.start_stream(invocation.request_id)
    received: list[tuple[bytes, float]] = []
    sent_last_at: list[float] = []

    def produce() -> None:
        for part in (b'{"statusCode":200}', b"\0" * 8, b"one", b"two"):
            runtime.chunk(part)
            time.sleep(0.05)
        sent_last_at.append(time.monotonic())
        runtime.chunk(b"three")

    producer = threading.Thread(target=produce)
    producer.start()
    for chunk in invocation.timed_chunks(timeout=5):
        received.append((chunk.data, chunk.received_at))
        if chunk.data == b"three":
            break
    status, _, _ = runtime.end_stream()
    producer.join()
    assert status == 202
    assert [data for data, _ in received] == [b'{"statusCode":200}', b"\0" * 8, b"one", b"two", b"three"]
    # Causality: the first chunk was delivered before the runtime had even sent the last one.
    assert received[0][1] < sent_last_at[0]
    result = invocation.wait(5)
    assert result.mode == "streaming" and result.complete and result.trailers == {}
    assert result.body == b'{"statusCode":200}' + b"\0" * 8 + b"onetwothree"
    assert result.headers["Content-Type"] == "application/vnd.awslambda.http-integration-response"
    runtime.close()


def test_error_trailers_are_kept(api: RuntimeAPIServer) -> None:
    invocation = api.invoke(b"{}")
    runtime = RawRuntime(api.address)
    runtime.next()
    runtime.start_stream(invocation.request_id)
    runtime.chunk(b"partial")
    error = base64.b64encode(b'{"errorType":"Boom","errorMessage":"late"}').decode()
    status, _, _ = runtime.end_stream(
        f"Lambda-Runtime-Function-Error-Type: Boom\r\nLambda-Runtime-Function-Error-Body: {error}\r\n"
    )
    assert status == 202
    result = invocation.wait(5)
    assert result.body == b"partial" and result.error_type == "Boom"
    assert result.error == {"errorType": "Boom", "errorMessage": "late"}
    runtime.close()


def test_invocation_error_init_error_and_bad_ids(api: RuntimeAPIServer) -> None:
    invocation = api.invoke(b"{}")
    runtime = RawRuntime(api.address)
    runtime.next()
    payload = b'{"errorMessage":"bad","errorType":"ValueError","stackTrace":[]}'
    status, _, _ = runtime.post(
        f"invocation/{invocation.request_id}/error", payload, "Lambda-Runtime-Function-Error-Type: ValueError\r\n"
    )
    assert status == 202
    result = invocation.wait(5)
    assert (result.mode, result.error_type, result.error["errorMessage"]) == ("error", "ValueError", "bad")
    # A second answer for the same id, and an id nobody handed out, are refused.
    assert runtime.post(f"invocation/{invocation.request_id}/response", b"x")[0] == 400
    status, _, body = runtime.post("invocation/nope/response", b"x")
    assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
    status, _, _ = runtime.post(
        "init/error", b'{"errorMessage":"no model id","errorType":"Runtime.ConfigError"}',
        "Lambda-Runtime-Function-Error-Type: Runtime.ConfigError\r\n",
    )  # fmt: skip
    assert status == 202
    init_error = api.wait_for_init_error(1)
    assert init_error.error_type == "Runtime.ConfigError" and init_error.worker == "default"
    runtime.close()


def test_invocations_queue_until_a_worker_polls(api: RuntimeAPIServer) -> None:
    first, second = api.invoke(b"1"), api.invoke(b"2")
    assert api.queued == 2
    runtime = RawRuntime(api.address)
    for expected in (first, second):
        headers, body = runtime.next()
        assert headers["lambda-runtime-aws-request-id"] == expected.request_id and body == expected.event
        runtime.post(f"invocation/{expected.request_id}/response", b"ok")
    assert [first.wait(5).body, second.wait(5).body] == [b"ok", b"ok"]
    assert api.polls() == 2
    runtime.close()


def test_several_workers_poll_concurrently_on_their_own_endpoints(api: RuntimeAPIServer) -> None:
    addresses = {name: api.open_endpoint(name) for name in ("w1", "w2", "w3")}
    served: dict[str, str] = {}

    def worker(name: str) -> None:
        runtime = RawRuntime(addresses[name])
        headers, _ = runtime.next()
        served[headers["lambda-runtime-aws-request-id"]] = name
        time.sleep(0.1)  # keep this worker busy so the others must take the rest
        runtime.post(f"invocation/{headers['lambda-runtime-aws-request-id']}/response", name.encode())
        runtime.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in addresses]
    for thread in threads:
        thread.start()
    for name in addresses:
        api.wait_for_poll(name, timeout=5)
    invocations = [api.invoke(b"{}") for _ in range(3)]
    results = [inv.wait(5) for inv in invocations]
    for thread in threads:
        thread.join()
    assert sorted(inv.worker or "" for inv in invocations) == ["w1", "w2", "w3"]
    assert all(result.body.decode() == inv.worker for inv, result in zip(invocations, results, strict=True))


def test_cancel_closes_the_functions_response_connection(api: RuntimeAPIServer) -> None:
    invocation = api.invoke(b"{}")
    runtime = RawRuntime(api.address)
    runtime.next()
    runtime.start_stream(invocation.request_id)
    runtime.chunk(b"first")
    assert next(invocation.chunks(timeout=5)) == b"first"
    assert invocation.cancel()
    # The function notices on its next writes: the peer is gone.
    with pytest.raises(OSError):
        for _ in range(200):
            runtime.chunk(b"more")
            time.sleep(0.005)
    result = invocation.wait(1)
    assert result.mode == "cancelled" and result.body == b"first" and not result.complete
    runtime.close()


def test_cancel_while_queued_skips_the_invocation(api: RuntimeAPIServer) -> None:
    skipped, served = api.invoke(b"skip"), api.invoke(b"serve")
    skipped.cancel()
    runtime = RawRuntime(api.address)
    _, body = runtime.next()
    assert body == b"serve" and skipped.wait(1).mode == "cancelled"
    runtime.post(f"invocation/{served.request_id}/response", b"ok")
    runtime.close()


def test_deadline_expires_running_invocation_and_calls_hook() -> None:
    timed_out: list[Invocation] = []
    hook_called = threading.Event()

    def on_timeout(invocation: Invocation) -> None:
        timed_out.append(invocation)
        hook_called.set()

    with RuntimeAPIServer(on_timeout=on_timeout) as api:
        invocation = api.invoke(b"{}", timeout_ms=200)
        runtime = RawRuntime(api.address)
        runtime.next()
        runtime.start_stream(invocation.request_id)
        runtime.chunk(b"slow")
        result = invocation.wait(5)
        assert result.mode == "timeout" and result.error_type == "Sandbox.Timedout" and result.body == b"slow"
        assert result.completed_at - (result.handed_out_at or 0) >= 0.19
        assert hook_called.wait(5) and timed_out == [invocation]
        runtime.close()


def test_abandon_and_stop(api: RuntimeAPIServer) -> None:
    invocation = api.invoke(b"{}")
    runtime = RawRuntime(api.address)
    runtime.next()
    assert invocation.abandon("Runtime.ExitError", "worker exited")
    assert invocation.wait(1).mode == "abandoned"
    # A poller blocked on /next is told to exit when the server stops.
    poller = http.client.HTTPConnection(api.address, timeout=5)
    poller.request("GET", f"{PREFIX}/invocation/next")
    api.wait_for_poll(count=2, timeout=5)
    api.stop()
    response = poller.getresponse()
    assert response.status == 500 and json.loads(response.read())["errorType"] == "Runtime.Shutdown"
    runtime.close()


def test_buffered_response_over_6mb_is_refused(api: RuntimeAPIServer) -> None:
    invocation = api.invoke(b"{}")
    runtime = RawRuntime(api.address)
    runtime.next()
    head = (
        f"POST {PREFIX}/invocation/{invocation.request_id}/response HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {7 * 1024 * 1024}\r\n\r\n"
    )
    runtime.sock.sendall(head.encode())
    status, _, _ = runtime.read_response()
    assert status == 413
    assert invocation.wait(1).error_type == "Function.ResponseSizeTooLarge"
    runtime.close()


def test_a_dead_poller_does_not_swallow_the_next_event(api: RuntimeAPIServer) -> None:
    dead = RawRuntime(api.open_endpoint("dead"))
    dead.sock.sendall(f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    api.wait_for_poll("dead", timeout=5)
    dead.close()  # killed while long-polling
    time.sleep(0.05)
    invocation = api.invoke(b"{}")
    live = RawRuntime(api.open_endpoint("live"))
    headers, _ = live.next()
    assert headers["lambda-runtime-aws-request-id"] == invocation.request_id and invocation.worker == "live"
    live.post(f"invocation/{invocation.request_id}/response", b"ok")
    assert invocation.wait(5).body == b"ok"
    live.close()


def test_closing_an_endpoint_ends_its_long_poll(api: RuntimeAPIServer) -> None:
    poller = http.client.HTTPConnection(api.open_endpoint("gone"), timeout=5)
    poller.request("GET", f"{PREFIX}/invocation/next")
    api.wait_for_poll("gone", timeout=5)
    api.close_endpoint("gone")
    response = poller.getresponse()
    assert response.status == 500
    invocation = api.invoke(b"{}")
    assert api.queued == 1 and not invocation.done


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_chunked_decoder(data: bytes) -> None:
    with contextlib.suppress(ChunkedError):
        ChunkedDecoder().feed(data)
