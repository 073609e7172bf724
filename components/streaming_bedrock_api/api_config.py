"""The REST API's configuration as plain data: CORS mappings, the preflight mock and the deployment fingerprint.

Pure module (no Pulumi import). ``api.py`` builds the resources from these values and the Deployment's
``triggers`` hash the very same data, so any change to methods, integrations, responses, auth or CORS redeploys
the stage, and nothing else does. Resource ids are deliberately not part of the hash: an in-place update (a new
transfer mode, say) keeps every id and would otherwise be missed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .settings import Settings, cors_headers, openai_resource_paths

STREAMING_URI_KIND = "response-streaming-invocations"
TRANSFER_MODE = "STREAM"
GATEWAY_RESPONSE_TYPES: tuple[str, ...] = ("DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED")
PREFLIGHT_REQUEST_TEMPLATE = '{"statusCode": 200}'
COGNITO_IDENTITY_SOURCE = "method.request.header.Authorization"
# auth api_key: keys come from a REQUEST authorizer (see authorizer.py for why two identity sources).
API_KEY_SOURCE = "AUTHORIZER"
NATIVE_IDENTITY_SOURCE = "method.request.header.x-api-key"
OPENAI_IDENTITY_SOURCE = "method.request.header.Authorization"
# Short: a key disabled or removed from its plan stops working within a minute (API Gateway's default is 300 s).
AUTHORIZER_TTL_SECONDS = 60
# The 401 API Gateway sends when the key header is missing, in OpenAI's error shape (the native route's
# {"error": {"code", "message"}} is a subset of it), so OpenAI SDKs raise AuthenticationError with this message.
UNAUTHORIZED_TEMPLATE = (
    '{"error":{"message":"Missing API key: send it as Authorization: Bearer <key> (OpenAI routes) or x-api-key '
    '(native route)","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}'
)

_AUTHORIZATION = {"api_key": "CUSTOM", "iam": "AWS_IAM", "cognito": "COGNITO_USER_POOLS", "none": "NONE"}


def method_authorization(settings: Settings) -> str:
    """The POST method's ``authorization`` value for the configured auth mode."""
    return _AUTHORIZATION[settings.auth]


def api_key_required(settings: Settings) -> bool:
    return settings.auth == "api_key"


def api_key_source(settings: Settings) -> str | None:
    """The REST API's ``apiKeySource``: AUTHORIZER with auth api_key, else API Gateway's default (HEADER)."""
    return API_KEY_SOURCE if settings.auth == "api_key" else None


def gateway_response_templates(kind: str) -> dict[str, str] | None:
    return {"application/json": UNAUTHORIZED_TEMPLATE} if kind == "UNAUTHORIZED" else None


def openai_routes(settings: Settings) -> dict[str, str]:
    """HTTP method → resource path of each OpenAI-compatible route (empty when they are off)."""
    if not settings.openai_routes:
        return {}
    chat, models = openai_resource_paths(settings)
    return {"POST": chat, "GET": models}


def _quoted(value: str) -> str:
    # API Gateway reads a single-quoted string in a parameter mapping as a static value.
    return "'" + value.replace("'", "") + "'"


def several_origins(settings: Settings) -> bool:
    """True when the allowed origins cannot be one static header value (and must be echoed per request)."""
    return len(settings.allowed_origins) > 1


def static_cors_headers(settings: Settings) -> dict[str, str]:
    """CORS headers that are the same for every request: all of them for one origin or ``*``.

    With several origins, ``Access-Control-Allow-Origin`` depends on the request and is left out here; the
    preflight sets it from a mapping template (see :func:`preflight_response_template`).
    """
    headers = cors_headers(settings, settings.allowed_origins[0])
    if several_origins(settings):
        headers.pop("Access-Control-Allow-Origin")
    return headers


def preflight_response_parameters(settings: Settings) -> dict[str, str]:
    """Integration-response header mapping of the OPTIONS mock (static values)."""
    return {f"method.response.header.{name}": _quoted(value) for name, value in static_cors_headers(settings).items()}


def preflight_method_response_parameters(settings: Settings) -> dict[str, bool]:
    """Headers the OPTIONS method response declares (all CORS headers, Allow-Origin included)."""
    names = set(static_cors_headers(settings)) | {"Access-Control-Allow-Origin"}
    return {f"method.response.header.{name}": True for name in sorted(names)}


def preflight_response_template(settings: Settings) -> str:
    """Mapping template of the OPTIONS mock's integration response.

    Empty for a single static origin. For several origins it echoes the request's ``Origin`` through
    ``$context.responseOverride`` when (and only when) it is one of the allowed origins; other origins get no
    ``Access-Control-Allow-Origin`` and the browser refuses the call.
    """
    if not several_origins(settings):
        return ""
    checks = " || ".join(f'$origin == "{origin}"' for origin in settings.allowed_origins)
    return (
        "#set($origin = $input.params().header.get('Origin'))\n"
        "#if(!$origin || $origin == \"\")#set($origin = $input.params().header.get('origin'))#end\n"
        f"#if({checks})\n"
        "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)\n"
        "#end\n"
    )


def gateway_response_parameters(settings: Settings) -> dict[str, str]:
    """CORS headers on API Gateway's own 4XX/5XX responses (missing key, throttled, integration failure).

    Gateway responses cannot run a template per request, so with several origins they carry no
    ``Access-Control-Allow-Origin`` (only ``Vary: Origin``): a browser on an allowed origin then sees a network
    error instead of the 401/403/429. A documented limit; one origin or ``*`` has none.
    """
    return {
        f"gatewayresponse.header.{name}": _quoted(value) for name, value in static_cors_headers(settings).items()
    }


def api_configuration(settings: Settings) -> dict[str, Any]:
    """Everything the deployed stage's behaviour depends on, as canonical plain data."""
    return {
        "path": settings.path,
        "endpointType": settings.endpoint_type,
        "post": {
            "authorization": method_authorization(settings),
            "apiKeyRequired": api_key_required(settings),
            "cognitoUserPools": sorted(settings.cognito_user_pool_arns),
            "integration": {
                "type": "AWS_PROXY",
                "httpMethod": "POST",
                "uriKind": STREAMING_URI_KIND,
                "responseTransferMode": TRANSFER_MODE,
                "timeoutMs": settings.integration_timeout_ms,
            },
        },
        "options": {
            "authorization": "NONE",
            "integration": {"type": "MOCK", "requestTemplate": PREFLIGHT_REQUEST_TEMPLATE},
            "methodResponse": preflight_method_response_parameters(settings),
            "responseParameters": preflight_response_parameters(settings),
            "responseTemplate": preflight_response_template(settings),
        },
        "gatewayResponses": {kind: gateway_response_parameters(settings) for kind in GATEWAY_RESPONSE_TYPES},
        "gatewayResponseTemplates": {kind: gateway_response_templates(kind) for kind in GATEWAY_RESPONSE_TYPES},
        "apiKeySource": api_key_source(settings),
        "authorizers": {
            "ttlSeconds": AUTHORIZER_TTL_SECONDS,
            "native": NATIVE_IDENTITY_SOURCE,
            "openai": OPENAI_IDENTITY_SOURCE if settings.openai_routes else None,
        } if settings.auth == "api_key" else None,
        # Same STREAM proxy integration, auth and preflight as the native POST, on each route.
        "openai": {method: {"path": path, "authorization": method_authorization(settings),
                            "apiKeyRequired": api_key_required(settings)}
                   for method, path in openai_routes(settings).items()},
    }


def configuration_hash(configuration: dict[str, Any]) -> str:
    """sha256 over canonical JSON (sorted keys, no whitespace) of ``configuration``."""
    canonical = json.dumps(configuration, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def deployment_triggers(settings: Settings) -> dict[str, str]:
    """The Deployment's ``triggers``: a change of any value here makes Pulumi replace the deployment."""
    return {"configuration": configuration_hash(api_configuration(settings))}
