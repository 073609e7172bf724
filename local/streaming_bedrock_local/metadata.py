"""Parse the metadata prelude of a streamed Lambda proxy response (pure state machine, no I/O).

A streaming function writes a JSON object (``statusCode``, ``headers``, ``multiValueHeaders``, ``cookies``),
then exactly eight NUL bytes, then the payload. API Gateway only starts the client response once it has seen
valid metadata and the delimiter within the first 16 KB; anything else gives the client a 500. Feed the bytes as
they arrive with :meth:`MetadataParser.feed`; call :meth:`MetadataParser.end` when the function's stream ended.

Choices where AWS documents nothing: a missing ``statusCode`` means 200 (as Lambda function URLs do); header
values must be strings, numbers or booleans (turned into text); a header name that is not an HTTP token, or a
value containing CR/LF/NUL, makes the metadata invalid rather than reaching the client.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DELIMITER = b"\x00" * 8
MAX_PRELUDE_BYTES = 16 * 1024
ALLOWED_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "cookies"})

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BAD_VALUE_CHARS = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class Metadata:
    """Valid metadata: what the gateway sends before the payload. ``rest`` is payload already received."""

    status: int
    headers: tuple[tuple[str, str], ...]
    rest: bytes


@dataclass(frozen=True)
class InvalidMetadata:
    """The function's output does not follow the streaming format; the client gets a 500."""

    reason: str


ParseResult = Metadata | InvalidMetadata | None


def _header_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def validate_metadata(raw: bytes) -> Metadata | InvalidMetadata:
    """Check the JSON text before the delimiter and turn it into status + header list."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return InvalidMetadata(f"metadata is not valid JSON ({error.__class__.__name__})")
    if not isinstance(document, dict):
        return InvalidMetadata("metadata is not a JSON object")
    extra = sorted(set(document) - ALLOWED_KEYS)
    if extra:
        return InvalidMetadata(f"metadata has keys that are not allowed: {', '.join(extra)}")
    status = document.get("statusCode", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return InvalidMetadata(f"statusCode must be an integer 100-599, got {status!r}")

    headers: list[tuple[str, str]] = []
    single = document.get("headers") or {}
    multi = document.get("multiValueHeaders") or {}
    cookies = document.get("cookies") or []
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return InvalidMetadata("headers and multiValueHeaders must be JSON objects")
    if not isinstance(cookies, list):
        return InvalidMetadata("cookies must be a JSON array of strings")
    pairs: list[tuple[str, Any]] = list(single.items())
    for name, values in multi.items():
        if not isinstance(values, list):
            return InvalidMetadata(f"multiValueHeaders[{name!r}] must be an array")
        pairs.extend((name, value) for value in values)
    pairs.extend(("Set-Cookie", cookie) for cookie in cookies)
    for name, value in pairs:
        text = _header_text(value)
        if not _TOKEN.match(name):
            return InvalidMetadata(f"header name {name!r} is not a valid HTTP token")
        if text is None or _BAD_VALUE_CHARS.search(text):
            return InvalidMetadata(f"header {name!r} has a value that cannot be sent")
        headers.append((name, text))
    return Metadata(status=status, headers=tuple(headers), rest=b"")


class MetadataParser:
    """Accumulates the start of the function's stream until the metadata is complete or proven invalid."""

    def __init__(self, limit: int = MAX_PRELUDE_BYTES) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self._result: Metadata | InvalidMetadata | None = None

    @property
    def result(self) -> Metadata | InvalidMetadata | None:
        return self._result

    def feed(self, data: bytes) -> ParseResult:
        """Add bytes; returns the result once known (then ignores further input), else None."""
        if self._result is not None:
            return self._result
        self._buffer += data
        index = self._buffer.find(DELIMITER)
        if index >= 0 and index + len(DELIMITER) <= self._limit:
            parsed = validate_metadata(bytes(self._buffer[:index]))
            if isinstance(parsed, Metadata):
                parsed = Metadata(parsed.status, parsed.headers, bytes(self._buffer[index + len(DELIMITER) :]))
            self._result = parsed
        elif len(self._buffer) >= self._limit:
            self._result = InvalidMetadata(f"no 8-NUL delimiter within the first {self._limit} bytes")
        if self._result is not None:
            self._buffer = bytearray()
        return self._result

    def end(self) -> Metadata | InvalidMetadata:
        """The function's stream ended: the result, or invalid when the delimiter never came."""
        if self._result is None:
            self._result = InvalidMetadata("the response ended before the 8-NUL metadata delimiter")
        return self._result
