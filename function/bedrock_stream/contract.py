"""What the runtime hands to a streaming handler: the invocation context and the response stream."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class ClientDisconnected(ConnectionError):
    """A write failed: the consumer of the response stream has gone away."""


@dataclass(frozen=True)
class InvocationContext:
    request_id: str
    deadline_ms: int  # epoch milliseconds, from Lambda-Runtime-Deadline-Ms
    invoked_function_arn: str = ""
    trace_id: str = ""
    client_context: str | None = None
    cognito_identity: str | None = None

    def remaining_ms(self) -> int:
        return self.deadline_ms - int(time.time() * 1000)


class ResponseStream(Protocol):
    """A streamed HTTP response: ``start`` once, then ``write`` payload pieces; each goes out at once."""

    @property
    def started(self) -> bool: ...

    def start(self, status: int, headers: Mapping[str, str], cookies: Sequence[str] = ()) -> None:
        """Send the response metadata (status, headers). Raises ClientDisconnected."""

    def write(self, data: bytes) -> None:
        """Send one piece of payload as its own chunk. Raises ClientDisconnected."""

    def fail(self, error_type: str, message: str) -> None:
        """End a started response abnormally (error trailers). Raises ClientDisconnected."""
