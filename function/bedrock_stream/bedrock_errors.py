"""Exceptions of the lean Bedrock client, shaped like botocore's so nothing downstream can tell them apart.

``bedrock_events.classify_exception`` reads ``exc.response["Error"]["Code"/"Message"]`` and otherwise the class
names in the exception's MRO; these classes carry the same response shape and the same names as botocore's
(``botocore.exceptions``), so a failure is classified (status, code, log line) exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATION = "ConverseStream"


class ClientError(Exception):
    """A service error: ``response`` is ``{"Error": {"Code", "Message"}, "ResponseMetadata": {...}, ...}``."""

    def __init__(self, response: Mapping[str, Any], operation_name: str = OPERATION) -> None:
        error = response.get("Error", {})
        metadata = response.get("ResponseMetadata", {})
        retry_info = ""
        if metadata.get("MaxAttemptsReached") and "RetryAttempts" in metadata:
            retry_info = f" (reached max retries: {metadata['RetryAttempts']})"
        super().__init__(
            f"An error occurred ({error.get('Code', 'Unknown')}) when calling the {operation_name} "
            f"operation{retry_info}: {error.get('Message', 'Unknown')}"
        )
        self.response = dict(response)
        self.operation_name = operation_name


class EventStreamError(ClientError):
    """An exception or error message inside a started stream (botocore raises the same class name)."""


class HTTPClientError(Exception):
    """A transport failure; subclasses are named as botocore names them."""

    def __init__(self, message: str, endpoint_url: str = "") -> None:
        super().__init__(message)
        self.endpoint_url = endpoint_url


class EndpointConnectionError(HTTPClientError):
    pass


class ConnectTimeoutError(HTTPClientError):
    pass


class ReadTimeoutError(HTTPClientError):
    pass


class ConnectionClosedError(HTTPClientError):
    pass


class ResponseParserError(Exception):
    """The service sent something the ConverseStream model does not allow (e.g. a union with two members)."""


class ProtocolError(Exception):
    """The connection broke inside a started stream (urllib3's class name, which botocore lets through)."""


_ERROR_CLASSES: dict[str, type[ClientError]] = {}


def error_class(code: str) -> type[ClientError]:
    """The exception class botocore raises for a service error ``code`` (``ThrottlingException``, ...):
    a ClientError subclass of that name, so ``type(exc).__name__`` and ``str(exc)`` read the same."""
    cls = _ERROR_CLASSES.get(code)
    if cls is None:
        cls = type(code, (ClientError,), {}) if code.isidentifier() else ClientError
        _ERROR_CLASSES[code] = cls
    return cls
