"""API key authorizer (Lambda REQUEST authorizer, standard library only): hands the client's key to API Gateway.

With ``apiKeySource: AUTHORIZER`` API Gateway takes the API key from the authorizer's ``usageIdentifierKey`` and
then enforces it exactly as for an ``x-api-key`` header: the key must exist and be enabled (else 403), and its
usage plan's throttle and quota apply (API Gateway developer guide, "Choose an API key source" and "Output from
an API Gateway Lambda authorizer"). This function does not judge the key: it only reads it.

Which header holds the key depends on the route, and must be the route authorizer's identity source, because API
Gateway caches the result under the identity-source values: the OpenAI-compatible routes (``.../v1/...``) read
``Authorization: Bearer <key>`` (what every OpenAI client sends); the native route reads ``x-api-key``.
The allowed resource is the whole stage, so a cached Allow also serves the authorizer's other routes.
"""

from __future__ import annotations

from typing import Any

OPENAI_SUFFIXES = ("/v1/chat/completions", "/v1/models")


class Unauthorized(Exception):
    """Raised with the message ``Unauthorized``: API Gateway then answers 401 (the UNAUTHORIZED gateway response)."""


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


def api_key_from(event: dict[str, Any]) -> str | None:
    """The key in the request's route-specific header, or None."""
    headers = event.get("headers")
    resource = event.get("resource")
    if isinstance(resource, str) and resource.endswith(OPENAI_SUFFIXES):
        value = _header(headers, "authorization") or ""
        scheme, _, token = value.strip().partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None
    key = (_header(headers, "x-api-key") or "").strip()
    return key or None


def stage_arn(method_arn: str) -> str:
    """``arn:...:{apiId}/{stage}/{METHOD}/{path}`` → ``arn:...:{apiId}/{stage}/*`` (every method of the stage)."""
    head, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{head}/{stage}/*"


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    key = api_key_from(event)
    method_arn = event.get("methodArn")
    if key is None or not isinstance(method_arn, str):
        raise Unauthorized("Unauthorized")
    return {
        # Not the key itself: the principal shows up in access logs.
        "principalId": "api-key",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": stage_arn(method_arn)}],
        },
        "usageIdentifierKey": key,
    }
