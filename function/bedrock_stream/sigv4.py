"""AWS Signature Version 4 for one HTTP request (pure: no clock, no sockets).

Follows the SigV4 documentation ("Create a signed AWS API request", AWS IAM user guide) the way botocore's
``SigV4Auth`` applies it to rest-json services, and is tested byte for byte against it: the canonical URI is
the path with dot segments and empty segments removed, then percent-encoded again (so ``%3A`` becomes
``%253A``); header values are trimmed and inner whitespace collapsed; ``host`` is signed (without a default
port); hop-by-hop headers, ``user-agent`` and ``x-amzn-trace-id`` are not; the payload hash is SHA-256 of the
body; a session token goes in ``X-Amz-Security-Token`` and is signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
# Headers botocore leaves out of the signature (botocore.auth.SIGNED_HEADERS_BLACKLIST).
UNSIGNED_HEADERS = frozenset({
    "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
})


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:  # never print the secret or the token
        return f"Credentials(access_key={self.access_key!r}, secret_key=***, token={'***' if self.token else None})"


def remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, also dropping empty segments (AWS wants no ``//``)."""
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if segment and segment != ".":
            if segment == "..":
                if out:
                    out.pop()
            else:
                out.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and out else ""
    return first + "/".join(out) + last


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "/") -> str:
    """Percent-encode UTF-8 ``text`` like ``urllib.parse.quote`` (without importing urllib: cold start)."""
    keep = _UNRESERVED | frozenset(safe.encode("ascii"))
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode("utf-8"))


def canonical_uri(path: str) -> str:
    return quote(remove_dot_segments(path) if path else "/", safe="/~")


def canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{key}={value}" for key, value in pairs)


def _trim(value: str) -> str:
    return " ".join(value.split())


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), date)
    return _hmac(_hmac(_hmac(key, region), service), "aws4_request")


def sign_headers(
    method: str,
    host: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    amz_date: str,
    key: bytes | None = None,
) -> dict[str, str]:
    """The headers to add to the request so it is signed: ``X-Amz-Date``, ``X-Amz-Security-Token`` (with a
    session token) and ``Authorization``. ``host`` is the Host header value (no default port); ``amz_date``
    is ``YYYYMMDDTHHMMSSZ`` (UTC); ``key`` may be a cached :func:`signing_key` for that date."""
    added = {"X-Amz-Date": amz_date}
    if credentials.token:
        added["X-Amz-Security-Token"] = credentials.token
    to_sign: dict[str, list[str]] = {}
    for name, value in (*headers.items(), *added.items()):
        lower = name.lower()
        if lower not in UNSIGNED_HEADERS:
            to_sign.setdefault(lower, []).append(value)
    to_sign.setdefault("host", [host])
    names = sorted(to_sign)
    canonical_headers = "".join(f"{name}:{','.join(_trim(v) for v in to_sign[name])}\n" for name in names)
    signed = ";".join(names)
    canonical_request = "\n".join((
        method.upper(), canonical_uri(path), canonical_query(query), canonical_headers, signed,
        hashlib.sha256(body).hexdigest(),
    ))
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()))
    key = key or signing_key(credentials.secret_key, date, region, service)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return added
