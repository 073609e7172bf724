"""ConverseStream's HTTP messages, rest-json as botocore speaks it (pure: bytes in, bytes out, no sockets).

Request: ``POST {base}/model/{modelId}/converse-stream`` with the modelId percent-encoded as one path label
(``:`` → ``%3A``, ``/`` → ``%2F``) and every other argument as the JSON body, passed through verbatim (new
Converse fields need no code here); ``bytes`` values (the model's blob members) are base64 text, as botocore
serializes blobs. Error responses are read into botocore's parsed-response shape.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from bedrock_stream.aws_env import SIGNING_NAME, Endpoint
from bedrock_stream.sigv4 import Credentials, quote, sign_headers

CONTENT_TYPE = "application/json"
EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _blob(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_blob)


def request_path(endpoint: Endpoint, model_id: str) -> str:
    return f"{endpoint.base_path}/model/{quote(model_id, safe='-_.~')}/converse-stream"


def request_body(arguments: Mapping[str, Any]) -> tuple[str, bytes]:
    """(modelId, JSON body of every other argument)."""
    fields = dict(arguments)
    model_id = fields.pop("modelId", None)
    if not isinstance(model_id, str) or not model_id:
        raise ValueError("converse_stream needs a modelId string")
    return model_id, _ENCODER.encode(fields).encode("utf-8")


def build_request(
    endpoint: Endpoint, region: str, credentials: Credentials, model_id: str, body: bytes, amz_date: str,
    unsigned_headers: Mapping[str, str], key: bytes | None = None,
) -> bytes:
    """The signed request, head and body, ready to send on a keep-alive connection.

    Signed as botocore signs it: ``Content-Type``, ``Host``, ``X-Amz-Date`` and the session token; the
    ``unsigned_headers`` (User-Agent, ``amz-sdk-*``) and ``Content-Length`` are added after signing, as there.
    """
    path = request_path(endpoint, model_id)
    headers = {"Content-Type": CONTENT_TYPE}
    headers.update(sign_headers("POST", endpoint.host_header, path, "", headers, body, credentials, region,
                                SIGNING_NAME, amz_date, key))
    headers.update(unsigned_headers)
    headers["Content-Length"] = str(len(body))
    lines = [f"POST {path} HTTP/1.1", f"Host: {endpoint.host_header}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _error_code(raw: object) -> object:
    if isinstance(raw, str):
        return raw.split(":", 1)[0].rsplit("#", 1)[-1]
    return raw


def parse_error(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """botocore's parsed error response for a non-2xx answer (``headers`` lower-cased).

    ``RestJSONParser``: a 5xx with an empty or HTML body is a generic error (code = status, message = reason);
    otherwise the message is the body's ``message``/``Message`` and the code comes from ``x-amzn-ErrorType``,
    else the body's ``code``/``Code``, else its ``__type``, else the status, cut at ``:`` and after ``#``.
    """
    metadata: dict[str, Any] = {}
    stripped = body.strip()
    if status >= 500 and (not stripped or stripped.startswith(b"<html>")):
        error: dict[str, Any] = {"Code": str(status), "Message": _reason(status)}
    else:
        parsed: Any = {}
        if body:
            text = body.decode("utf-8")
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = {"message": text}
        error = {"Message": parsed.get("message", parsed.get("Message", "")), "Code": ""}
        code = _error_code(parsed.get("__type", str(status)))
        if "x-amzn-errortype" in headers:
            code = _error_code(headers["x-amzn-errortype"])
        elif "code" in parsed or "Code" in parsed:
            code = _error_code(parsed.get("code", parsed.get("Code", "")))
        error["Code"] = code
        if "x-amzn-requestid" in headers:
            metadata["RequestId"] = headers["x-amzn-requestid"]
    metadata["HTTPStatusCode"] = status
    metadata["HTTPHeaders"] = dict(headers)
    return {"Error": error, "ResponseMetadata": metadata}


def _reason(status: int) -> str:
    from http import HTTPStatus  # error path only: building the enum costs cold-start time

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
