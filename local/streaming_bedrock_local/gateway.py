"""The local API Gateway: a threaded HTTP/1.1 server on 127.0.0.1 that streams the function's response.

Thin I/O shell around the pure pieces: :func:`streaming_bedrock_local.routing.route` decides,
:func:`streaming_bedrock_local.proxy_event.build_event` builds the event,
:class:`streaming_bedrock_local.metadata.MetadataParser` reads the prelude. Per request:

1. gateway errors, preflight → a complete response with CORS headers;
2. otherwise invoke the function and wait for its metadata: invalid → 500, function error or crash → 502,
   integration timeout → 504;
3. send status + headers, then relay every chunk as its own HTTP chunk the moment it arrives (TCP_NODELAY,
   no buffering);
4. the function's error trailers, the idle timeout or the stream time limit end the client response
   abnormally (see :meth:`_GatewayHandler.end_abnormally`); a client that went away cancels the invocation.

Each request writes one JSON log line (logger ``streaming_bedrock_local.gateway``): request id, method, path,
status, outcome, bytes relayed, time to first byte and duration. Never any body text.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from streaming_bedrock_api.settings import Settings

from streaming_bedrock_local.chunked import ChunkData, ChunkedDecoder, ChunkedError
from streaming_bedrock_local.invocation import Chunk, Finished, FunctionInvoker, Invocation
from streaming_bedrock_local.invoke_limit import fits_invocation
from streaming_bedrock_local.local_clients import DEFAULT_KEY_ID, LocalApiKey, match_key
from streaming_bedrock_local.loopback_http import LoopbackHTTPServer
from streaming_bedrock_local.metadata import InvalidMetadata, Metadata, MetadataParser
from streaming_bedrock_local.proxy_event import ProxyRequest, build_event
from streaming_bedrock_local.routing import (
    MAX_PAYLOAD_BYTES,
    GatewayReply,
    gateway_error,
    presented_key,
    response_headers,
    route,
)

log = logging.getLogger("streaming_bedrock_local.gateway")

DEFAULT_PORT = 3000
# REST API streaming limits: 5 minutes without a byte (REGIONAL/PRIVATE), 15 minutes in total.
IDLE_TIMEOUT_S = 300.0
STREAM_LIMIT_S = 900.0
# How often a waiting relay looks at the client socket to notice a disconnect.
_CLIENT_CHECK_S = 0.2


# Where --serve-demo puts the demo page: the gateway's own origin, so the page's calls are same-origin (no CORS).
DEMO_PATHS = ("/demo", "/demo/")


@dataclass(frozen=True)
class GatewayOptions:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_key: str | None = None
    idle_timeout_s: float = IDLE_TIMEOUT_S
    stream_limit_s: float = STREAM_LIMIT_S
    # Emulates a BUFFERED integration (or a buffering proxy): nothing reaches the client until the function's
    # response has ended, then all of it at once. For tests of tools that must tell the two apart (verify).
    buffer_response: bool = False
    # Named clients' keys (local_clients.py); when empty, ``api_key`` is the single key.
    client_keys: tuple[LocalApiKey, ...] = ()

    def accepted_keys(self) -> tuple[LocalApiKey, ...]:
        if self.client_keys:
            return self.client_keys
        return (LocalApiKey("default", DEFAULT_KEY_ID, self.api_key),) if self.api_key is not None else ()
    # Called with each request's record when it ends; None logs the record as one JSON line (logger INFO).
    access_log: Callable[[Mapping[str, Any]], None] | None = None
    # The demo page's HTML, served at DEMO_PATHS (GET) when set; not part of the API Gateway emulation.
    demo_html: bytes | None = None


class _ClientGone(Exception):
    pass


class GatewayServer(LoopbackHTTPServer):
    """Owns the settings and the invoker; one thread per connection."""

    request_queue_size = 128

    def __init__(self, settings: Settings, invoker: FunctionInvoker, options: GatewayOptions) -> None:
        self.settings = settings
        self.invoker = invoker
        self.options = options
        # Time to the metadata is the integration timeout; the stream itself may last up to the stream limit.
        self.integration_timeout_s = min(settings.integration_timeout_ms / 1000, options.stream_limit_s)
        super().__init__((options.host, options.port), _GatewayHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _GatewayHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "streaming-bedrock-local"
    sys_version = ""
    # Socket timeout: an idle keep-alive connection, or a client that stops reading, is dropped after this.
    timeout = IDLE_TIMEOUT_S

    # -- entry points ----------------------------------------------------------------------------------------

    def do_POST(self) -> None:
        self._serve()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        # The JSON line per request replaces http.server's access log.
        pass

    # -- request handling ------------------------------------------------------------------------------------

    def _serve(self) -> None:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        record: dict[str, Any] = {
            "requestId": request_id,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.command,
            "path": self.path.split("?")[0],
            "client": f"{self.client_address[0]}:{self.client_address[1]}",
        }
        try:
            self._dispatch(request_id, record, started)
        except _ClientGone:
            record.setdefault("outcome", "client_disconnected")
            self.close_connection = True
        except Exception as error:
            # A bug in the emulator: the request still gets a defined end and one log line.
            record["outcome"] = "gateway_bug"
            record["error"] = f"{error.__class__.__name__}: {error}"
            self.close_connection = True
            log.exception("gateway failed on request %s", request_id)
        finally:
            record["durationMs"] = round((time.monotonic() - started) * 1000, 1)
            if self.server.options.access_log is not None:
                self.server.options.access_log(record)
            else:
                log.info(json.dumps(record, separators=(",", ":")))

    def _dispatch(self, request_id: str, record: dict[str, Any], started: float) -> None:
        settings = self.server.settings
        headers = list(self.headers.items())
        length_text = self.headers.get("Content-Length")
        try:
            declared = int(length_text) if length_text is not None else 0
            if declared < 0:
                raise ValueError(length_text)
        except ValueError:
            self.close_connection = True  # the body's end is unknown, so the connection cannot be reused
            self._reply(gateway_error("BAD_REQUEST_BODY", settings, request_id), record)
            return
        demo = self.server.options.demo_html
        if demo is not None and self.command == "GET" and self.path.split("?")[0] in DEMO_PATHS:
            record["outcome"] = "demo_page"
            self._discard_body(declared)
            page_headers = (("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"))
            self._reply(GatewayReply(200, page_headers, demo), record)
            return
        # The key the client sent, if it is one of ours: its id goes into the event as API Gateway's apiKeyId.
        matched = match_key(self.server.options.accepted_keys(), presented_key(self.path, headers, settings))
        decision = route(
            self.command, self.path, headers, settings, matched.value if matched else None, request_id, declared
        )
        if isinstance(decision, GatewayReply):
            self._discard_body(declared)
            self._reply(decision, record)
            return
        try:
            body = self._read_body(declared)
        except ValueError:  # malformed chunked framing
            self.close_connection = True
            self._reply(gateway_error("BAD_REQUEST_BODY", settings, request_id), record)
            return
        if body is None:
            self.close_connection = True
            self._reply(gateway_error("REQUEST_TOO_LARGE", settings, request_id), record)
            return
        request = ProxyRequest(
            method=self.command,
            resource_path=decision.resource_path,
            client_path=decision.client_path,
            stage=settings.stage_name,
            query=decision.query,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
            api_key=decision.api_key,
            api_key_id=matched.key_id if matched is not None and decision.api_key is not None else None,
        )
        # The deployed stage's access log names the caller's key and the transfer mode (access_logs.py).
        record["apiKeyId"] = request.api_key_id
        record["sourceIp"] = request.source_ip
        record["responseTransferMode"] = "STREAMED"
        event = build_event(request)
        if not fits_invocation(event):  # Lambda's 6 MB invocation payload, not API Gateway's 10 MB
            self._reply(gateway_error("REQUEST_TOO_LARGE", settings, request_id), record)
            return
        invocation = self.server.invoker.invoke(event, request_id)
        try:
            self._stream(invocation, request_id, record, started)
        finally:
            if record.get("outcome") != "complete":
                invocation.cancel(str(record.get("outcome", "gateway closed")))

    def _read_body(self, declared: int) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        body = self.rfile.read(declared) if declared else b""
        if len(body) < declared:
            raise _ClientGone  # the client closed inside its own body
        return body

    def _read_chunked_body(self) -> bytes | None:
        """Decode a chunked body with the Runtime API's strict decoder; None when it would pass the payload cap.

        Each declared chunk size is checked against the cap before the chunk is read, so a huge size is refused
        at once. Malformed framing raises :class:`ChunkedError` (a ``ValueError``); a client that closes inside
        its body raises :class:`_ClientGone`.
        """
        decoder = ChunkedDecoder()
        body = bytearray()
        while not decoder.done:
            decoder.feed(self._read_framing_line())  # a size line, a trailer line or the empty last line
            size = decoder.chunk_remaining
            if not size:
                continue
            if len(body) + size > MAX_PAYLOAD_BYTES:
                return None
            data = self.rfile.read(size + 2)  # the chunk and its CRLF
            if len(data) < size + 2:
                raise _ClientGone
            for event in decoder.feed(data):  # raises when the CRLF is not there
                if isinstance(event, ChunkData):
                    body += event.data
        return bytes(body)

    def _read_framing_line(self) -> bytes:
        limit = ChunkedDecoder.MAX_LINE + 2
        line = self.rfile.readline(limit)
        if line.endswith(b"\r\n"):
            return line
        if len(line) == limit or line.endswith(b"\n"):
            raise ChunkedError("chunk framing line too long or not ended by CRLF")
        raise _ClientGone  # closed inside the line

    def _discard_body(self, declared: int) -> None:
        if declared > MAX_PAYLOAD_BYTES or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # not worth reading; the connection cannot be reused
        elif declared:
            self.rfile.read(declared)

    def _reply(self, reply: GatewayReply, record: dict[str, Any]) -> None:
        record["status"] = reply.status
        record.setdefault("outcome", "gateway_response")
        self.send_response_only(reply.status)
        self.send_header("Date", self.date_time_string())
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._write(reply.body if self.command != "HEAD" else b"")

    # -- streaming -------------------------------------------------------------------------------------------

    def _stream(self, invocation: Invocation, request_id: str, record: dict[str, Any], started: float) -> None:
        settings = self.server.settings
        parser = MetadataParser()
        metadata_by = started + self.server.integration_timeout_s
        parsed: Metadata | InvalidMetadata | None = None
        while parsed is None:
            remaining = metadata_by - time.monotonic()
            if remaining <= 0:
                record["outcome"] = "integration_timeout"
                self._reply(gateway_error("INTEGRATION_TIMEOUT", settings, request_id), record)
                return
            event = invocation.next_event(min(remaining, _CLIENT_CHECK_S))
            if event is None:
                self._check_client()
            elif isinstance(event, Chunk):
                parsed = parser.feed(event.data)
            elif isinstance(event, Finished):
                parsed = parser.end()
            else:
                record["outcome"] = f"invoke_{event.kind}"
                record["error"] = event.message
                # Lambda reports a timed-out or crashed invocation as a function error: 502, like AWS.
                self._reply(gateway_error("LAMBDA_ERROR", settings, request_id), record)
                return
        if isinstance(parsed, InvalidMetadata):
            record["outcome"] = "invalid_metadata"
            record["error"] = parsed.reason
            self._reply(gateway_error("INTEGRATION_FAILURE", settings, request_id), record)
            return

        held: tuple[bytes, Finished | None] | None = None
        if self.server.options.buffer_response:
            held = self._hold(invocation, parsed.rest, record, started)
        record["status"] = parsed.status
        self.send_response_only(parsed.status)
        self.send_header("Date", self.date_time_string())
        for name, value in response_headers(parsed.headers, request_id):
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()  # flushes the status line and headers at once
        record["ttfbMs"] = round((time.monotonic() - started) * 1000, 1)
        record["bytes"] = 0
        if held is not None:
            body, end = held
            if body:
                self._write_chunk(body, record)
        else:
            if parsed.rest:
                self._write_chunk(parsed.rest, record)
            end = self._relay(invocation, record, started)
        if end is not None and end.error_type is None:
            self._write(b"0\r\n\r\n")
            record["outcome"] = "complete"
            return
        if end is not None:
            record["outcome"] = "function_error"
            record["error"] = end.error_type
        self.end_abnormally()

    def _relay(self, invocation: Invocation, record: dict[str, Any], started: float) -> Finished | None:
        """Forward chunks until the function's response ends; None when the stream was cut."""
        options = self.server.options
        stream_until = started + options.stream_limit_s
        last_byte = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= stream_until:
                record["outcome"] = "stream_time_limit"
                return None
            if now - last_byte >= options.idle_timeout_s:
                record["outcome"] = "idle_timeout"
                return None
            wait = min(_CLIENT_CHECK_S, stream_until - now, options.idle_timeout_s - (now - last_byte))
            event = invocation.next_event(max(wait, 0.0))
            if event is None:
                self._check_client()
            elif isinstance(event, Chunk):
                if event.data:
                    self._write_chunk(event.data, record)
                    last_byte = time.monotonic()
            elif isinstance(event, Finished):
                return event
            else:
                # The worker died or hit its deadline after the response started.
                record["outcome"] = f"invoke_{event.kind}"
                record["error"] = event.message
                return None

    def _hold(
        self, invocation: Invocation, first: bytes, record: dict[str, Any], started: float
    ) -> tuple[bytes, Finished | None]:
        """``buffer_response``: collect the whole response; (body, end), end None when it was cut."""
        body = bytearray(first)
        stream_until = started + self.server.options.stream_limit_s
        while (remaining := stream_until - time.monotonic()) > 0:
            event = invocation.next_event(min(remaining, _CLIENT_CHECK_S))
            if event is None:
                self._check_client()
            elif isinstance(event, Chunk):
                body += event.data
            elif isinstance(event, Finished):
                return bytes(body), event
            else:
                record["outcome"] = f"invoke_{event.kind}"
                record["error"] = event.message
                return bytes(body), None
        record["outcome"] = "stream_time_limit"
        return bytes(body), None

    def end_abnormally(self) -> None:
        """How the client learns that a started stream failed: the connection closes without the last chunk.

        No AWS document says what API Gateway does with the function's error trailers; this is the one place
        that models it (an HTTP client sees an incomplete chunked body: curl exit 18, ``IncompleteRead``,
        a ``TypeError`` from a browser's stream reader).
        """
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- socket helpers --------------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            raise _ClientGone from None

    def _write_chunk(self, data: bytes, record: dict[str, Any]) -> None:
        # One send per chunk: size line, data and CRLF together.
        self._write(b"%x\r\n%b\r\n" % (len(data), data))
        record["bytes"] += len(data)

    def _check_client(self) -> None:
        """Raise :class:`_ClientGone` when the client closed its side (readable with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                raise _ClientGone
        except (OSError, ValueError):
            raise _ClientGone from None


def start_gateway(
    settings: Settings, invoker: FunctionInvoker, options: GatewayOptions
) -> tuple[GatewayServer, threading.Thread]:
    """Bind (raises ``OSError`` when the port is taken) and serve in a background thread."""
    server = GatewayServer(settings, invoker, options)
    thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    thread.start()
    return server, thread
