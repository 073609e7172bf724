"""Which demo-page link the CLI prints, if any (pure).

A page opened from disk (``file://``) sends ``Origin: null``; the stack's CORS lets it read the answers only when
``allowedOrigins`` is ``*`` (API Gateway cannot echo ``null`` from a list). Otherwise a printed ``file://`` link
would fail in the browser, so the CLI says why and offers ``--serve-demo``: the gateway serves the page on its
own origin, and calls from a page to its own origin need no CORS at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from streaming_bedrock_local.gateway import DEMO_PATHS


def demo_query(api_url: str, api_key: str | None) -> str:
    return urlencode({"endpoint": api_url, **({"key": api_key} if api_key else {})})


def demo_lines(
    demo_file: Path | None,
    gateway_url: str,
    api_url: str,
    api_key: str | None,
    allowed_origins: Sequence[str],
    served: bool,
) -> list[str]:
    """The banner's demo lines: a link that works, or why there is none and how to get one."""
    query = demo_query(api_url, api_key)
    if served:
        return [f"demo page: {gateway_url}{DEMO_PATHS[-1]}?{query}"]
    if demo_file is None:
        return []
    if tuple(allowed_origins) == ("*",):
        return [f"demo page: {demo_file.as_uri()}?{query}"]
    origins = ", ".join(allowed_origins)
    return [
        f"demo page: not linked: a page opened from disk (origin null) cannot read this stack's answers, "
        f"whose allowedOrigins are {origins}.",
        "  Run with --serve-demo to open it from the gateway's own origin, or serve demo/ from one of those origins.",
    ]
