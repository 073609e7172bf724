"""The probe's HTTP shell: one request at a time over http.client, the arrival time of every read recorded.

Auth as the method requires: the stack's API key (``x-api-key``), SigV4 for ``execute-api`` (botocore's
``SigV4Auth``, the signer the AWS SDKs use), a Cognito token, or nothing. The preflight is never signed: browsers
send it without credentials.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .probe import PROBE_MAX_TOKENS, PROBE_PROMPT, Arrival

AUTH_MODES = ("api_key", "iam", "cognito", "none")


@dataclass(frozen=True)
class ProbeAuth:
    mode: str
    region: str = ""
    api_key: str | None = None
    token: str | None = None
    credentials: Credentials | None = None

    def request_headers(self) -> list[str]:
        """Headers a browser would ask the preflight about for this auth mode."""
        extra = {"api_key": ["x-api-key"], "iam": ["authorization", "x-amz-date", "x-amz-security-token"]}
        return ["content-type", *extra.get(self.mode, ["authorization"] if self.mode == "cognito" else [])]

    def sign(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        if self.mode == "api_key" and self.api_key:
            return {**headers, "x-api-key": self.api_key}
        if self.mode == "cognito" and self.token:
            return {**headers, "Authorization": self.token}
        if self.mode == "iam" and self.credentials is not None:
            request = AWSRequest(method=method, url=url, data=body, headers=headers)
            SigV4Auth(self.credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(request)
            return dict(request.headers.items())
        return headers


@dataclass
class Exchange:
    status: int
    headers: dict[str, str]
    arrivals: list[Arrival] = field(default_factory=list)
    body: bytes = b""
    complete: bool = True
    ended_at: float = 0.0
    error: str = ""


def probe_body() -> bytes:
    return json.dumps({"prompt": PROBE_PROMPT, "max_tokens": PROBE_MAX_TOKENS}).encode()


def exchange(
    url: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    on_read: Callable[[Exchange], None] = lambda _: None,
) -> Exchange:
    """Send one request and read the body as it comes; connection problems end up in ``Exchange.error``."""
    parts = urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    result = Exchange(status=0, headers={})
    chunks: list[bytes] = []
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        result.status = response.status
        result.headers = {name.lower(): value for name, value in response.getheaders()}
        while True:
            data = response.read1(65536)
            if not data:
                break
            chunks.append(data)
            result.arrivals.append(Arrival(time.monotonic() - started, len(data)))
            on_read(result)
            if time.monotonic() - started > timeout:
                result.complete = False
                result.error = f"no end after {timeout:g} s"
                break
        result.body = b"".join(chunks)
    except http.client.IncompleteRead as error:
        result.body = b"".join([*chunks, error.partial])
        result.complete = False
    except (OSError, http.client.HTTPException) as error:
        result.complete = False
        result.error = f"{error.__class__.__name__}: {error}"
    finally:
        result.ended_at = time.monotonic() - started
        connection.close()
    return result
