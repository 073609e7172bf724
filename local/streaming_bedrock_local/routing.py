"""What the local API Gateway does with a request before and around the Lambda call (pure, no sockets).

:func:`route` decides, from the request line and headers, between answering directly (preflight, gateway
errors) and invoking the function. Gateway errors carry the same CORS headers the component puts on its
``GatewayResponse`` resources (``streaming_bedrock_api.api_config``), so a browser reads what it would on AWS.
Bodies and status codes are those a REST API returns: ``{"message":"Missing Authentication Token"}`` (403) for
an unknown path or method, ``{"message":"Forbidden"}`` (403) for a missing or wrong API key.

With auth ``api_key`` the component puts a REQUEST authorizer in front (``apiKeySource: AUTHORIZER``), and so does
this emulator: the route's identity-source header missing → 401 with the component's OpenAI-shaped UNAUTHORIZED body
(API Gateway does not call the authorizer then); the deployed authorizer's own code reads the key
(``authorizer_source/key_authorizer.py``: ``Authorization: Bearer`` on the OpenAI routes, ``x-api-key`` on the
native one) and may refuse (401); a key that is not the stack's → 403 ``Forbidden``, as API Gateway answers for a
``usageIdentifierKey`` that is no valid key.

Auth modes the local stack cannot verify (``iam`` SigV4 signatures, ``cognito`` JWTs) only require the
``Authorization`` header to be present; the CLI says so at start.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from streaming_bedrock_api.api_config import (
    NATIVE_IDENTITY_SOURCE,
    OPENAI_IDENTITY_SOURCE,
    gateway_response_templates,
    openai_routes,
    several_origins,
    static_cors_headers,
)
from streaming_bedrock_api.authorizer_source.key_authorizer import Unauthorized
from streaming_bedrock_api.authorizer_source.key_authorizer import handler as key_authorizer
from streaming_bedrock_api.settings import Settings, allowed_origin

from streaming_bedrock_local.proxy_event import header_value

# API Gateway's payload limit for REST APIs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024

# Hop-by-hop and framing headers the gateway owns; a function cannot set them on a streamed response.
GATEWAY_OWNED_HEADERS = frozenset(
    {"connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "trailer", "te"}
)


@dataclass(frozen=True)
class GatewayReply:
    """A complete response the gateway sends itself."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Invoke:
    """Call the function with a proxy event for this resource."""

    resource_path: str
    client_path: str
    query: str
    api_key: str | None


Decision = GatewayReply | Invoke

_ERROR_TYPES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "INVALID_API_KEY": (403, "Forbidden", "ForbiddenException"),
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLargeException"),
    "BAD_REQUEST_BODY": (400, "Invalid request body", "BadRequestException"),
    "THROTTLED": (429, "Too Many Requests", "TooManyRequestsException"),
    "INTEGRATION_FAILURE": (500, "Internal server error", "InternalServerErrorException"),
    "LAMBDA_ERROR": (502, "Internal server error", "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "IntegrationTimeoutException"),
}


def gateway_error(kind: str, settings: Settings, request_id: str) -> GatewayReply:
    """API Gateway's own error response of type ``kind`` (a ``GatewayResponse`` type name), with CORS.

    The headers are the static ones the component puts on its gateway responses, so with several allowed
    origins there is no ``Access-Control-Allow-Origin`` here either (a deployed gateway response cannot pick one
    per request): what a browser can read locally is what it can read on AWS; so it takes no request origin.
    """
    status, message, error_type = _ERROR_TYPES[kind]
    template = gateway_response_templates(kind)
    body = template["application/json"].encode() if template else json.dumps({"message": message}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", error_type),
        *static_cors_headers(settings).items(),
    ]
    return GatewayReply(status, tuple(headers), body)


def preflight(settings: Settings, origin: str | None, request_id: str) -> GatewayReply:
    """The OPTIONS answer (the component's mock integration): 200, empty body, CORS headers.

    Like the deployed mock: the static headers, plus the request's ``Origin`` echoed when several origins are
    allowed and it is one of them.
    """
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    headers.extend(static_cors_headers(settings).items())
    echoed = allowed_origin(settings, origin)
    if several_origins(settings) and echoed is not None:
        headers.append(("Access-Control-Allow-Origin", echoed))
    return GatewayReply(200, tuple(headers), b"")


def api_key_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the ``x-api-key`` header with the local key."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def resource_for(path: str, settings: Settings) -> str | None:
    """The resource path (``/stream``, ``/v1/models``, ...) addressed by ``path`` with or without ``/{stage}``."""
    stage = f"/{settings.stage_name}"
    if path.startswith(stage + "/"):
        path = path[len(stage):]
    if path == f"/{settings.path}" or path in openai_routes(settings).values():
        return path
    return None


def resource_methods(resource: str, settings: Settings) -> tuple[str, ...]:
    """The methods a resource has (the component's): its own plus the OPTIONS preflight."""
    for method, path in openai_routes(settings).items():
        if resource == path:
            return (method, "OPTIONS")
    return ("POST", "OPTIONS")


def _authorizer_key(resource: str, headers: Sequence[tuple[str, str]], settings: Settings) -> str | None:
    """What the deployed key authorizer returns as ``usageIdentifierKey`` for this request (None: it refuses)."""
    event = {"type": "REQUEST", "resource": resource, "headers": dict(headers),
             "methodArn": f"arn:aws:execute-api:local:000000000000:local/{settings.stage_name}/POST{resource}"}
    try:
        return str(key_authorizer(event, None)["usageIdentifierKey"])
    except Unauthorized:
        return None


def presented_key(target: str, headers: Sequence[tuple[str, str]], settings: Settings) -> str | None:
    """The API key a request presents on its route (Bearer on the OpenAI routes, x-api-key on the native one)."""
    resource = resource_for(target.partition("?")[0], settings)
    return None if resource is None else _authorizer_key(resource, headers, settings)


def authorize(resource: str, headers: Sequence[tuple[str, str]], settings: Settings, api_key: str | None,
              request_id: str) -> GatewayReply | str:
    """auth api_key: the key the authorizer hands to API Gateway, or the gateway's refusal."""
    is_openai = resource in openai_routes(settings).values()
    identity_source = OPENAI_IDENTITY_SOURCE if is_openai else NATIVE_IDENTITY_SOURCE
    if not header_value(headers, identity_source.rsplit(".", 1)[-1]):
        return gateway_error("UNAUTHORIZED", settings, request_id)
    given = _authorizer_key(resource, headers, settings)
    if given is None:
        return gateway_error("UNAUTHORIZED", settings, request_id)
    if api_key is None or not api_key_matches(given, api_key):
        return gateway_error("INVALID_API_KEY", settings, request_id)
    return given


def route(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    settings: Settings,
    api_key: str | None,
    request_id: str,
    content_length: int = 0,
) -> Decision:
    """Decide what to do with a request for ``target`` (path plus optional ``?query``)."""
    path, _, query = target.partition("?")
    origin = header_value(headers, "origin")
    resource = resource_for(path, settings)
    if resource is None or method not in resource_methods(resource, settings):
        return gateway_error("MISSING_AUTHENTICATION_TOKEN", settings, request_id)
    if method == "OPTIONS":
        return preflight(settings, origin, request_id)
    if content_length > MAX_PAYLOAD_BYTES:
        return gateway_error("REQUEST_TOO_LARGE", settings, request_id)
    given_key: str | None = None
    if settings.auth == "api_key":
        authorized = authorize(resource, headers, settings, api_key, request_id)
        if isinstance(authorized, GatewayReply):
            return authorized
        given_key = authorized
    elif settings.auth == "cognito" and not header_value(headers, "authorization"):
        return gateway_error("UNAUTHORIZED", settings, request_id)
    elif settings.auth == "iam" and not header_value(headers, "authorization"):
        return gateway_error("MISSING_AUTHENTICATION_TOKEN", settings, request_id)
    return Invoke(
        resource_path=resource,
        client_path=path,
        query=query,
        api_key=given_key,
    )


def response_headers(
    function_headers: Sequence[tuple[str, str]], request_id: str
) -> tuple[tuple[str, str], ...]:
    """Headers for a streamed response: the function's own (minus framing ones) plus the gateway's."""
    kept = [(name, value) for name, value in function_headers if name.lower() not in GATEWAY_OWNED_HEADERS]
    kept.append(("x-amzn-RequestId", request_id))
    return tuple(kept)
