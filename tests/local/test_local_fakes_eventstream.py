"""The event stream encoder/decoder against botocore's own parser (what boto3 runs on real Bedrock bytes)."""

from __future__ import annotations

import contextlib
import struct
import uuid
import zlib

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st
from streaming_bedrock_local.eventstream import (
    EventStreamDecoder,
    EventStreamError,
    decode_message,
    encode_event,
    encode_exception,
    encode_message,
)

header_names = st.text(min_size=1, max_size=20).filter(lambda s: len(s.encode()) <= 255)
headers_strategy = st.dictionaries(header_names, st.text(max_size=50), max_size=5)


def botocore_parse(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(dict(m.headers), m.payload) for m in buffer]


def test_event_frame_layout_by_hand() -> None:
    frame = encode_event("contentBlockDelta", {"delta": {"text": "hi"}})
    total, headers_length, prelude_crc = struct.unpack(">III", frame[:12])
    assert total == len(frame)
    assert prelude_crc == zlib.crc32(frame[:8])
    assert struct.unpack(">I", frame[-4:])[0] == zlib.crc32(frame[:-4])
    # First header: name length, name, type 7 (string), u16 length, value.
    name = b":event-type"
    assert frame[12] == len(name)
    assert frame[13 : 13 + len(name)] == name
    assert frame[13 + len(name)] == 7
    assert frame[12 + headers_length : -4] == b'{"delta":{"text":"hi"}}'


def test_botocore_reads_event_and_exception_headers() -> None:
    [(headers, payload)] = botocore_parse(encode_event("messageStop", {"stopReason": "end_turn"}))
    assert headers == {":event-type": "messageStop", ":content-type": "application/json", ":message-type": "event"}
    assert payload == b'{"stopReason":"end_turn"}'
    [(headers, payload)] = botocore_parse(encode_exception("throttlingException", {"message": "slow down"}))
    assert headers[":message-type"] == "exception"
    assert headers[":exception-type"] == "throttlingException"
    assert payload == b'{"message":"slow down"}'


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(headers_strategy, st.binary(max_size=300)), min_size=1, max_size=6),
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=30),
)
def test_roundtrip_matches_botocore_in_any_split(messages: list[tuple[dict[str, str], bytes]], cuts: list[int]) -> None:
    stream = b"".join(encode_message(h, p) for h, p in messages)
    assert botocore_parse(stream) == [(h, p) for h, p in messages]
    decoder = EventStreamDecoder()
    decoded = []
    pos = 0
    for cut in cuts * (len(stream) // max(1, sum(cuts)) + 1):
        decoded += decoder.feed(stream[pos : pos + cut])
        pos += cut
        if pos >= len(stream):
            break
    decoded += decoder.feed(stream[pos:])
    assert [(dict(m.headers), m.payload) for m in decoded] == messages
    assert decoder.pending_bytes == 0


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_flipped_bit_is_rejected_like_botocore(data: st.DataObject) -> None:
    frame = bytearray(encode_event("contentBlockDelta", {"delta": {"text": "flip"}}))
    position = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
    frame[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    with pytest.raises(EventStreamError):
        decode_message(bytes(frame))
    if position >= 12:  # past the prelude botocore reports a checksum mismatch too
        with pytest.raises(ChecksumMismatch):
            botocore_parse(bytes(frame))


def test_decoder_reads_every_header_type() -> None:
    the_uuid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    raw = b"".join(
        [
            b"\x01t\x00",
            b"\x01f\x01",
            b"\x01b\x02" + struct.pack(">b", -3),
            b"\x01s\x03" + struct.pack(">h", -300),
            b"\x01i\x04" + struct.pack(">i", 70000),
            b"\x01l\x05" + struct.pack(">q", 2**40),
            b"\x01y\x06" + struct.pack(">H", 3) + b"\x00\x01\x02",
            b"\x01z\x07" + struct.pack(">H", 2) + b"ok",
            b"\x01T\x08" + struct.pack(">q", 1700000000000),
            b"\x01u\x09" + the_uuid.bytes,
        ]
    )
    total = 12 + len(raw) + 4
    prelude = struct.pack(">II", total, len(raw))
    head = prelude + struct.pack(">I", zlib.crc32(prelude))
    frame = head + raw + struct.pack(">I", zlib.crc32(head + raw))
    message = decode_message(frame)
    assert dict(message.headers) == {
        "t": True,
        "f": False,
        "b": -3,
        "s": -300,
        "i": 70000,
        "l": 2**40,
        "y": b"\x00\x01\x02",
        "z": "ok",
        "T": 1700000000000,
        "u": the_uuid,
    }
    [(botocore_headers, _)] = botocore_parse(frame)
    assert botocore_headers["z"] == "ok" and botocore_headers["i"] == 70000


def test_garbage_prelude_fails_fast_instead_of_waiting() -> None:
    with pytest.raises(EventStreamError):
        EventStreamDecoder().feed(b"\xff" * 16)


def test_truncated_stream_leaves_pending_bytes() -> None:
    frame = encode_event("messageStart", {"role": "assistant"})
    decoder = EventStreamDecoder()
    assert decoder.feed(frame[:-1]) == []
    assert decoder.pending_bytes == len(frame) - 1
    [message] = decoder.feed(frame[-1:])
    assert message.event_type == "messageStart" and message.json() == {"role": "assistant"}


def test_encoder_refuses_oversized_header_name() -> None:
    with pytest.raises(EventStreamError):
        encode_message({"x" * 256: "v"}, b"")


def frame_with_raw_headers(raw: bytes, payload: bytes = b"") -> bytes:
    total = 12 + len(raw) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw))
    head = prelude + struct.pack(">I", zlib.crc32(prelude))
    return head + raw + payload + struct.pack(">I", zlib.crc32(head + raw + payload))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_headers_with_valid_crcs_fail_only_with_event_stream_error(raw: bytes) -> None:
    # Valid framing around arbitrary header bytes: either it decodes or it is a clean EventStreamError.
    with contextlib.suppress(EventStreamError):
        decode_message(frame_with_raw_headers(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(EventStreamError):
        EventStreamDecoder().feed(data)
