"""One Runtime API invocation's life, as the server and its consumers see it (no sockets of its own).

:class:`Invocation` is queued → handed to a worker → fed response chunks → finished exactly once with an
:class:`InvocationResult`; consumers read chunks as they arrive, or cancel/abandon it. The streaming error
trailers are decoded here too (:func:`decode_error_trailers`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from streaming_bedrock_local.chunked import ChunkData

ERROR_TYPE_TRAILER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"

Mode = Literal["streaming", "buffered", "error", "cancelled", "timeout", "abandoned"]


@dataclass(frozen=True)
class Chunk:
    """One HTTP chunk of a streamed response (or the whole buffered body) and when it arrived."""

    data: bytes
    received_at: float


@dataclass(frozen=True)
class InvocationResult:
    """How an invocation ended.

    ``mode``: ``streaming``/``buffered`` (a response arrived; ``complete`` is False when the stream broke
    without its terminating chunk), ``error`` (``/error``), ``cancelled`` (``cancel()``), ``timeout``
    (deadline), ``abandoned`` (``abandon()``, e.g. the worker died). ``headers`` are the function's
    request headers on ``/response`` or ``/error``; ``error`` is the parsed error JSON from ``/error``,
    from the ``Lambda-Runtime-Function-Error-Body`` trailer, or set by the server.
    """

    mode: Mode
    headers: Mapping[str, str]
    body: bytes
    chunks: tuple[Chunk, ...]
    trailers: Mapping[str, str]
    complete: bool
    error_type: str | None
    error: Any
    handed_out_at: float | None
    completed_at: float

    @property
    def first_byte_at(self) -> float | None:
        return self.chunks[0].received_at if self.chunks else None


def decode_error_trailers(trailers: Mapping[str, str]) -> tuple[str | None, Any]:
    """The error type and decoded JSON body from streaming error trailers (body is base64 JSON)."""
    lowered = {k.lower(): v for k, v in trailers.items()}
    error_type = lowered.get(ERROR_TYPE_TRAILER.lower())
    raw = lowered.get(ERROR_BODY_TRAILER.lower())
    if raw is None:
        return error_type, None
    try:
        return error_type, json.loads(base64.b64decode(raw, validate=True))
    except ValueError:
        return error_type, raw


class Invocation:
    """One event's life: queued → handed to a worker → response chunks → result. Thread-safe."""

    def __init__(
        self,
        event: bytes,
        *,
        timeout_ms: int,
        function_arn: str,
        trace_id: str,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.request_id = request_id or str(uuid.uuid4())
        self.event = event
        self.timeout_ms = timeout_ms
        self.function_arn = function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.created_at = time.monotonic()
        self.worker: str | None = None
        self.handed_out_at: float | None = None
        self.deadline_epoch_ms: int | None = None
        self.deadline_monotonic: float | None = None
        self.response_started = threading.Event()
        self._cond = threading.Condition()
        self._chunks: list[Chunk] = []
        self._partial = bytearray()
        self._result: InvocationResult | None = None
        self._response_socket: socket.socket | None = None
        self._response_headers: dict[str, str] = {}

    # state
    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> InvocationResult | None:
        return self._result

    def _finish(
        self,
        mode: Mode,
        *,
        body: bytes | None = None,
        trailers: Mapping[str, str] | None = None,
        complete: bool = True,
        error_type: str | None = None,
        error: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> bool:
        with self._cond:
            if self._result is not None:
                return False
            chunks = tuple(self._chunks)
            self._result = InvocationResult(
                mode=mode,
                headers=dict(headers if headers is not None else self._response_headers),
                body=body if body is not None else b"".join(c.data for c in chunks),
                chunks=chunks,
                trailers=dict(trailers or {}),
                complete=complete,
                error_type=error_type,
                error=error,
                handed_out_at=self.handed_out_at,
                completed_at=time.monotonic(),
            )
            self._cond.notify_all()
            return True

    def _add_piece(self, piece: ChunkData) -> None:
        if not piece.chunk_end:
            self._partial += piece.data
            return
        if self._partial:
            self._partial += piece.data
            data = bytes(self._partial)
            self._partial.clear()
        else:
            data = piece.data  # the whole chunk came in one piece (the usual case): kept as it is, no copy
        chunk = Chunk(data, time.monotonic())
        with self._cond:
            if self._result is None:
                self._chunks.append(chunk)
                self._cond.notify_all()

    # consumer API
    def timed_chunks(self, timeout: float | None = None) -> Iterator[Chunk]:
        """Yield response chunks as they arrive until the invocation ends (``timeout``: per wait)."""
        index = 0
        while True:
            with self._cond:
                while index >= len(self._chunks) and self._result is None:
                    if not self._cond.wait(timeout):
                        raise TimeoutError(f"no chunk for {timeout}s from invocation {self.request_id}")
                pending = self._chunks[index:]
                finished = self._result is not None
            yield from pending
            index += len(pending)
            if finished and index >= len(self._chunks):
                return

    def next_chunk(self, index: int, timeout: float) -> Chunk | InvocationResult | None:
        """Chunk number ``index`` once it arrived; the result once the invocation ended and every chunk before
        it was taken; None when neither came within ``timeout`` seconds."""
        with self._cond:
            if index >= len(self._chunks) and self._result is None:
                self._cond.wait(timeout)
            if index < len(self._chunks):
                return self._chunks[index]
            return self._result

    def chunks(self, timeout: float | None = None) -> Iterator[bytes]:
        for chunk in self.timed_chunks(timeout):
            yield chunk.data

    def wait(self, timeout: float | None = None) -> InvocationResult:
        with self._cond:
            if not self._cond.wait_for(lambda: self._result is not None, timeout):
                raise TimeoutError(f"invocation {self.request_id} not finished after {timeout}s")
            assert self._result is not None
            return self._result

    def cancel(self) -> bool:
        """The client went away: end as ``cancelled`` and close the function's response connection."""
        return self._end_early("cancelled")

    def abandon(self, error_type: str, message: str) -> bool:
        """End as ``abandoned`` (e.g. the worker process died); no effect when already finished."""
        return self._end_early("abandoned", error_type, {"errorType": error_type, "errorMessage": message})

    def _expire(self) -> bool:
        error = {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}
        return self._end_early("timeout", "Sandbox.Timedout", error)

    def _end_early(self, mode: Mode, error_type: str | None = None, error: Any = None) -> bool:
        """Finish as ``mode`` and close the response connection, only if the invocation was still running.

        A finished invocation's connection is left alone: the runtime reuses it (kept alive) for its next
        ``/next``, and shutting it would lose the event handed out there. Finishing and taking the socket happen
        under one lock, so the server cannot end the response in between.
        """
        with self._cond:
            finished = self._finish(mode, complete=False, error_type=error_type, error=error)
            sock = self._response_socket if finished else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return finished


@dataclass(frozen=True)
class InitError:
    worker: str
    error_type: str | None
    error: Any
    at: float
