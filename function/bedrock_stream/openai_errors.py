"""OpenAI's error shape for the ``/v1`` routes (pure).

OpenAI answers every error with ``{"error": {"message", "type", "param", "code"}}``; its SDKs read ``message``
and keep the object as ``body`` (https://platform.openai.com/docs/guides/error-codes). The SDKs retry 408, 409,
429 and every 5xx unless the response says ``x-should-retry: false`` (openai-python ``_base_client.
_should_retry``, which obeys that header before looking at the status), and honour ``Retry-After`` up to 60 s.
So an error a retry cannot fix (access denied, a bad model id, validation) says ``x-should-retry: false``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bedrock_stream.bedrock_events import Failure

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
          429: "rate_limit_error", 503: "service_unavailable_error"}
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def error_type(status: int) -> str:
    """OpenAI's ``type`` for an HTTP status (``server_error`` for any other 5xx)."""
    return _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


@dataclass(frozen=True)
class ApiError:
    """One OpenAI-shaped error: status, body fields and whether a retry can help."""

    status: int
    code: str
    message: str
    param: str | None = None
    retryable: bool = False
    retry_after: int | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": error_type(self.status), "param": self.param,
                          "code": self.code}}

    def body(self) -> bytes:
        return _JSON.encode(self.payload()).encode("utf-8", "replace")

    def headers(self) -> dict[str, str]:
        headers = {"x-should-retry": "true" if self.retryable else "false", **self.extra_headers}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def stream_line(self) -> bytes:
        """The in-band form after the first byte: a ``data:`` line the SDKs turn into ``APIError``
        (openai-python ``Stream.__stream__`` raises on any event whose JSON has an ``error`` key)."""
        return b"data: " + self.body() + b"\n\n"


def from_failure(failure: Failure) -> ApiError:
    """A Bedrock failure (already classified for the native route) in OpenAI's shape, same status."""
    return ApiError(failure.status, failure.code, failure.message, None, failure.retryable, failure.retry_after)


def invalid(message: str, param: str | None, code: str = "invalid_request") -> ApiError:
    """A 400 for a request this API cannot accept; never worth retrying."""
    return ApiError(400, code, message, param)
