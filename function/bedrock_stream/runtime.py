"""The Lambda Runtime API loop with streaming responses: ``python -m bedrock_stream.runtime``.

The thin I/O shell around :mod:`framing` and :mod:`runtime_http`: a TCP connection to
``AWS_LAMBDA_RUNTIME_API`` (TCP_NODELAY, so every chunk leaves at once), ``GET invocation/next`` forever,
and per invocation a chunked streaming ``POST invocation/{id}/response`` driven by the handler. The
connection is kept alive between ``/next`` and the response, and closed after each streamed response.

Error paths:
* init fails (handler import or configuration) → ``POST init/error``, exit 1;
* the handler raises before starting its response → ``POST invocation/{id}/error``;
* the handler raises after starting → the error trailers end the streamed response;
* the response connection breaks (consumer gone) → the handler sees ClientDisconnected; the loop reconnects.
One failed invocation never stops the loop.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bedrock_stream import framing, runtime_http
from bedrock_stream.contract import ClientDisconnected, InvocationContext, ResponseStream

DEFAULT_HANDLER = "bedrock_stream.handler.handle"
Handler = Callable[[Any, InvocationContext, ResponseStream], None]
RECV_SIZE = 65536


def log(level: str, message: str, **fields: object) -> None:
    sys.stdout.write(json.dumps({"level": level, "message": message, **fields}, default=str) + "\n")
    sys.stdout.flush()


class RuntimeConnection:
    """A reconnecting HTTP/1.1 connection to the Runtime API."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"AWS_LAMBDA_RUNTIME_API must be host:port, got {address!r}")
        self.host_header = address
        self._address = (host.strip("[]"), int(port))
        self._sock: socket.socket | None = None
        self._buf = bytearray()

    def socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.create_connection(self._address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._buf.clear()
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf.clear()

    def send(self, data: bytes) -> None:
        self.socket().sendall(data)

    def peer_gone(self) -> bool:
        """True when the Runtime API closed, reset, or already answered this connection.

        While a streamed response is in flight the Runtime API sends nothing, so any of these means the
        response is no longer being consumed. A ``sendall`` alone would only notice one or more writes later
        (the first write after a close still lands in the kernel buffer).
        """
        if self._sock is None:
            return True
        try:
            self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False  # nothing to read: still consuming
        except OSError:
            return True
        return True  # EOF or early bytes

    def _fill(self) -> bool:
        assert self._sock is not None
        data = self._sock.recv(RECV_SIZE)
        if not data:
            return False
        self._buf += data
        return True

    def read_response(self) -> tuple[runtime_http.ResponseHead, bytes]:
        """Read one complete response; closes the connection afterwards unless it is keep-alive."""
        self.socket()
        while (end := self._buf.find(runtime_http.HEAD_END)) < 0:
            if len(self._buf) > runtime_http.MAX_HEAD_BYTES:
                raise runtime_http.ProtocolError("response head too large")
            if not self._fill():
                raise ConnectionError("Runtime API closed the connection before responding")
        head = runtime_http.parse_response_head(bytes(self._buf[:end]))
        del self._buf[: end + len(runtime_http.HEAD_END)]
        length = runtime_http.body_length(head)
        keep = head.keep_alive
        if length is None:
            decoder = runtime_http.ChunkedDecoder()
            body = bytearray(decoder.feed(bytes(self._buf)))
            self._buf.clear()
            while not decoder.done:
                if not self._fill():
                    raise ConnectionError("Runtime API closed the connection inside a chunked body")
                body += decoder.feed(bytes(self._buf))
                self._buf.clear()
            payload = bytes(body)
        elif length < 0:
            while self._fill():
                pass
            payload = bytes(self._buf)
            self._buf.clear()
            keep = False
        else:
            while len(self._buf) < length:
                if not self._fill():
                    raise ConnectionError("Runtime API closed the connection inside a response body")
            payload = bytes(self._buf[:length])
            del self._buf[:length]
        if not keep:
            self.close()
        return head, payload

    def request(self, data: bytes) -> tuple[runtime_http.ResponseHead, bytes]:
        self.send(data)
        return self.read_response()


class StreamingResponse:
    """The ResponseStream handed to the handler: a chunked POST written straight to the socket."""

    def __init__(self, connection: RuntimeConnection, request_id: str) -> None:
        self._connection = connection
        self._request_id = request_id
        self.started = False
        self.broken = False
        self.ended = False

    def _send(self, data: bytes) -> None:
        if self.broken:
            raise ClientDisconnected("response stream already broken")
        if self.started and self._connection.peer_gone():
            self.broken = True
            raise ClientDisconnected("the Runtime API closed the response connection")
        try:
            self._connection.send(data)
        except OSError as exc:
            self.broken = True
            raise ClientDisconnected(str(exc)) from exc

    def start(self, status: int, headers: Mapping[str, str], cookies: Sequence[str] = ()) -> None:
        if self.started:
            raise RuntimeError("response already started")
        prelude = framing.integration_prelude(status, headers, cookies)
        head = framing.streaming_response_head(self._request_id, self._connection.host_header)
        self._send(head + framing.encode_chunk(prelude))
        self.started = True

    def write(self, data: bytes) -> None:
        if not self.started:
            raise RuntimeError("write before start")
        if self.ended:
            raise RuntimeError("write after end")
        if data:
            self._send(framing.encode_chunk(data))

    def fail(self, error_type: str, message: str) -> None:
        if not self.started:
            raise RuntimeError("fail before start")
        if not self.ended:
            self.ended = True
            self._send(framing.error_trailers(error_type, message))

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self._send(framing.LAST_CHUNK)


def resolve_handler(spec: str) -> Handler:
    module_name, _, attribute = spec.replace("/", ".").rpartition(".")
    if not module_name:
        raise ImportError(f"handler {spec!r} must be 'module.function'")
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise AttributeError(f"handler {spec!r}: module {module_name!r} has no function {attribute!r}")
    return handler  # type: ignore[no-any-return]


def _stack(exc: BaseException) -> list[str]:
    import traceback  # error path only: it pulls in linecache and textwrap at cold start

    return [line.rstrip("\n") for line in traceback.format_exception(exc)][-20:]


class RuntimeLoop:
    def __init__(self, connection: RuntimeConnection, handler: Handler) -> None:
        self.connection = connection
        self.handler = handler

    def next_invocation(self) -> tuple[InvocationContext, bytes]:
        request = runtime_http.next_invocation_request(self.connection.host_header)
        try:
            head, body = self.connection.request(request)
        except (OSError, runtime_http.ProtocolError):
            # A kept-alive connection may have been closed by the server meanwhile: retry once, fresh.
            self.connection.close()
            head, body = self.connection.request(request)
        if head.status != 200:
            raise RuntimeError(f"invocation/next returned HTTP {head.status}")
        headers = head.headers
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        if not request_id:
            raise RuntimeError("invocation/next response has no Lambda-Runtime-Aws-Request-Id")
        deadline = headers.get("lambda-runtime-deadline-ms", "")
        context = InvocationContext(
            request_id=request_id,
            deadline_ms=int(deadline) if deadline.isdigit() else int(time.time() * 1000) + 900_000,
            invoked_function_arn=headers.get("lambda-runtime-invoked-function-arn", ""),
            trace_id=headers.get("lambda-runtime-trace-id", ""),
            client_context=headers.get("lambda-runtime-client-context"),
            cognito_identity=headers.get("lambda-runtime-cognito-identity"),
        )
        return context, body

    def serve_one(self) -> None:
        context, body = self.next_invocation()
        if context.trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = context.trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            event = None  # the handler rejects it with a defined 400
        stream = StreamingResponse(self.connection, context.request_id)
        try:
            self.handler(event, context, stream)
        except ClientDisconnected:
            stream.broken = True
        except Exception as exc:
            log("ERROR", "handler failed", request_id=context.request_id, error_type=type(exc).__name__)
            if not stream.started:
                self._post_error(context.request_id, exc)
                return
            if not stream.broken:
                with contextlib.suppress(ClientDisconnected):
                    stream.fail(f"Runtime.{type(exc).__name__}", str(exc) or type(exc).__name__)
        if stream.broken:
            log("WARN", "response stream closed by the consumer", request_id=context.request_id)
            self.connection.close()
            if not stream.started:
                self._post_error(context.request_id, ConnectionError("response connection failed"))
            return
        if not stream.started:
            self._post_error(context.request_id, RuntimeError("handler returned without a response"))
            return
        try:
            stream.end()
            head, _ = self.connection.read_response()
        except (OSError, runtime_http.ProtocolError) as exc:
            log("WARN", "no acknowledgement for the streamed response", request_id=context.request_id,
                error=type(exc).__name__)
            return
        finally:
            # AWS's custom-runtime streaming steps: close the connection once the streamed response is written
            # (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming).
            # The next /next opens a fresh one: a loopback connect, ~0.1 ms.
            self.connection.close()
        if head.status >= 300:
            log("WARN", "Runtime API refused the response", request_id=context.request_id, status=head.status)

    def _post_error(self, request_id: str, exc: BaseException) -> None:
        error_type = f"Runtime.{type(exc).__name__}"
        body = runtime_http.error_document(error_type, str(exc) or type(exc).__name__, _stack(exc))
        path = f"/invocation/{request_id}/error"
        try:
            self.connection.request(runtime_http.post_request(self.connection.host_header, path, body, error_type))
        except (OSError, runtime_http.ProtocolError):
            self.connection.close()


def post_init_error(connection: RuntimeConnection, exc: BaseException) -> None:
    if isinstance(exc, ImportError):
        error_type = "Runtime.ImportModuleError"
    elif isinstance(exc, AttributeError):
        error_type = "Runtime.HandlerNotFound"
    else:
        error_type = f"Runtime.{type(exc).__name__}"
    body = runtime_http.error_document(error_type, str(exc) or type(exc).__name__, _stack(exc))
    log("ERROR", "init failed", error_type=error_type, error=str(exc))
    try:
        connection.request(runtime_http.post_request(connection.host_header, "/init/error", body, error_type))
    except (OSError, runtime_http.ProtocolError) as post_exc:
        log("ERROR", "could not report the init error", error=str(post_exc))


def main() -> int:
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
    try:
        connection = RuntimeConnection(address)
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    try:
        handler = resolve_handler(os.environ.get("_HANDLER") or DEFAULT_HANDLER)
    except Exception as exc:
        post_init_error(connection, exc)
        return 1
    loop = RuntimeLoop(connection, handler)
    while True:
        try:
            loop.serve_one()
        except (OSError, RuntimeError, runtime_http.ProtocolError) as exc:
            # The Runtime API itself failed: nothing more can be served by this process.
            log("ERROR", "Runtime API failure", error=str(exc))
            return 1


if __name__ == "__main__":
    sys.exit(main())
