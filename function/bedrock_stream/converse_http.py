"""A lean ConverseStream client: one keep-alive HTTP/1.1 connection, SigV4, the event-stream decoder.

The I/O shell around pure modules: :mod:`converse_protocol` (request bytes, error shape), :mod:`sigv4`,
:mod:`retry_policy`, :mod:`runtime_http` (response head, chunked decoder), :mod:`eventstream_decoder` and
:mod:`converse_stream_parser`. It keeps botocore's contract for the relay: ``converse_stream(**arguments)``
returns ``{"stream": iterable of one-key event dicts}`` with the same events, raises exceptions with the same
``response["Error"]`` and class names, and retries before the stream starts as botocore's standard mode does.

Why not botocore: at 256 MB's CPU share importing botocore alone takes ~1.5 s and building the client ~0.6 s
(function README, "At the CPU a deployed function gets"); this module and its imports take a few ms at
full CPU, and decoding an event costs a fraction of botocore's per-event parsing.

The connection is opened (and TLS-handshaken) during init by :meth:`warm`, reused while the server keeps it
alive, checked for a server close before reuse, and replaced once for free if a reused connection turns out
dead before any answer. ``stream.close()`` shuts the socket down, which also wakes a reader blocked in ``recv``.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bedrock_stream import bedrock_errors as errors
from bedrock_stream import runtime_http
from bedrock_stream.aws_env import SIGNING_NAME, Endpoint
from bedrock_stream.converse_protocol import build_request, parse_error, request_body
from bedrock_stream.converse_stream_parser import parse_message
from bedrock_stream.eventstream_decoder import EventStreamDecoder
from bedrock_stream.retry_policy import TOTAL_ATTEMPTS, Outcome, RetryQuota, backoff_seconds, is_retryable
from bedrock_stream.sigv4 import Credentials, signing_key

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 120.0
RECV_SIZE = 65536
USER_AGENT = (f"streaming-bedrock-api lean-converse-stream python/{sys.version_info[0]}.{sys.version_info[1]} "
              f"exec-env/{os.environ.get('AWS_EXECUTION_ENV', 'unknown')} cfg/retry-mode#standard")


def _random() -> float:
    """A uniform float in [0, 1) for backoff jitter (``random`` is not imported: cold start)."""
    return int.from_bytes(os.urandom(7), "big") / 2**56


def _uuid4() -> str:
    """A random (version 4) UUID string for ``amz-sdk-invocation-id`` (``uuid`` imports ``platform``)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class Connection:
    """One HTTP/1.1 connection: a socket (TLS for https) and the bytes received but not yet consumed."""

    def __init__(self, endpoint: Endpoint, tls: Callable[[socket.socket, str], socket.socket] | None) -> None:
        try:
            sock = socket.create_connection((endpoint.host, endpoint.port), timeout=CONNECT_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise errors.ConnectTimeoutError(f'Connect timeout on endpoint URL: "{endpoint.url}"',
                                             endpoint.url) from exc
        except OSError as exc:
            raise errors.EndpointConnectionError(
                f'Could not connect to the endpoint URL: "{endpoint.url}"', endpoint.url) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if tls is not None:
            try:
                sock = tls(sock, endpoint.host)
            except OSError as exc:
                sock.close()
                raise errors.EndpointConnectionError(f"TLS handshake with {endpoint.url} failed: {exc}",
                                                     endpoint.url) from exc
        sock.settimeout(READ_TIMEOUT_SECONDS)
        self.sock = sock
        self.tls = tls is not None
        self.buffer = bytearray()
        self.used = False

    def dropped(self) -> bool:
        """True if the server closed (or reset) this idle connection, or sent something unasked."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        if not readable:
            return False
        if not self.tls:
            return True  # EOF, a reset or stray bytes: in every case not a connection to send a request on
        import ssl

        self.sock.setblocking(False)
        try:
            self.sock.recv(1)  # TLS: session tickets are readable too, and are not a close
        except ssl.SSLWantReadError:
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(READ_TIMEOUT_SECONDS)
        return True

    def fill(self) -> bool:
        """Receive more bytes into ``buffer``; False at EOF."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except TimeoutError as exc:
            raise errors.ReadTimeoutError("Read timeout on endpoint URL") from exc
        if not data:
            return False
        self.buffer += data
        return True

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


class LeanEventStream:
    """The ``stream`` of a ConverseStream response: yields events as botocore's EventStream does.

    Besides iteration it offers :meth:`next_event` with a timeout, so the relay can read events on its own
    thread (one wake-up per event instead of a reader thread handing each event over through a queue).
    A failure is raised only after every event decoded before it was handed out, as in botocore.
    """

    def __init__(self, connection: Connection, head: runtime_http.ResponseHead,
                 release: Callable[[Connection], None]) -> None:
        self._connection: Connection | None = connection
        self._head = head
        self._release = release
        self._closed = False
        self._ended = False
        length = runtime_http.body_length(head)
        self._chunked = runtime_http.ChunkedDecoder() if length is None else None
        self._remaining = length if length is not None and length >= 0 else None
        self._decoder = EventStreamDecoder()
        self._ready: deque[dict[str, Any]] = deque()
        self._error: BaseException | None = None
        self._last_data = time.monotonic()
        leftover = bytes(connection.buffer)
        connection.buffer.clear()
        self._consume(leftover)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            while (event := self.next_event(READ_TIMEOUT_SECONDS + 1)) is not None:
                yield event
        finally:
            self.close()  # an early stop (GeneratorExit) must not leave the connection half-read; no-op at the end

    def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next event, None once the stream has ended (or was closed); TimeoutError if none came in time.

        Raises what botocore would (EventStreamError for an exception message, ReadTimeoutError after
        READ_TIMEOUT_SECONDS of silence, ProtocolError if the connection broke).
        """
        deadline = time.monotonic() + timeout
        while True:
            if self._ready:
                return self._ready.popleft()
            if self._error is not None:
                error, self._error = self._error, None
                self._finish(clean=False)
                raise error
            connection = self._connection
            if self._ended or connection is None:
                self._finish(clean=self._ended and self._head.keep_alive)
                return None
            now = time.monotonic()
            silence_left = self._last_data + READ_TIMEOUT_SECONDS - now
            if silence_left <= 0:
                self._error = errors.ReadTimeoutError("Read timeout on endpoint URL: stream silent")
                continue
            wait = min(deadline - now, silence_left)
            if wait <= 0:
                raise TimeoutError("no event yet")
            try:
                connection.sock.settimeout(wait)
                data = connection.sock.recv(RECV_SIZE)
            except TimeoutError:
                continue
            except OSError as exc:
                if self._closed:
                    return None
                self._error = errors.ProtocolError(f"Connection broken: {exc!r}")
                continue
            if not data:
                if self._closed:
                    return None
                if self._chunked is None and self._remaining is None:
                    self._ended = True  # the end of a close-delimited body
                else:
                    self._error = errors.ProtocolError("Connection broken: IncompleteRead")
                continue
            self._last_data = time.monotonic()
            self._consume(data)

    def _consume(self, data: bytes) -> None:
        """Decode received bytes into ready events; a decoding failure is kept for after them."""
        try:
            if self._chunked is not None:
                data = self._chunked.feed(data)
                self._ended = self._chunked.done
            elif self._remaining is not None:
                data = data[: self._remaining]
                self._remaining -= len(data)
                self._ended = self._remaining == 0
            for message in self._decoder.feed(data):
                event = parse_message(message.headers, message.payload)
                if event:
                    self._ready.append(event)
        except Exception as exc:
            self._error = exc

    def _finish(self, clean: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if clean and not self._closed:
            connection.sock.settimeout(READ_TIMEOUT_SECONDS)
            self._release(connection)
        else:
            connection.abort()

    def close(self) -> None:
        """Stop now: shut the connection down (wakes a blocked reader); it is never reused."""
        self._closed = True
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.abort()


class LeanBedrockClient:
    """``converse_stream(**arguments)`` over one kept-alive connection to ``endpoint``."""

    def __init__(self, endpoint: Endpoint, region: str, credentials: Credentials,
                 sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] | None = None,
                 ssl_context: Any = None) -> None:
        """``ssl_context``: for https endpoints; the system's default trust store when None."""
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self._sleep = sleep
        self._rand = rand or _random
        self._idle: Connection | None = None
        self._lock = threading.Lock()
        self._quota = RetryQuota()
        self._keys: dict[str, bytes] = {}
        self._tls = self._tls_wrapper(ssl_context) if endpoint.scheme == "https" else None

    @staticmethod
    def _tls_wrapper(context: Any) -> Callable[[socket.socket, str], socket.socket]:
        import ssl  # only for https endpoints: ~40 ms at full CPU, paid during init

        context = context or ssl.create_default_context()
        return lambda sock, host: context.wrap_socket(sock, server_hostname=host)

    def warm(self) -> None:
        """Open (and TLS-handshake) the connection now, during init; a failure is left for the first call."""
        with contextlib.suppress(errors.HTTPClientError):
            connection = Connection(self.endpoint, self._tls)
            self._release(connection)
        self._signing_key(time.strftime("%Y%m%d", time.gmtime()))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, None
        if idle is not None:
            idle.abort()

    def _release(self, connection: Connection) -> None:
        connection.used = True
        with self._lock:
            old, self._idle = self._idle, connection
        if old is not None:
            old.abort()

    def _connection(self) -> Connection:
        with self._lock:
            idle, self._idle = self._idle, None
        if idle is not None and not idle.dropped():
            return idle
        if idle is not None:
            idle.abort()
        return Connection(self.endpoint, self._tls)

    def _signing_key(self, date: str) -> bytes:
        key = self._keys.get(date)
        if key is None:
            key = signing_key(self.credentials.secret_key, date, self.region, SIGNING_NAME)
            self._keys = {date: key}
        return key

    def _request(self, model_id: str, body: bytes, attempt: int, invocation_id: str) -> bytes:
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        extra = {"User-Agent": USER_AGENT, "amz-sdk-invocation-id": invocation_id,
                 "amz-sdk-request": f"attempt={attempt}; max={TOTAL_ATTEMPTS}"}
        return build_request(self.endpoint, self.region, self.credentials, model_id, body, amz_date, extra,
                             self._signing_key(amz_date[:8]))

    def _exchange(self, request: bytes) -> tuple[Connection, runtime_http.ResponseHead]:
        """Send the request and read the response head; a dead reused connection is replaced once."""
        for fresh_try in (False, True):
            connection = self._connection() if not fresh_try else Connection(self.endpoint, self._tls)
            reused = connection.used
            try:
                connection.sock.sendall(request)
                while (end := connection.buffer.find(runtime_http.HEAD_END)) < 0:
                    if len(connection.buffer) > runtime_http.MAX_HEAD_BYTES:
                        raise errors.ConnectionClosedError("response head too large", self.endpoint.url)
                    if not connection.fill():
                        raise errors.ConnectionClosedError(
                            f'Connection was closed before we received a valid response from endpoint URL: '
                            f'"{self.endpoint.url}".', self.endpoint.url)
            except errors.ReadTimeoutError:
                connection.abort()
                raise errors.ReadTimeoutError(f'Read timeout on endpoint URL: "{self.endpoint.url}"',
                                              self.endpoint.url) from None
            except (OSError, errors.ConnectionClosedError) as exc:
                connection.abort()
                if reused and not connection.buffer and not fresh_try:
                    continue  # the server dropped the idle connection; that is not an attempt
                if isinstance(exc, errors.ConnectionClosedError):
                    raise
                raise errors.ConnectionClosedError(
                    f'Connection was closed before we received a valid response from endpoint URL: '
                    f'"{self.endpoint.url}".', self.endpoint.url) from exc
            try:
                head = runtime_http.parse_response_head(bytes(connection.buffer[:end]))
            except runtime_http.ProtocolError as exc:
                connection.abort()
                raise errors.ConnectionClosedError(f"invalid response head: {exc}", self.endpoint.url) from exc
            del connection.buffer[: end + len(runtime_http.HEAD_END)]
            return connection, head
        raise AssertionError("unreachable")

    def _read_body(self, connection: Connection, head: runtime_http.ResponseHead) -> bytes:
        """A whole (error) body; the connection is dropped afterwards (errors are rare, keep it simple)."""
        try:
            length = runtime_http.body_length(head)
            if length is None:
                decoder = runtime_http.ChunkedDecoder()
                body = bytearray()
                while True:
                    body += decoder.feed(bytes(connection.buffer))
                    connection.buffer.clear()
                    if decoder.done or not connection.fill():
                        return bytes(body)
            while (length < 0 or len(connection.buffer) < length) and connection.fill():
                pass
            return bytes(connection.buffer if length < 0 else connection.buffer[:length])
        except (OSError, errors.HTTPClientError, runtime_http.ProtocolError):
            return b""  # the status and headers still say what failed
        finally:
            connection.abort()

    def converse_stream(self, **arguments: Any) -> dict[str, Any]:
        model_id, body = request_body(arguments)
        invocation_id = _uuid4()
        last_cost: int | None = None
        attempt = 1
        while True:
            request = self._request(model_id, body, attempt, invocation_id)
            response: dict[str, Any] | None = None
            try:
                connection, head = self._exchange(request)
            except errors.HTTPClientError as exc:
                failure, outcome = exc, Outcome(None, None)
            else:
                if 200 <= head.status < 300:
                    self._quota.release(last_cost)
                    return {"ResponseMetadata": {"RequestId": head.headers.get("x-amzn-requestid", ""),
                                                 "HTTPStatusCode": head.status, "HTTPHeaders": dict(head.headers),
                                                 "RetryAttempts": attempt - 1},
                            "stream": LeanEventStream(connection, head, self._release)}
                response = parse_error(head.status, head.headers, self._read_body(connection, head))
                code = response["Error"]["Code"]
                outcome = Outcome(head.status, code if isinstance(code, str) else None,
                                  head.headers.get("x-amz-retry-after"))
            exhausted = attempt >= TOTAL_ATTEMPTS
            cost = self._quota.acquire(outcome) if not exhausted and is_retryable(outcome) else 0
            if not cost:
                if response is None:
                    raise failure
                response["ResponseMetadata"]["RetryAttempts"] = attempt - 1
                if exhausted:
                    response["ResponseMetadata"]["MaxAttemptsReached"] = True
                raise errors.error_class(str(response["Error"]["Code"]))(response)
            last_cost = cost
            self._sleep(backoff_seconds(outcome, attempt, self._rand()))
            attempt += 1


def build_lean_client(env: Mapping[str, str]) -> LeanBedrockClient:
    from bedrock_stream.aws_env import env_credentials, region_of, resolve_endpoint

    credentials = env_credentials(env)
    if credentials is None:
        raise ValueError("no credentials in the environment")
    return LeanBedrockClient(resolve_endpoint(env), region_of(env), credentials)
