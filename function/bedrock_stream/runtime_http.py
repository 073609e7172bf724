"""Plain HTTP/1.1 messages exchanged with the Lambda Runtime API (pure, no sockets).

The runtime shell writes the bytes built here and feeds received bytes to the parsers. Only what the
Runtime API uses is supported: fixed-length, chunked, or close-delimited response bodies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bedrock_stream.framing import RUNTIME_API_PREFIX, _header_safe

HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024


class ProtocolError(ValueError):
    """The Runtime API sent something that is not a valid HTTP/1.1 response."""


@dataclass(frozen=True)
class ResponseHead:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    version: str

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


def next_invocation_request(host: str) -> bytes:
    return f"GET {RUNTIME_API_PREFIX}/invocation/next HTTP/1.1\r\nHost: {host}\r\n\r\n".encode("latin-1")


def error_document(error_type: str, message: str, stack: Sequence[str] = ()) -> bytes:
    """The JSON body the Runtime API expects on its /error endpoints."""
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "stackTrace": list(stack)}, separators=(",", ":")
    ).encode("utf-8")


def post_request(host: str, path: str, body: bytes, error_type: str | None = None) -> bytes:
    """A complete POST with a fixed-length body (invocation error, init error)."""
    head = (
        f"POST {RUNTIME_API_PREFIX}{path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    )
    if error_type is not None:
        head += f"Lambda-Runtime-Function-Error-Type: {_header_safe(error_type)}\r\n"
    return (head + "\r\n").encode("latin-1") + body


def parse_response_head(raw: bytes) -> ResponseHead:
    """Parse a status line and headers (``raw`` excludes the blank line that ends them)."""
    try:
        text = raw.decode("latin-1")
        lines = text.split("\r\n")
        version, code, *_ = lines[0].split(" ", 2)
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"bad status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"bad header line: {line[:80]!r}")
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None
    return ResponseHead(status=int(code), headers=headers, version=version)


def body_length(head: ResponseHead) -> int | None:
    """Bytes of body to read; None means chunked, -1 means read until the server closes."""
    if "chunked" in head.headers.get("transfer-encoding", "").lower():
        return None
    if head.status in (204, 304) or 100 <= head.status < 200:
        return 0
    raw = head.headers.get("content-length")
    if raw is None:
        return -1
    if not raw.isdigit():
        raise ProtocolError(f"bad Content-Length: {raw!r}")
    return int(raw)


class ChunkedDecoder:
    """Incremental decoder of a chunked body; ``feed`` returns decoded bytes, ``done`` ends it.

    Trailers in a received body are read and ignored (the Runtime API does not send any).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._remaining = 0  # payload bytes left in the current chunk
        self._expect_crlf = False  # the CRLF that follows chunk data
        self._in_trailers = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while not self.done:
            if self._remaining:
                take = min(self._remaining, len(self._buf))
                if take == 0:
                    break
                out += self._buf[:take]
                del self._buf[:take]
                self._remaining -= take
                self._expect_crlf = self._remaining == 0
                continue
            end = self._buf.find(b"\r\n")
            if end < 0:
                if len(self._buf) > 4096:
                    raise ProtocolError("chunk size line too long")
                break
            line = bytes(self._buf[:end])
            del self._buf[: end + 2]
            if self._expect_crlf:
                if line:
                    raise ProtocolError("missing CRLF after chunk data")
                self._expect_crlf = False
            elif self._in_trailers:
                if not line:
                    self.done = True
            else:
                size_text = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size: {size_text[:20]!r}") from None
                if size < 0:
                    raise ProtocolError("negative chunk size")
                if size == 0:
                    self._in_trailers = True
                else:
                    self._remaining = size
        return bytes(out)
