"""A local Lambda Runtime API server (``/2018-06-01/runtime/...``) with streaming responses.

Speaks the API a custom runtime or exec-wrapper loop uses, over real HTTP on 127.0.0.1:

- ``GET  invocation/next``: long-poll; the event JSON with ``Lambda-Runtime-Aws-Request-Id``,
  ``-Deadline-Ms`` (epoch ms, from the moment the event is handed out), ``-Invoked-Function-Arn``,
  ``-Trace-Id`` (and ``-Client-Context`` / ``-Cognito-Identity`` when given).
- ``POST invocation/{id}/response``: buffered (``Content-Length``) or streamed
  (``Lambda-Runtime-Function-Response-Mode: streaming``, chunked). Chunked bodies go through the pure
  ``ChunkedDecoder`` as bytes arrive; each HTTP chunk is handed to the ``Invocation`` when complete, with a
  ``time.monotonic()`` timestamp; trailers (``Lambda-Runtime-Function-Error-Type``/``-Body``) are kept.
  Answer: ``202 {"status":"OK"}`` once the body ended.
- ``POST invocation/{id}/error`` (before a response) and ``POST init/error`` (then the runtime exits).
- Unknown request id → 400 ``InvalidRequestID``; a second response → 400 ``InvalidStateTransition``;
  buffered body over 6 MB → 413; server stopping → ``/next`` answers 500 (the documented "exit now").

Python API (what the tests and the local stack's Lambda emulator use)::

    server = RuntimeAPIServer(function_arn=..., on_timeout=..., on_init_error=...).start()
    server.address                      # "127.0.0.1:PORT" for AWS_LAMBDA_RUNTIME_API (worker "default")
    server.open_endpoint("worker-2")    # another port on the same queue; tells which worker took an event
    inv = server.invoke({"body": ...}, timeout_ms=900_000)   # queued until a worker polls /next
    for chunk in inv.timed_chunks(): ...                     # Chunk(data, received_at) as they arrive
    result = inv.wait(timeout=30)       # InvocationResult: mode, headers, body, trailers, error ...
    inv.cancel()                        # client went away: close the function's response connection
    inv.abandon("Runtime.ExitError", "worker exited")        # worker crashed: finish the invocation
    server.wait_for_poll("default", timeout=5)               # monotonic time of that worker's first /next
    server.polls("default"), server.init_errors(), server.wait_for_init_error(timeout=5)
    server.close_endpoint("worker-2")   # its pending /next is answered 500 ("exit now")
    server.stop()

Several workers may poll concurrently (one endpoint each, or all on one); invocations wait in a FIFO
queue. A worker killed while long-polling leaves a handler behind; before handing out an event the
server checks that poller's connection is still open (and re-queues the event if the hand-out write
fails), so a dead worker never swallows an invocation.

Deadlines are enforced by a watchdog: an invocation still running at its deadline ends with mode
``timeout`` (error type ``Sandbox.Timedout``), its response connection is closed, and
``on_timeout(invocation)`` is called so the owner can kill that worker, as Lambda does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from streaming_bedrock_local.loopback_http import LoopbackHTTPServer

log = logging.getLogger(__name__)

API_PREFIX = "/2018-06-01/runtime"
MAX_BUFFERED_RESPONSE_BYTES = 6 * 1024 * 1024
MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024
ERROR_TYPE_TRAILER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"
DEFAULT_FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:local-function"


# --------------------------------------------------------------------------------------------------------
# Chunked transfer-encoding decoder (pure state machine)
# --------------------------------------------------------------------------------------------------------


class ChunkedError(ValueError):
    """The body violates chunked transfer encoding (RFC 9112 §7.1)."""


@dataclass(frozen=True)
class ChunkData:
    """Bytes of one chunk; ``chunk_end`` marks the last piece of that chunk."""

    data: bytes
    chunk_end: bool


@dataclass(frozen=True)
class BodyEnd:
    """The terminating zero-size chunk and its trailer fields (names as sent)."""

    trailers: tuple[tuple[str, str], ...]


ChunkedEvent = ChunkData | BodyEnd

_HEX = re.compile(rb"^[0-9A-Fa-f]{1,16}$")
_FIELD_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class ChunkedDecoder:
    """Incremental decoder: ``feed`` bytes as they arrive, get chunk pieces and the end with trailers.

    Bytes after the end of the body are kept in ``unused`` (they belong to whatever follows on the
    connection). Lines are capped so a peer cannot make it buffer without bound.
    """

    MAX_LINE = 4096
    MAX_TRAILER_BYTES = 64 * 1024

    def __init__(self) -> None:
        self._state: Literal["size", "data", "data_crlf", "trailers", "done"] = "size"
        self._buffer = bytearray()
        self._remaining = 0
        self._trailers: list[tuple[str, str]] = []
        self._trailer_bytes = 0
        self.unused = b""

    @property
    def done(self) -> bool:
        return self._state == "done"

    @property
    def chunk_remaining(self) -> int:
        """Bytes of the current chunk not yet fed: its declared size right after its size line; 0 between chunks
        and in the trailers. A reader that must not read past the body (keep-alive) reads exactly this plus CRLF."""
        return self._remaining if self._state == "data" else 0

    def feed(self, data: bytes) -> list[ChunkedEvent]:
        if self._state == "done":
            self.unused += data
            return []
        self._buffer += data
        events: list[ChunkedEvent] = []
        while self._step(events):
            pass
        return events

    def _take_line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > self.MAX_LINE:
                raise ChunkedError("line too long")
            return None
        if end > self.MAX_LINE:
            raise ChunkedError("line too long")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _step(self, events: list[ChunkedEvent]) -> bool:
        """Advance one state transition; False when more input is needed."""
        if self._state == "size":
            line = self._take_line()
            if line is None:
                return False
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not _HEX.match(size_text):
                raise ChunkedError(f"invalid chunk size line {line[:40]!r}")
            self._remaining = int(size_text, 16)
            self._state = "data" if self._remaining else "trailers"
            return True
        if self._state == "data":
            if not self._buffer:
                return False
            piece = bytes(self._buffer[: self._remaining])
            del self._buffer[: len(piece)]
            self._remaining -= len(piece)
            events.append(ChunkData(piece, chunk_end=self._remaining == 0))
            if self._remaining == 0:
                self._state = "data_crlf"
            return True
        if self._state == "data_crlf":
            if len(self._buffer) < 2:
                return False
            if self._buffer[:2] != b"\r\n":
                raise ChunkedError("chunk data not followed by CRLF")
            del self._buffer[:2]
            self._state = "size"
            return True
        if self._state == "trailers":
            line = self._take_line()
            if line is None:
                return False
            if line == b"":
                self._state = "done"
                self.unused = bytes(self._buffer)
                self._buffer.clear()
                events.append(BodyEnd(tuple(self._trailers)))
                return False
            self._trailer_bytes += len(line) + 2
            if self._trailer_bytes > self.MAX_TRAILER_BYTES:
                raise ChunkedError("trailer section too large")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep or not _FIELD_NAME.match(name):
                raise ChunkedError(f"invalid trailer line {line[:40]!r}")
            self._trailers.append((name, value.strip(" \t")))
            return True
        return False


# --------------------------------------------------------------------------------------------------------
# Invocations
# --------------------------------------------------------------------------------------------------------

Mode = Literal["streaming", "buffered", "error", "cancelled", "timeout", "abandoned"]


@dataclass(frozen=True)
class Chunk:
    """One HTTP chunk of a streamed response (or the whole buffered body) and when it arrived."""

    data: bytes
    received_at: float


@dataclass(frozen=True)
class InvocationResult:
    """How an invocation ended.

    ``mode``: ``streaming``/``buffered`` (a response arrived; ``complete`` is False when the stream broke
    without its terminating chunk), ``error`` (``/error``), ``cancelled`` (``cancel()``), ``timeout``
    (deadline), ``abandoned`` (``abandon()``, e.g. the worker died). ``headers`` are the function's
    request headers on ``/response`` or ``/error``; ``error`` is the parsed error JSON from ``/error``,
    from the ``Lambda-Runtime-Function-Error-Body`` trailer, or set by the server.
    """

    mode: Mode
    headers: Mapping[str, str]
    body: bytes
    chunks: tuple[Chunk, ...]
    trailers: Mapping[str, str]
    complete: bool
    error_type: str | None
    error: Any
    handed_out_at: float | None
    completed_at: float

    @property
    def first_byte_at(self) -> float | None:
        return self.chunks[0].received_at if self.chunks else None


def decode_error_trailers(trailers: Mapping[str, str]) -> tuple[str | None, Any]:
    """The error type and decoded JSON body from streaming error trailers (body is base64 JSON)."""
    lowered = {k.lower(): v for k, v in trailers.items()}
    error_type = lowered.get(ERROR_TYPE_TRAILER.lower())
    raw = lowered.get(ERROR_BODY_TRAILER.lower())
    if raw is None:
        return error_type, None
    try:
        return error_type, json.loads(base64.b64decode(raw, validate=True))
    except ValueError:
        return error_type, raw


class Invocation:
    """One event's life: queued → handed to a worker → response chunks → result. Thread-safe."""

    def __init__(
        self,
        event: bytes,
        *,
        timeout_ms: int,
        function_arn: str,
        trace_id: str,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.request_id = request_id or str(uuid.uuid4())
        self.event = event
        self.timeout_ms = timeout_ms
        self.function_arn = function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.created_at = time.monotonic()
        self.worker: str | None = None
        self.handed_out_at: float | None = None
        self.deadline_epoch_ms: int | None = None
        self.deadline_monotonic: float | None = None
        self.response_started = threading.Event()
        self._cond = threading.Condition()
        self._chunks: list[Chunk] = []
        self._partial = bytearray()
        self._result: InvocationResult | None = None
        self._response_socket: socket.socket | None = None
        self._response_headers: dict[str, str] = {}

    # state
    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> InvocationResult | None:
        return self._result

    def _finish(
        self,
        mode: Mode,
        *,
        body: bytes | None = None,
        trailers: Mapping[str, str] | None = None,
        complete: bool = True,
        error_type: str | None = None,
        error: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        with self._cond:
            if self._result is not None:
                return False
            chunks = tuple(self._chunks)
            self._result = InvocationResult(
                mode=mode,
                headers=dict(headers if headers is not None else self._response_headers),
                body=body if body is not None else b"".join(c.data for c in chunks),
                chunks=chunks,
                trailers=dict(trailers or {}),
                complete=complete,
                error_type=error_type,
                error=error,
                handed_out_at=self.handed_out_at,
                completed_at=time.monotonic(),
            )
            self._cond.notify_all()
            return True

    def _add_piece(self, piece: ChunkData) -> None:
        self._partial += piece.data
        if piece.chunk_end:
            chunk = Chunk(bytes(self._partial), time.monotonic())
            self._partial.clear()
            with self._cond:
                if self._result is None:
                    self._chunks.append(chunk)
                    self._cond.notify_all()

    # consumer API
    def timed_chunks(self, timeout: float | None = None) -> Iterator[Chunk]:
        """Yield response chunks as they arrive until the invocation ends (``timeout``: per wait)."""
        index = 0
        while True:
            with self._cond:
                while index >= len(self._chunks) and self._result is None:
                    if not self._cond.wait(timeout):
                        raise TimeoutError(f"no chunk for {timeout}s from invocation {self.request_id}")
                pending = self._chunks[index:]
                finished = self._result is not None
            yield from pending
            index += len(pending)
            if finished and index >= len(self._chunks):
                return

    def chunks(self, timeout: float | None = None) -> Iterator[bytes]:
        for chunk in self.timed_chunks(timeout):
            yield chunk.data

    def wait(self, timeout: float | None = None) -> InvocationResult:
        with self._cond:
            if not self._cond.wait_for(lambda: self._result is not None, timeout):
                raise TimeoutError(f"invocation {self.request_id} not finished after {timeout}s")
            assert self._result is not None
            return self._result

    def cancel(self) -> bool:
        """The client went away: end as ``cancelled`` and close the function's response connection."""
        return self._end_early("cancelled")

    def abandon(self, error_type: str, message: str) -> bool:
        """End as ``abandoned`` (e.g. the worker process died); no effect when already finished."""
        return self._end_early("abandoned", error_type, {"errorType": error_type, "errorMessage": message})

    def _expire(self) -> bool:
        error = {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}
        return self._end_early("timeout", "Sandbox.Timedout", error)

    def _end_early(self, mode: Mode, error_type: str | None = None, error: Any = None) -> bool:
        """Finish as ``mode`` and close the response connection, only if the invocation was still running.

        A finished invocation's connection is left alone: the runtime reuses it (kept alive) for its next
        ``/next``, and shutting it would lose the event handed out there. Finishing and taking the socket happen
        under one lock, so the server cannot end the response in between.
        """
        with self._cond:
            finished = self._finish(mode, complete=False, error_type=error_type, error=error)
            sock = self._response_socket if finished else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return finished


@dataclass(frozen=True)
class InitError:
    worker: str
    error_type: str | None
    error: Any
    at: float


# --------------------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------------------


class _Listener(LoopbackHTTPServer):
    api: RuntimeAPIServer
    worker: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Listener
    server_version = "LocalRuntimeAPI/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("runtime-api %s " + format, self.server.worker, *args)

    def _reply(self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the runtime went away (killed worker); nothing to tell it

    def _reply_error(self, status: int, error_type: str, message: str) -> None:
        self._reply(status, {"errorType": error_type, "errorMessage": message})

    def do_GET(self) -> None:
        if self.path != f"{API_PREFIX}/invocation/next":
            return self._reply_error(404, "NotFound", f"unknown path {self.path}")
        api = self.server.api
        connection = self.connection
        invocation = api._next(self.server.worker, lambda: _peer_open(connection))
        if invocation is None:
            self.close_connection = True
            return self._reply_error(500, "Runtime.Shutdown", "runtime API is shutting down; exit now")
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_epoch_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        if invocation.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(invocation.event)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(invocation.event)
        except OSError:
            # The worker vanished between poll and hand-out: the event was never delivered.
            self.close_connection = True
            api._requeue(invocation)

    def do_POST(self) -> None:
        path = self.path
        if path == f"{API_PREFIX}/init/error":
            return self._init_error()
        match = re.match(rf"^{API_PREFIX}/invocation/([^/]+)/(response|error)$", path)
        if match is None:
            self._drain_body()
            return self._reply_error(404, "NotFound", f"unknown path {path}")
        invocation = self.server.api._running(match.group(1))
        if invocation is None:
            self._drain_body()
            return self._reply_error(400, "InvalidRequestID", "unknown or finished request id")
        if match.group(2) == "error":
            return self._invocation_error(invocation)
        return self._response(invocation)

    # bodies
    def _drain_body(self) -> None:
        try:
            self._read_body(MAX_BUFFERED_RESPONSE_BYTES)
        except (ChunkedError, ValueError):
            self.close_connection = True

    def _read_body(self, limit: int) -> bytes:
        """The whole request body (Content-Length or chunked); ValueError when over ``limit``."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            decoder = ChunkedDecoder()
            parts: list[bytes] = []
            size = 0
            while not decoder.done:
                data = self.rfile.read1(65536)
                if not data:
                    raise ChunkedError("connection closed inside a chunked body")
                for event in decoder.feed(data):
                    if isinstance(event, ChunkData):
                        size += len(event.data)
                        if size > limit:
                            raise ValueError("body too large")
                        parts.append(event.data)
            return b"".join(parts)
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not raw_length.isdigit():
            # int() would accept "-1", and rfile.read(-1) waits for the peer to close.
            raise ValueError(f"bad Content-Length {raw_length[:20]!r}")
        length = int(raw_length)
        if length > limit:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def _headers_dict(self) -> dict[str, str]:
        return {name: value for name, value in self.headers.items()}

    def _init_error(self) -> None:
        try:
            body = self._read_body(MAX_BUFFERED_RESPONSE_BYTES)
        except (ChunkedError, ValueError) as exc:
            self.close_connection = True
            return self._reply_error(413, "RequestEntityTooLarge", str(exc))
        error_type = self.headers.get(ERROR_TYPE_TRAILER)
        self.server.api._record_init_error(self.server.worker, error_type, _parse_json(body))
        self._reply(202, {"status": "OK"})

    def _invocation_error(self, invocation: Invocation) -> None:
        try:
            body = self._read_body(MAX_BUFFERED_RESPONSE_BYTES)
        except (ChunkedError, ValueError) as exc:
            self.close_connection = True
            return self._reply_error(413, "RequestEntityTooLarge", str(exc))
        error = _parse_json(body)
        error_type = self.headers.get(ERROR_TYPE_TRAILER)
        if error_type is None and isinstance(error, dict):
            error_type = error.get("errorType")
        if invocation.response_started.is_set():
            return self._reply_error(400, "InvalidStateTransition", "response already started")
        if not invocation._finish("error", error_type=error_type, error=error, headers=self._headers_dict()):
            return self._reply_error(400, "InvalidStateTransition", "invocation already finished")
        self.server.api._release(invocation)
        self._reply(202, {"status": "OK"})

    def _response(self, invocation: Invocation) -> None:
        headers = self._headers_dict()
        streaming = self.headers.get("Lambda-Runtime-Function-Response-Mode", "").lower() == "streaming"
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        with invocation._cond:
            if invocation.response_started.is_set() or invocation.done:
                already = True
            else:
                already = False
                invocation._response_headers = headers
                invocation._response_socket = self.connection
                invocation.response_started.set()
        if already:
            self.close_connection = True
            return self._reply_error(400, "InvalidStateTransition", "response already sent or invocation ended")
        try:
            if streaming and chunked:
                self._streamed_response(invocation)
            else:
                self._buffered_response(invocation, "streaming" if streaming else "buffered")
        finally:
            with invocation._cond:
                invocation._response_socket = None
            self.server.api._release(invocation)

    def _buffered_response(self, invocation: Invocation, mode: Mode) -> None:
        try:
            body = self._read_body(MAX_BUFFERED_RESPONSE_BYTES)
        except (ChunkedError, ValueError) as exc:
            self.close_connection = True
            invocation._finish("error", error_type="Function.ResponseSizeTooLarge", error={"errorMessage": str(exc)})
            return self._reply_error(413, "RequestEntityTooLarge", str(exc))
        except OSError:
            self.close_connection = True
            invocation._finish(mode, complete=False)
            return
        invocation._add_piece(ChunkData(body, chunk_end=True))
        if invocation._finish(mode):
            self._reply(202, {"status": "OK"})
        else:
            self.close_connection = True

    def _streamed_response(self, invocation: Invocation) -> None:
        decoder = ChunkedDecoder()
        size = 0
        while True:
            try:
                data = self.rfile.read1(65536)
            except OSError:
                data = b""
            if not data:
                # EOF without the terminating chunk: the function died or we closed it (cancel/deadline).
                self.close_connection = True
                invocation._finish("streaming", complete=False)
                return
            try:
                events = decoder.feed(data)
            except ChunkedError as exc:
                self.close_connection = True
                invocation._finish("streaming", complete=False, error_type="Runtime.InvalidChunkedBody",
                                   error={"errorMessage": str(exc)})  # fmt: skip
                return self._reply_error(400, "InvalidChunkedBody", str(exc))
            for event in events:
                if isinstance(event, ChunkData):
                    size += len(event.data)
                    if size > MAX_STREAMED_RESPONSE_BYTES:
                        self.close_connection = True
                        invocation._finish(
                            "streaming", complete=False, error_type="Function.ResponseSizeTooLarge", error=None
                        )
                        return self._reply_error(413, "RequestEntityTooLarge", "stream over 200 MB")
                    invocation._add_piece(event)
                else:
                    trailers = dict(event.trailers)
                    error_type, error = decode_error_trailers(trailers)
                    finished = invocation._finish("streaming", trailers=trailers, error_type=error_type, error=error)
                    if decoder.unused:
                        self.close_connection = True
                    if finished:
                        return self._reply(202, {"status": "OK"})
                    self.close_connection = True
                    return


def _peer_open(sock: socket.socket) -> bool:
    """False when the peer has closed or reset the connection (a runtime polling /next sends nothing)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


class RuntimeAPIServer:
    """The Runtime API for one function: a FIFO of invocations shared by one or more worker endpoints."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function_arn: str = DEFAULT_FUNCTION_ARN,
        on_timeout: Callable[[Invocation], None] | None = None,
        on_init_error: Callable[[InitError], None] | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.function_arn = function_arn
        self.on_timeout = on_timeout
        self.on_init_error = on_init_error
        self._cond = threading.Condition()
        self._queue: deque[Invocation] = deque()
        self._running_by_id: dict[str, Invocation] = {}
        self._first_poll: dict[str, float] = {}
        self._polls: dict[str, int] = {}
        self._init_errors: list[InitError] = []
        self._listeners: dict[str, _Listener] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._watchdog: threading.Thread | None = None

    # lifecycle
    def start(self) -> RuntimeAPIServer:
        self._open("default", self.requested_port)
        self._watchdog = threading.Thread(target=self._watch_deadlines, name="runtime-api-deadlines", daemon=True)
        self._watchdog.start()
        return self

    def _open(self, worker: str, port: int) -> _Listener:
        with self._cond:
            if worker in self._listeners:
                raise ValueError(f"endpoint for worker {worker!r} already open")
        listener = _Listener((self.host, port), _Handler)
        listener.api = self
        listener.worker = worker
        thread = threading.Thread(
            target=listener.serve_forever, kwargs={"poll_interval": 0.05}, name=f"runtime-api-{worker}", daemon=True
        )
        with self._cond:
            self._listeners[worker] = listener
            self._threads.append(thread)
        thread.start()
        return listener

    def open_endpoint(self, worker: str) -> str:
        """Open another port on the same queue; invocations taken there carry ``worker``. Returns host:port."""
        listener = self._open(worker, 0)
        return f"{self.host}:{listener.server_address[1]}"

    def close_endpoint(self, worker: str) -> None:
        """Stop serving ``worker``'s port; its pending long-poll is answered 500 (exit now)."""
        with self._cond:
            listener = self._listeners.pop(worker, None)
            self._cond.notify_all()
        if listener is not None:
            listener.shutdown()
            listener.server_close()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            pending = list(self._queue) + list(self._running_by_id.values())
            self._queue.clear()
            listeners = list(self._listeners.values())
            self._listeners.clear()
            self._cond.notify_all()
        for invocation in pending:
            invocation.abandon("Runtime.Shutdown", "runtime API stopped")
        for listener in listeners:
            listener.shutdown()
            listener.server_close()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)

    def __enter__(self) -> RuntimeAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """``host:port`` of the default endpoint, the value for ``AWS_LAMBDA_RUNTIME_API``."""
        return self.endpoint("default")

    def endpoint(self, worker: str) -> str:
        with self._cond:
            listener = self._listeners[worker]
        return f"{self.host}:{listener.server_address[1]}"

    # producer API
    def invoke(
        self,
        event: Mapping[str, Any] | bytes,
        *,
        timeout_ms: int = 900_000,
        trace_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> Invocation:
        """Queue an event; the deadline (``timeout_ms``) starts when a worker takes it."""
        if timeout_ms < 1:
            raise ValueError("timeout_ms must be >= 1")
        raw = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        invocation = Invocation(
            raw,
            timeout_ms=timeout_ms,
            function_arn=self.function_arn,
            trace_id=trace_id or _new_trace_id(),
            client_context=client_context,
            cognito_identity=cognito_identity,
        )
        with self._cond:
            if self._stopping:
                raise RuntimeError("runtime API stopped")
            self._queue.append(invocation)
            self._cond.notify_all()
        return invocation

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    @property
    def running(self) -> list[Invocation]:
        with self._cond:
            return list(self._running_by_id.values())

    def init_errors(self) -> list[InitError]:
        with self._cond:
            return list(self._init_errors)

    def polls(self, worker: str = "default") -> int:
        """How many ``/next`` requests this worker has made (a new one = it finished the previous event)."""
        with self._cond:
            return self._polls.get(worker, 0)

    def wait_for_poll(self, worker: str = "default", timeout: float = 10.0, count: int = 1) -> float:
        """Block until ``worker`` has polled ``/next`` ``count`` times; returns its first poll time."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._polls.get(worker, 0) >= count or self._stopping, timeout):
                raise TimeoutError(f"worker {worker!r} did not poll /next {count}x within {timeout}s")
            return self._first_poll.get(worker, float("nan"))

    def wait_for_init_error(self, timeout: float = 10.0) -> InitError:
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._init_errors), timeout):
                raise TimeoutError(f"no /init/error within {timeout}s")
            return self._init_errors[0]

    # handler callbacks
    def _next(self, worker: str, poller_alive: Callable[[], bool]) -> Invocation | None:
        """Block until an invocation is queued and hand it out; None = tell this poller to go away.

        A worker killed while long-polling leaves its handler waiting here; it must not take an event
        it can never deliver, so the poller's connection is checked before anything is handed out.
        """
        with self._cond:
            self._first_poll.setdefault(worker, time.monotonic())
            self._polls[worker] = self._polls.get(worker, 0) + 1
            self._cond.notify_all()
            while True:
                while self._queue and self._queue[0].done:
                    self._queue.popleft()  # cancelled or abandoned while queued
                if self._stopping or worker not in self._listeners:
                    return None
                if self._queue:
                    if not poller_alive():
                        return None
                    break
                self._cond.wait()
            invocation = self._queue.popleft()
            now = time.monotonic()
            invocation.worker = worker
            invocation.handed_out_at = now
            invocation.deadline_monotonic = now + invocation.timeout_ms / 1000
            invocation.deadline_epoch_ms = int(time.time() * 1000) + invocation.timeout_ms
            self._running_by_id[invocation.request_id] = invocation
            self._cond.notify_all()
            return invocation

    def _requeue(self, invocation: Invocation) -> None:
        """Put back an event whose hand-out failed, first in line, as if it had never left."""
        with self._cond:
            self._running_by_id.pop(invocation.request_id, None)
            invocation.worker = None
            invocation.handed_out_at = None
            invocation.deadline_monotonic = None
            invocation.deadline_epoch_ms = None
            if not self._stopping and not invocation.done:
                self._queue.appendleft(invocation)
            self._cond.notify_all()

    def _running(self, request_id: str) -> Invocation | None:
        with self._cond:
            return self._running_by_id.get(request_id)

    def _release(self, invocation: Invocation) -> None:
        with self._cond:
            if invocation.done:
                self._running_by_id.pop(invocation.request_id, None)
            self._cond.notify_all()

    def _record_init_error(self, worker: str, error_type: str | None, error: Any) -> None:
        item = InitError(worker, error_type, error, time.monotonic())
        with self._cond:
            self._init_errors.append(item)
            self._cond.notify_all()
        if self.on_init_error is not None:
            self.on_init_error(item)

    def _watch_deadlines(self) -> None:
        while True:
            expired: list[Invocation] = []
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                nearest: float | None = None
                # Cancelled/abandoned invocations stay listed until their deadline so that a late
                # /response from the worker gets InvalidStateTransition rather than InvalidRequestID.
                for request_id, invocation in list(self._running_by_id.items()):
                    deadline = invocation.deadline_monotonic
                    if deadline is None:
                        continue
                    if deadline <= now:
                        del self._running_by_id[request_id]
                        expired.append(invocation)
                    elif nearest is None or deadline < nearest:
                        nearest = deadline
                if not expired:
                    # Hand-outs notify this condition, so the nearest deadline is always known here.
                    self._cond.wait(min(1.0, nearest - now) if nearest is not None else 1.0)
            for invocation in expired:
                if invocation._expire() and self.on_timeout is not None:
                    self.on_timeout(invocation)


def _new_trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
