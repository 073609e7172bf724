"""A local Lambda Runtime API server (``/2018-06-01/runtime/...``) with streaming responses.

Speaks the API a custom runtime or exec-wrapper loop uses, over real HTTP on 127.0.0.1:

- ``GET  invocation/next``: long-poll; the event JSON with ``Lambda-Runtime-Aws-Request-Id``,
  ``-Deadline-Ms`` (epoch ms, from the moment the event is handed out), ``-Invoked-Function-Arn``,
  ``-Trace-Id`` (and ``-Client-Context`` / ``-Cognito-Identity`` when given).
- ``POST invocation/{id}/response``: buffered (``Content-Length``) or streamed
  (``Lambda-Runtime-Function-Response-Mode: streaming``, chunked). Chunked bodies go through the pure
  ``ChunkedDecoder`` as bytes arrive; each HTTP chunk is handed to the ``Invocation`` when complete, with a
  ``time.monotonic()`` timestamp; trailers (``Lambda-Runtime-Function-Error-Type``/``-Body``) are kept.
  Answer: ``202 {"status":"OK"}`` once the body ended.
- ``POST invocation/{id}/error`` (before a response) and ``POST init/error`` (then the runtime exits).
- Unknown request id → 400 ``InvalidRequestID``; a second response → 400 ``InvalidStateTransition``;
  buffered body over 6 MB → 413; server stopping → ``/next`` answers 500 (the documented "exit now").

Python API (what the tests and the local stack's Lambda emulator use)::

    server = RuntimeAPIServer(function_arn=..., on_timeout=..., on_init_error=...).start()
    server.address                      # "127.0.0.1:PORT" for AWS_LAMBDA_RUNTIME_API (worker "default")
    server.open_endpoint("worker-2")    # another port on the same queue; tells which worker took an event
    inv = server.invoke({"body": ...}, timeout_ms=900_000)   # queued until a worker polls /next
    for chunk in inv.timed_chunks(): ...                     # Chunk(data, received_at) as they arrive
    result = inv.wait(timeout=30)       # InvocationResult: mode, headers, body, trailers, error ...
    inv.cancel()                        # client went away: close the function's response connection
    inv.abandon("Runtime.ExitError", "worker exited")        # worker crashed: finish the invocation
    server.wait_for_poll("default", timeout=5)               # monotonic time of that worker's first /next
    server.polls("default"), server.init_errors(), server.wait_for_init_error(timeout=5)
    server.close_endpoint("worker-2")   # its pending /next is answered 500 ("exit now")
    server.stop()

Several workers may poll concurrently (one endpoint each, or all on one); invocations wait in a FIFO
queue. A worker killed while long-polling leaves a handler behind; before handing out an event the
server checks that poller's connection is still open (and re-queues the event if the hand-out write
fails), so a dead worker never swallows an invocation.

Deadlines are enforced by a watchdog: an invocation still running at its deadline ends with mode
``timeout`` (error type ``Sandbox.Timedout``), its response connection is closed, and
``on_timeout(invocation)`` is called so the owner can kill that worker, as Lambda does.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from streaming_bedrock_local.runtime_handler import RuntimeHandler, RuntimeListener
from streaming_bedrock_local.runtime_invocation import InitError, Invocation

DEFAULT_FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:local-function"


class RuntimeAPIServer:
    """The Runtime API for one function: a FIFO of invocations shared by one or more worker endpoints."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function_arn: str = DEFAULT_FUNCTION_ARN,
        on_timeout: Callable[[Invocation], None] | None = None,
        on_init_error: Callable[[InitError], None] | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.function_arn = function_arn
        self.on_timeout = on_timeout
        self.on_init_error = on_init_error
        lock = threading.RLock()
        # _cond: state changes that watchers wait for (polls, hand-outs for the deadline watchdog, init errors).
        # _work: where long-polling workers wait; a queued event wakes one of them, not all of them (with 100
        # workers, waking every poller per event was a fifth of the stack process's profile).
        self._cond = threading.Condition(lock)
        self._work = threading.Condition(lock)
        self._queue: deque[Invocation] = deque()
        self._running_by_id: dict[str, Invocation] = {}
        self._first_poll: dict[str, float] = {}
        self._polls: dict[str, int] = {}
        self._init_errors: list[InitError] = []
        self._listeners: dict[str, RuntimeListener] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._watchdog: threading.Thread | None = None

    # lifecycle
    def start(self) -> RuntimeAPIServer:
        self._open("default", self.requested_port)
        self._watchdog = threading.Thread(target=self._watch_deadlines, name="runtime-api-deadlines", daemon=True)
        self._watchdog.start()
        return self

    def _open(self, worker: str, port: int) -> RuntimeListener:
        with self._cond:
            if worker in self._listeners:
                raise ValueError(f"endpoint for worker {worker!r} already open")
        listener = RuntimeListener((self.host, port), RuntimeHandler)
        listener.api = self
        listener.worker = worker
        thread = threading.Thread(
            target=listener.serve_forever, kwargs={"poll_interval": 0.05}, name=f"runtime-api-{worker}", daemon=True
        )
        with self._cond:
            self._listeners[worker] = listener
            self._threads.append(thread)
        thread.start()
        return listener

    def open_endpoint(self, worker: str) -> str:
        """Open another port on the same queue; invocations taken there carry ``worker``. Returns host:port."""
        listener = self._open(worker, 0)
        return f"{self.host}:{listener.server_address[1]}"

    def close_endpoint(self, worker: str) -> None:
        """Stop serving ``worker``'s port; its pending long-poll is answered 500 (exit now)."""
        with self._cond:
            listener = self._listeners.pop(worker, None)
            self._cond.notify_all()
            self._work.notify_all()
        if listener is not None:
            listener.shutdown()
            listener.server_close()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            pending = list(self._queue) + list(self._running_by_id.values())
            self._queue.clear()
            listeners = list(self._listeners.values())
            self._listeners.clear()
            self._cond.notify_all()
            self._work.notify_all()
        for invocation in pending:
            invocation.abandon("Runtime.Shutdown", "runtime API stopped")
        for listener in listeners:
            listener.shutdown()
            listener.server_close()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)

    def __enter__(self) -> RuntimeAPIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """``host:port`` of the default endpoint, the value for ``AWS_LAMBDA_RUNTIME_API``."""
        return self.endpoint("default")

    def endpoint(self, worker: str) -> str:
        with self._cond:
            listener = self._listeners[worker]
        return f"{self.host}:{listener.server_address[1]}"

    # producer API
    def invoke(
        self,
        event: Mapping[str, Any] | bytes,
        *,
        timeout_ms: int = 900_000,
        trace_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> Invocation:
        """Queue an event; the deadline (``timeout_ms``) starts when a worker takes it."""
        if timeout_ms < 1:
            raise ValueError("timeout_ms must be >= 1")
        raw = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        invocation = Invocation(
            raw,
            timeout_ms=timeout_ms,
            function_arn=self.function_arn,
            trace_id=trace_id or _new_trace_id(),
            client_context=client_context,
            cognito_identity=cognito_identity,
        )
        with self._cond:
            if self._stopping:
                raise RuntimeError("runtime API stopped")
            self._queue.append(invocation)
            self._work.notify()
        return invocation

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue)

    @property
    def running(self) -> list[Invocation]:
        with self._cond:
            return list(self._running_by_id.values())

    def init_errors(self) -> list[InitError]:
        with self._cond:
            return list(self._init_errors)

    def polls(self, worker: str = "default") -> int:
        """How many ``/next`` requests this worker has made (a new one = it finished the previous event)."""
        with self._cond:
            return self._polls.get(worker, 0)

    def wait_for_poll(self, worker: str = "default", timeout: float = 10.0, count: int = 1) -> float:
        """Block until ``worker`` has polled ``/next`` ``count`` times; returns its first poll time."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._polls.get(worker, 0) >= count or self._stopping, timeout):
                raise TimeoutError(f"worker {worker!r} did not poll /next {count}x within {timeout}s")
            return self._first_poll.get(worker, float("nan"))

    def wait_for_init_error(self, timeout: float = 10.0) -> InitError:
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._init_errors), timeout):
                raise TimeoutError(f"no /init/error within {timeout}s")
            return self._init_errors[0]

    # handler callbacks
    def _next(self, worker: str, poller_alive: Callable[[], bool]) -> Invocation | None:
        """Block until an invocation is queued and hand it out; None = tell this poller to go away.

        A worker killed while long-polling leaves its handler waiting here; it must not take an event
        it can never deliver, so the poller's connection is checked before anything is handed out.
        """
        with self._cond:
            self._first_poll.setdefault(worker, time.monotonic())
            self._polls[worker] = self._polls.get(worker, 0) + 1
            self._cond.notify_all()
            while True:
                while self._queue and self._queue[0].done:
                    self._queue.popleft()  # cancelled or abandoned while queued
                if self._stopping or worker not in self._listeners:
                    return None
                if self._queue:
                    if not poller_alive():
                        self._work.notify()  # not taken: pass the wake-up on to another poller
                        return None
                    break
                self._work.wait()
            invocation = self._queue.popleft()
            if self._queue:
                self._work.notify()  # more waiting: wake the next poller
            now = time.monotonic()
            invocation.worker = worker
            invocation.handed_out_at = now
            invocation.deadline_monotonic = now + invocation.timeout_ms / 1000
            invocation.deadline_epoch_ms = int(time.time() * 1000) + invocation.timeout_ms
            self._running_by_id[invocation.request_id] = invocation
            self._cond.notify_all()
            return invocation

    def _requeue(self, invocation: Invocation) -> None:
        """Put back an event whose hand-out failed, first in line, as if it had never left."""
        with self._cond:
            self._running_by_id.pop(invocation.request_id, None)
            invocation.worker = None
            invocation.handed_out_at = None
            invocation.deadline_monotonic = None
            invocation.deadline_epoch_ms = None
            if not self._stopping and not invocation.done:
                self._queue.appendleft(invocation)
                self._work.notify()
            self._cond.notify_all()

    def _running(self, request_id: str) -> Invocation | None:
        with self._cond:
            return self._running_by_id.get(request_id)

    def _release(self, invocation: Invocation) -> None:
        with self._cond:
            if invocation.done:
                self._running_by_id.pop(invocation.request_id, None)
            self._cond.notify_all()

    def _record_init_error(self, worker: str, error_type: str | None, error: Any) -> None:
        item = InitError(worker, error_type, error, time.monotonic())
        with self._cond:
            self._init_errors.append(item)
            self._cond.notify_all()
        if self.on_init_error is not None:
            self.on_init_error(item)

    def _watch_deadlines(self) -> None:
        while True:
            expired: list[Invocation] = []
            with self._cond:
                if self._stopping:
                    return
                now = time.monotonic()
                nearest: float | None = None
                # Cancelled/abandoned invocations stay listed until their deadline so that a late
                # /response from the worker gets InvalidStateTransition rather than InvalidRequestID.
                for request_id, invocation in list(self._running_by_id.items()):
                    deadline = invocation.deadline_monotonic
                    if deadline is None:
                        continue
                    if deadline <= now:
                        del self._running_by_id[request_id]
                        expired.append(invocation)
                    elif nearest is None or deadline < nearest:
                        nearest = deadline
                if not expired:
                    # Hand-outs notify this condition, so the nearest deadline is always known here.
                    self._cond.wait(min(1.0, nearest - now) if nearest is not None else 1.0)
            for invocation in expired:
                if invocation._expire() and self.on_timeout is not None:
                    self.on_timeout(invocation)


def _new_trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
