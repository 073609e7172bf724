"""HTTP/1.1 framing of a streaming response to the Lambda Runtime API (pure, no sockets).

A streamed invocation response is one chunked ``POST /2018-06-01/runtime/invocation/{id}/response``:

* request head: ``Lambda-Runtime-Function-Response-Mode: streaming``, ``Transfer-Encoding: chunked``, the
  API Gateway integration content type, and the two error trailers declared up front;
* first chunk: the integration prelude, JSON metadata ``{statusCode, headers, cookies}`` + 8 NUL bytes;
* one chunk per payload write;
* end: the last chunk ``0`` followed either by nothing (success) or by the error trailers (a mid-stream
  failure: ``Lambda-Runtime-Function-Error-Body`` is base64 of JSON ``{errorType, errorMessage, trace}``).

``http.client`` cannot send trailers, so the bytes are built here and written by the runtime shell.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

RUNTIME_API_PREFIX = "/2018-06-01/runtime"
INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
ERROR_TYPE_TRAILER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"
PRELUDE_DELIMITER = b"\x00" * 8
# API Gateway requires the delimiter within the first 16 KB of the stream.
MAX_PRELUDE_BYTES = 16 * 1024
LAST_CHUNK = b"0\r\n\r\n"


class FramingError(ValueError):
    """The response metadata cannot be framed (too large, or unsafe header text)."""


def _header_safe(value: str) -> str:
    """Drop characters that would split or corrupt an HTTP header line."""
    return "".join(ch for ch in value if ch >= " " and ch != "\x7f")


def streaming_response_head(request_id: str, host: str) -> bytes:
    """The request line and headers that open a streamed invocation response."""
    return (
        f"POST {RUNTIME_API_PREFIX}/invocation/{_header_safe(request_id)}/response HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
        "Transfer-Encoding: chunked\r\n"
        f"Content-Type: {INTEGRATION_CONTENT_TYPE}\r\n"
        f"Trailer: {ERROR_TYPE_TRAILER}, {ERROR_BODY_TRAILER}\r\n"
        "\r\n"
    ).encode("latin-1")


def encode_chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk. Empty data yields no bytes (an empty chunk would end the body)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def integration_prelude(
    status: int, headers: Mapping[str, str], cookies: Sequence[str] = ()
) -> bytes:
    """API Gateway metadata JSON + the 8-NUL delimiter, which must end within the first 16 KB."""
    if not 100 <= status <= 599:
        raise FramingError(f"status code out of range: {status}")
    metadata = {
        "statusCode": status,
        "headers": {_header_safe(k): _header_safe(v) for k, v in headers.items()},
        "cookies": [_header_safe(c) for c in cookies],
    }
    prelude = json.dumps(metadata, separators=(",", ":")).encode("utf-8") + PRELUDE_DELIMITER
    if len(prelude) > MAX_PRELUDE_BYTES:
        raise FramingError(f"response metadata is {len(prelude)} bytes; API Gateway allows {MAX_PRELUDE_BYTES}")
    return prelude


def error_trailers(error_type: str, message: str, trace: Sequence[str] = ()) -> bytes:
    """The last chunk followed by the two error trailers that report a mid-stream failure."""
    body = json.dumps(
        {"errorType": error_type, "errorMessage": message, "trace": list(trace)}, separators=(",", ":")
    ).encode("utf-8")
    return (
        b"0\r\n"
        + f"{ERROR_TYPE_TRAILER}: {_header_safe(error_type)}\r\n".encode("latin-1", "replace")
        + f"{ERROR_BODY_TRAILER}: ".encode("latin-1")
        + base64.b64encode(body)
        + b"\r\n\r\n"
    )
