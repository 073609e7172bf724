"""HTTP/1.1 chunked transfer-coding decoder with trailers (RFC 9112 §7.1): a pure state machine, no sockets.

Used wherever a chunked body is read: the Runtime API (the function's streamed response), the gateway
(request bodies) and the local bench (the client's view of a stream).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


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
        """Decode ``data``; chunk pieces are slices of it (one copy each), and only an incomplete framing line
        or CRLF is kept for the next call."""
        if self._state == "done":
            self.unused += data
            return []
        if self._buffer:
            self._buffer += data
            data = bytes(self._buffer)
            self._buffer.clear()
        events: list[ChunkedEvent] = []
        position = 0
        while True:
            advanced = self._step(data, position, events)
            if advanced is None:
                break
            position = advanced
        return events

    def _line(self, data: bytes, position: int) -> tuple[bytes, int] | None:
        """The line starting at ``position`` and where the next begins; None (rest kept) when it is incomplete."""
        end = data.find(b"\r\n", position)
        if end < 0:
            if len(data) - position > self.MAX_LINE:
                raise ChunkedError("line too long")
            self._buffer += data[position:]
            return None
        if end - position > self.MAX_LINE:
            raise ChunkedError("line too long")
        return data[position:end], end + 2

    def _step(self, data: bytes, position: int, events: list[ChunkedEvent]) -> int | None:
        """Advance one state transition from ``position``; the new position, or None when more input is needed."""
        if self._state == "size":
            found = self._line(data, position)
            if found is None:
                return None
            line, position = found
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not _HEX.match(size_text):
                raise ChunkedError(f"invalid chunk size line {line[:40]!r}")
            self._remaining = int(size_text, 16)
            self._state = "data" if self._remaining else "trailers"
            return position
        if self._state == "data":
            if position >= len(data):
                return None
            take = min(self._remaining, len(data) - position)
            piece = data[position : position + take] if take < len(data) else data
            self._remaining -= take
            events.append(ChunkData(piece, chunk_end=self._remaining == 0))
            if self._remaining == 0:
                self._state = "data_crlf"
            return position + take
        if self._state == "data_crlf":
            if len(data) - position < 2:
                self._buffer += data[position:]
                return None
            if data[position : position + 2] != b"\r\n":
                raise ChunkedError("chunk data not followed by CRLF")
            self._state = "size"
            return position + 2
        if self._state == "trailers":
            found = self._line(data, position)
            if found is None:
                return None
            line, position = found
            if line == b"":
                self._state = "done"
                self.unused = data[position:]
                events.append(BodyEnd(tuple(self._trailers)))
                return None
            self._trailer_bytes += len(line) + 2
            if self._trailer_bytes > self.MAX_TRAILER_BYTES:
                raise ChunkedError("trailer section too large")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep or not _FIELD_NAME.match(name):
                raise ChunkedError(f"invalid trailer line {line[:40]!r}")
            self._trailers.append((name, value.strip(" \t")))
            return position
        return None
