"""What the gateway sees of one function invocation: a queue of events (pure types, no I/O).

The Lambda emulator (:mod:`streaming_bedrock_local.lambda_pool`) produces, for each invocation, the bytes of
the function's streamed response as :class:`Chunk` events in arrival order, then exactly one terminal event:
:class:`Finished` (the response body ended; ``error_type`` is set when the function sent the error trailers)
or :class:`InvokeFailed` (no streamed response: the handler reported an error, the worker crashed, or the
deadline passed). The gateway reads them with :meth:`Invocation.next_event` and may :meth:`Invocation.cancel`
(client gone, gateway timeout), which closes the function's connection as API Gateway does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Chunk:
    data: bytes


@dataclass(frozen=True)
class Finished:
    """The streamed response ended. With error trailers, ``error_type`` and ``error_body`` (decoded) are set."""

    error_type: str | None = None
    error_body: str | None = None


FailureKind = Literal["function_error", "crashed", "timeout", "cancelled"]


@dataclass(frozen=True)
class InvokeFailed:
    """No (complete) streamed response came: why, and a short message for the log (never payload text)."""

    kind: FailureKind
    message: str


InvocationEvent = Chunk | Finished | InvokeFailed


class Invocation(Protocol):
    def next_event(self, timeout: float) -> InvocationEvent | None:
        """The next event, or None when nothing arrived within ``timeout`` seconds."""
        ...

    def cancel(self, reason: str) -> None:
        """Stop the invocation: the function's connection is closed; later events may still drain."""
        ...


class FunctionInvoker(Protocol):
    def invoke(self, event: dict[str, Any], request_id: str) -> Invocation:
        """Queue ``event`` for the next free worker and return a handle to its streamed response."""
        ...
