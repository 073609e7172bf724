"""The AWS event stream wire format (``application/vnd.amazon.eventstream``), encoder and decoder.

Pure functions and a small incremental decoder; no sockets. This is the framing Amazon Bedrock Runtime
uses for ``ConverseStream``; botocore's ``EventStreamBuffer`` parses what ``encode_message`` emits.

One message on the wire::

    [total length: u32][headers length: u32][prelude CRC32: u32]
    [headers ...][payload ...]
    [message CRC32: u32]

All integers are big-endian. The prelude CRC covers the first 8 bytes; the message CRC covers every byte
before it (prelude and prelude CRC included). A header is ``[name length: u8][name][type: u8][value]``;
this module writes only strings (type 7: ``[length: u16][utf-8 bytes]``) as Bedrock does, and reads every
type so tests can decode anything a peer might send.
"""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PRELUDE_LENGTH = 12
MESSAGE_CRC_LENGTH = 4
# The format caps a whole message at 16 MiB and its headers at 128 KiB (botocore enforces the same).
MAX_MESSAGE_LENGTH = 16 * 1024 * 1024
MAX_HEADERS_LENGTH = 128 * 1024

HEADER_TYPE_TRUE = 0
HEADER_TYPE_FALSE = 1
HEADER_TYPE_BYTE = 2
HEADER_TYPE_SHORT = 3
HEADER_TYPE_INTEGER = 4
HEADER_TYPE_LONG = 5
HEADER_TYPE_BYTES = 6
HEADER_TYPE_STRING = 7
HEADER_TYPE_TIMESTAMP = 8
HEADER_TYPE_UUID = 9

HeaderValue = bool | int | bytes | str | uuid.UUID


class EventStreamError(ValueError):
    """The bytes are not a valid event stream (bad lengths, CRC mismatch, unknown header type)."""


@dataclass(frozen=True)
class EventStreamMessage:
    """One decoded message: typed headers and the raw payload."""

    headers: Mapping[str, HeaderValue]
    payload: bytes

    @property
    def event_type(self) -> str | None:
        value = self.headers.get(":event-type")
        return value if isinstance(value, str) else None

    def json(self) -> Any:
        return json.loads(self.payload)


def _crc32(data: bytes, value: int = 0) -> int:
    return zlib.crc32(data, value) & 0xFFFFFFFF


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Encode string headers (type 7) in the given order."""
    parts: list[bytes] = []
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        if not 0 < len(raw_name) <= 255:
            raise EventStreamError(f"header name must be 1..255 bytes: {name!r}")
        if len(raw_value) > 0xFFFF:
            raise EventStreamError(f"header value too long for {name!r}")
        parts.append(struct.pack(">B", len(raw_name)) + raw_name)
        parts.append(struct.pack(">BH", HEADER_TYPE_STRING, len(raw_value)) + raw_value)
    return b"".join(parts)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """Frame one message: prelude, prelude CRC, headers, payload, message CRC."""
    raw_headers = encode_headers(headers)
    if len(raw_headers) > MAX_HEADERS_LENGTH:
        raise EventStreamError("headers exceed 128 KiB")
    total = PRELUDE_LENGTH + len(raw_headers) + len(payload) + MESSAGE_CRC_LENGTH
    if total > MAX_MESSAGE_LENGTH:
        raise EventStreamError("message exceeds 16 MiB")
    prelude = struct.pack(">II", total, len(raw_headers))
    head = prelude + struct.pack(">I", _crc32(prelude))
    body = head + raw_headers + payload
    return body + struct.pack(">I", _crc32(body))


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_event(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """An ``event`` message whose JSON payload is the event member (e.g. ``contentBlockDelta``)."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, _json_bytes(payload))


def encode_exception(exception_type: str, payload: Mapping[str, Any]) -> bytes:
    """An ``exception`` message (e.g. ``throttlingException`` with ``{"message": ...}``)."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json_bytes(payload))


def _decode_headers(data: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos = 0
    end = len(data)

    def take(count: int) -> bytes:
        nonlocal pos
        if pos + count > end:
            raise EventStreamError("header runs past the headers section")
        chunk = data[pos : pos + count]
        pos += count
        return chunk

    while pos < end:
        (name_length,) = struct.unpack(">B", take(1))
        name = take(name_length).decode("utf-8")
        (kind,) = struct.unpack(">B", take(1))
        value: HeaderValue
        if kind == HEADER_TYPE_TRUE:
            value = True
        elif kind == HEADER_TYPE_FALSE:
            value = False
        elif kind == HEADER_TYPE_BYTE:
            (value,) = struct.unpack(">b", take(1))
        elif kind == HEADER_TYPE_SHORT:
            (value,) = struct.unpack(">h", take(2))
        elif kind == HEADER_TYPE_INTEGER:
            (value,) = struct.unpack(">i", take(4))
        elif kind in (HEADER_TYPE_LONG, HEADER_TYPE_TIMESTAMP):
            (value,) = struct.unpack(">q", take(8))
        elif kind in (HEADER_TYPE_BYTES, HEADER_TYPE_STRING):
            (length,) = struct.unpack(">H", take(2))
            raw = take(length)
            value = raw.decode("utf-8") if kind == HEADER_TYPE_STRING else raw
        elif kind == HEADER_TYPE_UUID:
            value = uuid.UUID(bytes=take(16))
        else:
            raise EventStreamError(f"unknown header type {kind} for {name!r}")
        if name in headers:
            raise EventStreamError(f"duplicate header {name!r}")
        headers[name] = value
    return headers


def decode_message(frame: bytes) -> EventStreamMessage:
    """Decode exactly one complete message (length and both CRCs are checked)."""
    if len(frame) < PRELUDE_LENGTH + MESSAGE_CRC_LENGTH:
        raise EventStreamError("frame shorter than prelude and CRC")
    total, headers_length, prelude_crc = struct.unpack(">III", frame[:PRELUDE_LENGTH])
    if total != len(frame):
        raise EventStreamError(f"total length {total} does not match frame size {len(frame)}")
    if _crc32(frame[:8]) != prelude_crc:
        raise EventStreamError("prelude CRC mismatch")
    if headers_length > MAX_HEADERS_LENGTH or PRELUDE_LENGTH + headers_length + MESSAGE_CRC_LENGTH > total:
        raise EventStreamError(f"invalid headers length {headers_length}")
    (message_crc,) = struct.unpack(">I", frame[-MESSAGE_CRC_LENGTH:])
    if _crc32(frame[:-MESSAGE_CRC_LENGTH]) != message_crc:
        raise EventStreamError("message CRC mismatch")
    headers_end = PRELUDE_LENGTH + headers_length
    try:
        headers = _decode_headers(frame[PRELUDE_LENGTH:headers_end])
    except UnicodeDecodeError as exc:
        raise EventStreamError(f"header text is not UTF-8: {exc}") from None
    return EventStreamMessage(headers=headers, payload=frame[headers_end:-MESSAGE_CRC_LENGTH])


class EventStreamDecoder:
    """Incremental decoder: ``feed`` any slice of the byte stream, get back the messages it completed."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[EventStreamMessage]:
        self._buffer += data
        messages: list[EventStreamMessage] = []
        while len(self._buffer) >= PRELUDE_LENGTH:
            total, _headers_length, prelude_crc = struct.unpack(">III", self._buffer[:PRELUDE_LENGTH])
            # Check the prelude before trusting its length, so garbage fails fast instead of waiting forever.
            if _crc32(bytes(self._buffer[:8])) != prelude_crc:
                raise EventStreamError("prelude CRC mismatch")
            if not PRELUDE_LENGTH + MESSAGE_CRC_LENGTH <= total <= MAX_MESSAGE_LENGTH:
                raise EventStreamError(f"invalid total length {total}")
            if len(self._buffer) < total:
                break
            frame = bytes(self._buffer[:total])
            del self._buffer[:total]
            messages.append(decode_message(frame))
        return messages

    @property
    def pending_bytes(self) -> int:
        """Bytes held back waiting for the rest of a message (non-zero at end of stream = truncated)."""
        return len(self._buffer)
