"""Incremental decoder of the AWS event stream framing (``application/vnd.amazon.eventstream``); pure, no I/O.

One message: ``[total length u32][headers length u32][prelude CRC32 u32][headers][payload][message CRC32 u32]``,
big-endian; the message CRC covers everything before it. Headers are ``[name length u8][name][type u8][value]``.
The limits and checks are botocore's (``botocore.eventstream.EventStreamBuffer``): headers ≤ 128 KiB,
payload ≤ 24 MiB, both CRCs verified, so a stream botocore rejects is rejected here too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

PRELUDE_LENGTH = 12
CRC_LENGTH = 4
MAX_HEADERS_LENGTH = 128 * 1024
MAX_PAYLOAD_LENGTH = 24 * 1024 * 1024

HeaderValue = bool | int | bytes | str

_PRELUDE = struct.Struct(">III")
_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_CRC = struct.Struct(">I")
# Fixed-size header value types: type → (struct, size). Type 0/1 are true/false with no value bytes.
_FIXED = {2: struct.Struct(">b"), 3: struct.Struct(">h"), 4: struct.Struct(">i"), 5: struct.Struct(">q"),
          8: struct.Struct(">q")}


class EventStreamParseError(ValueError):
    """The bytes are not a valid event stream. Subclasses carry botocore's class names (``botocore.eventstream``),
    so the function's log line names a failure the same way on both clients."""


class ChecksumMismatch(EventStreamParseError):
    pass


class InvalidHeadersLength(EventStreamParseError):
    pass


class InvalidPayloadLength(EventStreamParseError):
    pass


class DuplicateHeader(EventStreamParseError):
    pass


@dataclass(frozen=True)
class Message:
    headers: dict[str, HeaderValue]
    payload: bytes


def decode_headers(data: memoryview) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos, end = 0, len(data)
    try:
        while pos < end:
            (name_length,) = _U8.unpack_from(data, pos)
            name = bytes(data[pos + 1 : pos + 1 + name_length]).decode("utf-8")
            pos += 1 + name_length
            (kind,) = _U8.unpack_from(data, pos)
            pos += 1
            value: HeaderValue
            if kind in (0, 1):
                value = kind == 0
            elif kind in _FIXED:
                fixed = _FIXED[kind]
                (value,) = fixed.unpack_from(data, pos)
                pos += fixed.size
            elif kind in (6, 7):
                (length,) = _U16.unpack_from(data, pos)
                raw = bytes(data[pos + 2 : pos + 2 + length])
                if len(raw) != length:
                    raise EventStreamParseError("header value runs past the headers")
                value = raw.decode("utf-8") if kind == 7 else raw
                pos += 2 + length
            elif kind == 9:
                value = bytes(data[pos : pos + 16])
                pos += 16
            else:
                raise EventStreamParseError(f"unknown header type {kind}")
            if name in headers:
                raise DuplicateHeader(f"duplicate header {name!r}")
            headers[name] = value
    except (struct.error, UnicodeDecodeError) as exc:
        raise EventStreamParseError(f"malformed headers: {exc}") from None
    if pos != end:
        raise EventStreamParseError("header runs past the headers section")
    return headers


class EventStreamDecoder:
    """``feed(bytes)`` yields the messages completed so far, one at a time, and keeps any partial message.

    A generator, so a corrupt message fails only after every message before it was handed out, as in botocore.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> Iterator[Message]:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= PRELUDE_LENGTH:
            total, headers_length, prelude_crc = _PRELUDE.unpack_from(buffer, 0)
            if zlib.crc32(buffer[:8]) != prelude_crc:
                raise ChecksumMismatch("prelude CRC mismatch")
            payload_length = total - headers_length - PRELUDE_LENGTH - CRC_LENGTH
            if headers_length > MAX_HEADERS_LENGTH:
                raise InvalidHeadersLength(f"headers length {headers_length} over 128 KiB")
            if payload_length > MAX_PAYLOAD_LENGTH:
                raise InvalidPayloadLength(f"payload length {payload_length} over 24 MiB")
            if payload_length < 0:
                raise InvalidPayloadLength(f"total length {total} shorter than its parts")
            if len(buffer) < total:
                return
            frame = bytes(buffer[:total])
            del buffer[:total]
            (message_crc,) = _CRC.unpack_from(frame, total - CRC_LENGTH)
            if zlib.crc32(frame[: total - CRC_LENGTH]) != message_crc:
                raise ChecksumMismatch("message CRC mismatch")
            headers_end = PRELUDE_LENGTH + headers_length
            yield Message(decode_headers(memoryview(frame)[PRELUDE_LENGTH:headers_end]),
                          frame[headers_end : total - CRC_LENGTH])
