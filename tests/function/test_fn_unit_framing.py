"""Byte-level framing of the streamed Runtime API response and the plain Runtime API messages."""

from __future__ import annotations

import base64
import json

import pytest
from bedrock_stream import framing, runtime_http
from hypothesis import given
from hypothesis import strategies as st


def test_chunk_is_hex_length_crlf_data_crlf() -> None:
    assert framing.encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert framing.encode_chunk(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"


def test_empty_write_produces_no_chunk_because_it_would_end_the_body() -> None:
    assert framing.encode_chunk(b"") == b""


def test_streaming_head_declares_mode_encoding_type_and_both_trailers() -> None:
    expected = (
        b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9001\r\n"
        b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Content-Type: application/vnd.awslambda.http-integration-response\r\n"
        b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
        b"\r\n"
    )
    assert framing.streaming_response_head("req-1", "127.0.0.1:9001") == expected


def test_request_id_cannot_inject_header_lines() -> None:
    head = framing.streaming_response_head("a\r\nX-Evil: 1", "h")
    assert b"\r\nX-Evil" not in head


def test_prelude_is_compact_json_then_eight_nul_bytes() -> None:
    prelude = framing.integration_prelude(200, {"Content-Type": "text/plain"}, ["a=b"])
    assert prelude == (
        b'{"statusCode":200,"headers":{"Content-Type":"text/plain"},"cookies":["a=b"]}' + b"\0\0\0\0\0\0\0\0"
    )


def test_prelude_strips_control_characters_from_headers() -> None:
    prelude = framing.integration_prelude(200, {"X-A": "v\r\nInjected: yes"})
    metadata = json.loads(prelude[:-8])
    assert metadata["headers"] == {"X-A": "vInjected: yes"}


@pytest.mark.parametrize("status", [0, 99, 600, 1000])
def test_prelude_rejects_impossible_status(status: int) -> None:
    with pytest.raises(framing.FramingError):
        framing.integration_prelude(status, {})


def test_prelude_must_fit_in_16_kib() -> None:
    with pytest.raises(framing.FramingError, match="16384"):
        framing.integration_prelude(200, {"X-Big": "v" * 17_000})
    ok = framing.integration_prelude(200, {"X-Big": "v" * 16_000})
    assert len(ok) <= 16 * 1024 and ok.endswith(b"\0" * 8)


def test_error_trailers_end_the_body_and_carry_base64_json() -> None:
    raw = framing.error_trailers("throttled", "slow down", ["frame 1"])
    assert raw.startswith(b"0\r\n") and raw.endswith(b"\r\n\r\n")
    lines = raw[3:-4].split(b"\r\n")
    assert lines[0] == b"Lambda-Runtime-Function-Error-Type: throttled"
    name, _, value = lines[1].partition(b": ")
    assert name == b"Lambda-Runtime-Function-Error-Body"
    assert json.loads(base64.b64decode(value, validate=True)) == {
        "errorType": "throttled",
        "errorMessage": "slow down",
        "trace": ["frame 1"],
    }


def test_last_chunk_has_no_trailers() -> None:
    assert framing.LAST_CHUNK == b"0\r\n\r\n"


@given(st.lists(st.binary(max_size=300), max_size=20), st.integers(min_value=1, max_value=17))
def test_chunked_decoder_recovers_framed_pieces_fed_in_any_split(pieces: list[bytes], step: int) -> None:
    wire = b"".join(framing.encode_chunk(p) for p in pieces) + framing.error_trailers("t", "m")
    decoder = runtime_http.ChunkedDecoder()
    out = bytearray()
    for i in range(0, len(wire), step):
        out += decoder.feed(wire[i : i + step])
    assert decoder.done
    assert bytes(out) == b"".join(pieces)


def test_chunked_decoder_accepts_extensions_and_rejects_garbage() -> None:
    decoder = runtime_http.ChunkedDecoder()
    assert decoder.feed(b"3;name=value\r\nabc\r\n0\r\n\r\n") == b"abc"
    assert decoder.done
    with pytest.raises(runtime_http.ProtocolError):
        runtime_http.ChunkedDecoder().feed(b"zz\r\n")
    with pytest.raises(runtime_http.ProtocolError):
        runtime_http.ChunkedDecoder().feed(b"1\r\nab\r\n")


def test_next_request_and_error_post_bytes() -> None:
    assert runtime_http.next_invocation_request("h:1") == (
        b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: h:1\r\n\r\n"
    )
    body = runtime_http.error_document("Runtime.X", "boom", ["l1"])
    assert json.loads(body) == {"errorMessage": "boom", "errorType": "Runtime.X", "stackTrace": ["l1"]}
    post = runtime_http.post_request("h:1", "/init/error", b"{}", "Runtime.X")
    assert post == (
        b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: h:1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n"
        b"Lambda-Runtime-Function-Error-Type: Runtime.X\r\n\r\n{}"
    )


def test_response_head_parsing_and_body_framing() -> None:
    head = runtime_http.parse_response_head(
        b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nLambda-Runtime-Aws-Request-Id: abc\r\nX-A: 1\r\nx-a: 2"
    )
    assert head.status == 200
    assert head.headers["lambda-runtime-aws-request-id"] == "abc"
    assert head.headers["x-a"] == "1, 2"
    assert head.keep_alive
    assert runtime_http.body_length(head) == 12
    closing = runtime_http.parse_response_head(b"HTTP/1.0 202 Accepted\r\nContent-Type: x")
    assert not closing.keep_alive
    assert runtime_http.body_length(closing) == -1
    chunked = runtime_http.parse_response_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked")
    assert runtime_http.body_length(chunked) is None


@pytest.mark.parametrize(
    "raw", [b"", b"HTTP/2 200 OK", b"HTTP/1.1 2000 OK", b"HTTP/1.1 200 OK\r\nno colon", b"garbage"]
)
def test_bad_response_heads_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(runtime_http.ProtocolError):
        runtime_http.parse_response_head(raw)
