"""Build the API Gateway REST proxy (v1) event from an HTTP request, as API Gateway hands it to Lambda.

Pure: takes the parsed request line, headers and body; no sockets. Path rules follow what the REST API puts in
the event when called on its execute-api URL: ``path`` is the resource path *without* the stage
(``/stream``), ``requestContext.path`` is the path the client used (``/prod/stream``). A request that reached
the local gateway without the stage prefix (like a custom domain without base path) gets the same value in
both.

Bodies: REST APIs pass text bodies through as strings. A body that is not valid UTF-8, or whose Content-Type is
one of ``binary_media_types``, is sent base64-encoded with ``isBase64Encoded: true`` (AWS would need binary
media types configured for that; locally we never mangle bytes).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_API_ID = "local"
LOCAL_RESOURCE_ID = "local0"

_IDENTITY_NULL_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
    "principalOrgId",
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ProxyRequest:
    """One HTTP request as the gateway received it, already routed to the resource."""

    method: str
    resource_path: str  # the API resource, e.g. "/stream"
    client_path: str  # the path the client used, without query, e.g. "/prod/stream"
    stage: str
    query: str  # raw query string without "?"
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request_time_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    api_key: str | None = None
    protocol: str = "HTTP/1.1"
    # The id of ``api_key`` (API Gateway's identity.apiKeyId); the local default key's id when not given.
    api_key_id: str | None = None


def _request_time(epoch_ms: int) -> str:
    # API Gateway's CLF-style requestTime, e.g. "09/Apr/2015:12:34:56 +0000".
    t = time.gmtime(epoch_ms / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def parse_query(query: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """Single-value (last wins) and multi-value query maps; both None for an empty query, like AWS."""
    multi: dict[str, list[str]] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        multi.setdefault(unquote_plus(name), []).append(unquote_plus(value))
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def header_maps(
    headers: Sequence[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """Single-value (last wins) and multi-value header maps keeping the client's spelling; None when empty."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in headers:
        # Repeated headers with different case end up under the first spelling seen.
        key = spelling.setdefault(name.lower(), name)
        single[key] = value
        multi.setdefault(key, []).append(value)
    if not single:
        return None, None
    return single, multi


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """Last value of header ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    found = None
    for key, value in headers:
        if key.lower() == wanted:
            found = value
    return found


def encode_body(
    body: bytes, content_type: str | None, binary_media_types: Sequence[str] = ()
) -> tuple[str | None, bool]:
    """The event's ``body`` and ``isBase64Encoded`` for raw request bytes."""
    if not body:
        return None, False
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and any(_media_matches(media_type, pattern) for pattern in binary_media_types):
        return base64.b64encode(body).decode("ascii"), True
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _media_matches(media_type: str, pattern: str) -> bool:
    pattern = pattern.strip().lower()
    if pattern in ("*/*", media_type):
        return True
    if pattern.endswith("/*"):
        return media_type.startswith(pattern[:-1])
    return False


def build_event(request: ProxyRequest, binary_media_types: Sequence[str] = ()) -> dict[str, Any]:
    """The REST proxy v1 event for ``request``."""
    headers, multi_headers = header_maps(request.headers)
    query, multi_query = parse_query(request.query)
    body, is_base64 = encode_body(request.body, header_value(request.headers, "content-type"), binary_media_types)
    stage_prefix = f"/{request.stage}"
    client_path = request.client_path
    # On the execute-api URL the stage is not part of the event's path.
    if client_path == stage_prefix or client_path.startswith(stage_prefix + "/"):
        event_path = client_path[len(stage_prefix) :] or "/"
    else:
        event_path = client_path
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_NULL_KEYS)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = header_value(request.headers, "user-agent")
    identity["apiKey"] = request.api_key
    identity["apiKeyId"] = (request.api_key_id or "local-api-key") if request.api_key is not None else None
    return {
        "resource": request.resource_path,
        "path": event_path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": LOCAL_RESOURCE_ID,
            "resourcePath": request.resource_path,
            "httpMethod": request.method,
            "extendedRequestId": request.request_id,
            "requestTime": _request_time(request.request_time_ms),
            "path": client_path,
            "accountId": LOCAL_ACCOUNT_ID,
            "protocol": request.protocol,
            "stage": request.stage,
            "domainPrefix": LOCAL_API_ID,
            "requestTimeEpoch": request.request_time_ms,
            "requestId": request.request_id,
            "identity": identity,
            "domainName": header_value(request.headers, "host") or "127.0.0.1",
            "apiId": LOCAL_API_ID,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
