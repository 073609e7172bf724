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

from .settings import Settings, cors_headers

STREAMING_URI_KIND = "response-streaming-invocations"
TRANSFER_MODE = "STREAM"
GATEWAY_RESPONSE_TYPES: tuple[str, ...] = ("DEFAULT_4XX", "DEFAULT_5XX")
PREFLIGHT_REQUEST_TEMPLATE = '{"statusCode": 200}'
COGNITO_IDENTITY_SOURCE = "method.request.header.Authorization"

_AUTHORIZATION = {"api_key": "NONE", "iam": "AWS_IAM", "cognito": "COGNITO_USER_POOLS", "none": "NONE"}


def method_authorization(settings: Settings) -> str:
    """The POST method's ``authorization`` value for the configured auth mode."""
    return _AUTHORIZATION[settings.auth]


def api_key_required(settings: Settings) -> bool:
    return settings.auth == "api_key"


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
    }


def configuration_hash(configuration: dict[str, Any]) -> str:
    """sha256 over canonical JSON (sorted keys, no whitespace) of ``configuration``."""
    canonical = json.dumps(configuration, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def deployment_triggers(settings: Settings) -> dict[str, str]:
    """The Deployment's ``triggers``: a change of any value here makes Pulumi replace the deployment."""
    return {"configuration": configuration_hash(api_configuration(settings))}
