"""CORS response headers derived from ``CORS_ALLOW_ORIGINS`` (pure).

With a proxy integration the function sets CORS itself, on every response it produces.
"""

from __future__ import annotations

PREFLIGHT_METHODS = "GET,POST,OPTIONS"
PREFLIGHT_HEADERS = "Content-Type,Authorization,X-Api-Key,X-Amz-Date,X-Amz-Security-Token,Accept"


def cors_headers(allowed_origins: tuple[str, ...], origin: str | None) -> dict[str, str]:
    """``*`` allows any origin; otherwise echo the request Origin only when it is listed."""
    if "*" in allowed_origins:
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
    headers = {"Vary": "Origin"}
    if origin is not None and origin in allowed_origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


def preflight_headers(allowed_origins: tuple[str, ...], origin: str | None) -> dict[str, str]:
    headers = cors_headers(allowed_origins, origin)
    if "Access-Control-Allow-Origin" in headers:
        headers["Access-Control-Allow-Methods"] = PREFLIGHT_METHODS
        headers["Access-Control-Allow-Headers"] = PREFLIGHT_HEADERS
        headers["Access-Control-Max-Age"] = "600"
    return headers
