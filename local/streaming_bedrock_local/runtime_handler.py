"""The Runtime API's HTTP shell: one request handler per worker connection (``/next``, ``/response``, ``/error``).

The handler parses requests, reads bodies (buffered or chunked, through the pure :class:`ChunkedDecoder`) and
writes answers; the queue and deadlines live in :class:`streaming_bedrock_local.runtime_api.RuntimeAPIServer`,
an invocation's state in :class:`streaming_bedrock_local.runtime_invocation.Invocation`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from streaming_bedrock_local.chunked import ChunkData, ChunkedDecoder, ChunkedError
from streaming_bedrock_local.loopback_http import LoopbackHTTPServer
from streaming_bedrock_local.runtime_invocation import (
    ERROR_TYPE_TRAILER,
    Invocation,
    Mode,
    decode_error_trailers,
)

if TYPE_CHECKING:
    from streaming_bedrock_local.runtime_api import RuntimeAPIServer

log = logging.getLogger(__name__)

API_PREFIX = "/2018-06-01/runtime"
MAX_BUFFERED_RESPONSE_BYTES = 6 * 1024 * 1024
MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024


class RuntimeListener(LoopbackHTTPServer):
    """One worker's endpoint: a server bound to the shared API, tagged with the worker it serves."""

    api: RuntimeAPIServer
    worker: str


class RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: RuntimeListener
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
