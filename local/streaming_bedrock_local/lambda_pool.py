"""The Lambda emulator: warm worker processes running the deployed zip behind a Runtime API.

:class:`LambdaPool` builds THE zip the component deploys (``streaming_bedrock_api.packaging``), unpacks it into
a temporary task root, and starts ``concurrency`` workers the way Lambda starts a managed Python runtime with
``AWS_LAMBDA_EXEC_WRAPPER``: ``<task_root>/exec-wrapper <python>``, with a Lambda-like environment plus the
component's function environment. One :class:`streaming_bedrock_local.runtime_api.RuntimeAPIServer` holds the
FIFO of invocations; each worker polls its own endpoint on it, so the pool knows which process holds which
invocation. Concurrency is the number of warm workers; further invocations queue.

Failures, as Lambda handles them:

- a worker process that exits is replaced (with a short backoff when it keeps dying at start); the invocation
  it held ends as ``InvokeFailed("crashed")`` (502 at the gateway, or an abnormal end once streaming);
- an invocation that reaches its deadline (the function timeout) has its worker killed and replaced, and ends
  as ``InvokeFailed("timeout")``;
- ``cancel()`` (the client went away) closes the function's response connection: its next write fails and it
  stops reading from Bedrock;
- ``/init/error`` fails the oldest queued invocation (Lambda returns the init error to the invocation that
  started the environment), then the worker exits and is replaced.

Each :class:`PoolInvocation` is fed by a small pump thread that turns the runtime invocation's chunks into
:mod:`streaming_bedrock_local.invocation` events in arrival order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from streaming_bedrock_api.packaging import HANDLER, WRAPPER_NAME, build_function_zip, unpack_function_zip

from streaming_bedrock_local import runtime_api
from streaming_bedrock_local import runtime_invocation as runtime
from streaming_bedrock_local.invocation import Chunk, Finished, InvocationEvent, InvokeFailed
from streaming_bedrock_local.proxy_event import LOCAL_ACCOUNT_ID

log = logging.getLogger("streaming_bedrock_local.lambda_pool")

DEFAULT_FUNCTION_NAME = "streaming-bedrock-api-local"
# A worker that dies sooner than this after start is restarted with a growing delay (broken code, not bad luck).
_QUICK_DEATH_S = 2.0
_MAX_BACKOFF_S = 10.0
# What workers sign with unless the pool is told to forward the developer's AWS credentials: fixed dummy keys,
# no shared config/credentials files, no instance metadata (the stand-in and plain-http endpoints ignore
# signatures, and must never receive a real key or session token).
DUMMY_AWS_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class PoolOptions:
    """How to run the function. ``environment`` is the component's function environment plus extras."""

    environment: Mapping[str, str]
    region: str
    concurrency: int = 2
    timeout_s: float = 900.0
    memory_mb: int = 256
    function_name: str = DEFAULT_FUNCTION_NAME
    source_dir: Path | None = None  # function code to zip instead of the repository's function/
    handler: str = HANDLER
    python: str = sys.executable
    # Where worker stdout/stderr go (the function's logs, like CloudWatch); None inherits ours.
    output: IO[bytes] | int | None = None
    # When set, worker stdout and stderr are read line by line and handed here (worker name, line) instead.
    log_sink: Callable[[str, bytes], None] | None = None
    # True: workers inherit the developer's AWS_* variables and config (real Bedrock, https endpoints).
    # False (default): every inherited AWS_* variable is dropped and DUMMY_AWS_CREDENTIALS set instead.
    forward_aws_credentials: bool = False


class PoolInvocation:
    """What the gateway holds for one invocation: its events, read straight from the Runtime API's invocation
    (the gateway's thread waits on it; no thread in between), and a cancel switch."""

    def __init__(self, runtime_invocation: runtime.Invocation | None, failed: InvokeFailed | None = None) -> None:
        self.runtime_invocation = runtime_invocation
        self.cancel_reason: str | None = None
        self._next_chunk = 0
        self._failed = failed

    def next_event(self, timeout: float) -> InvocationEvent | None:
        if self.runtime_invocation is None:
            return self._failed
        item = self.runtime_invocation.next_chunk(self._next_chunk, max(timeout, 0.0))
        if item is None:
            return None
        if isinstance(item, runtime.Chunk):
            self._next_chunk += 1
            return Chunk(item.data)
        return terminal_event(item)

    def cancel(self, reason: str) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        # runtime_api closes the response connection only while the invocation still runs (atomically).
        if self.runtime_invocation is not None:
            self.runtime_invocation.cancel()


def terminal_event(result: runtime.InvocationResult) -> Finished | InvokeFailed:
    """The gateway's view of how a runtime invocation ended (pure)."""
    if result.mode in ("streaming", "buffered"):
        if result.complete:
            message = result.error.get("errorMessage") if isinstance(result.error, dict) else None
            return Finished(error_type=result.error_type, error_body=message)
        if result.error_type is not None:
            return InvokeFailed("crashed", f"invalid response from the function: {result.error_type}")
        return InvokeFailed("crashed", "the function's response ended without its last chunk")
    if result.mode == "error":
        return InvokeFailed("function_error", result.error_type or "Unhandled")
    if result.mode == "timeout":
        return InvokeFailed("timeout", "Task timed out")
    if result.mode == "abandoned":
        message = result.error.get("errorMessage") if isinstance(result.error, dict) else None
        return InvokeFailed("crashed", message or result.error_type or "worker lost")
    return InvokeFailed("cancelled", "cancelled")


def _forward_lines(pipe: IO[bytes], worker: str, sink: Callable[[str, bytes], None]) -> None:
    """Hand each line a worker writes to ``sink`` until the worker's end of the pipe closes."""
    with pipe:
        for line in pipe:
            sink(worker, line)


@dataclass
class _Worker:
    name: str
    endpoint: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff_s: float = 0.0
    watcher: threading.Thread | None = None


class LambdaPool:
    """A pool of warm function workers; implements :class:`streaming_bedrock_local.invocation.FunctionInvoker`."""

    def __init__(self, options: PoolOptions) -> None:
        if options.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.options = options
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._workers: dict[str, _Worker] = {}
        self._tmp: Path | None = None
        self.task_root: Path | None = None
        self.zip_path: Path | None = None
        self.replacements = 0  # workers started again after an exit, a crash or a timeout
        # Invocations the gateway still holds (weak: they go when it lets go), for init errors.
        self._open: weakref.WeakSet[PoolInvocation] = weakref.WeakSet()
        arn = f"arn:aws:lambda:{options.region}:{LOCAL_ACCOUNT_ID}:function:{options.function_name}"
        self.api = runtime_api.RuntimeAPIServer(
            function_arn=arn, on_timeout=self._on_timeout, on_init_error=self._on_init_error
        )

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> LambdaPool:
        """Build and unpack the zip, start the workers; they warm up in the background (see :meth:`wait_ready`)."""
        self._tmp = Path(tempfile.mkdtemp(prefix="streaming-bedrock-local-"))
        self.zip_path = build_function_zip(self._tmp / "zip", source_dir=self.options.source_dir)
        self.task_root = unpack_function_zip(self.zip_path, self._tmp / "task")
        wrapper = self.task_root / WRAPPER_NAME
        if not os.access(wrapper, os.X_OK):
            raise RuntimeError(f"{wrapper} is not executable after unpacking; the zip lost its mode bits")
        self.api.start()
        for index in range(self.options.concurrency):
            name = f"worker-{index}"
            worker = _Worker(name=name, endpoint=self.api.open_endpoint(name))
            self._workers[name] = worker
            self._spawn(worker)
        return self

    def stop(self) -> None:
        """Stop taking work, end every worker process (reaped) and remove the task root."""
        with self._lock:  # after this no _spawn starts a process, so the kills below reach every worker
            self._stopping.set()
        # Workers first (their watchers fail what they held), then the API abandons what is still queued.
        for worker in self._workers.values():
            self._kill(worker)
        self.api.stop()
        for worker in self._workers.values():
            if worker.watcher is not None:
                worker.watcher.join(timeout=5)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> LambdaPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until every worker has asked for its first invocation (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        for name in self._workers:
            self.api.wait_for_poll(name, timeout=max(deadline - time.monotonic(), 0.0))

    @property
    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers.values() if w.process is not None]

    # -- FunctionInvoker ---------------------------------------------------------------------------------------

    def invoke(self, event: dict[str, Any], request_id: str) -> PoolInvocation:
        timeout_ms = max(1, int(self.options.timeout_s * 1000))
        try:
            runtime_invocation = self.api.invoke(event, timeout_ms=timeout_ms)
        except RuntimeError:  # stopped
            return PoolInvocation(None, InvokeFailed("cancelled", "the local stack is shutting down"))
        invocation = PoolInvocation(runtime_invocation)
        with self._lock:
            self._open.add(invocation)
        return invocation

    # -- workers -----------------------------------------------------------------------------------------------

    def _environment(self, worker: _Worker) -> dict[str, str]:
        assert self.task_root is not None
        options = self.options
        # The developer's shell (PATH, HOME, AWS_PROFILE for --bedrock real) minus anything Lambda-specific,
        # and minus every AWS_* variable unless the credentials are meant to go with the calls.
        dropped: tuple[str, ...] = ("AWS_LAMBDA_", "LAMBDA_", "_HANDLER", "PYTHON")
        if not options.forward_aws_credentials:
            dropped = (*dropped, "AWS_")
        env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
        if not options.forward_aws_credentials:
            env.update(DUMMY_AWS_CREDENTIALS)
        env.update(options.environment)
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": worker.endpoint,
                "LAMBDA_TASK_ROOT": str(self.task_root),
                "LAMBDA_RUNTIME_DIR": str(self.task_root),
                "_HANDLER": options.handler,
                "AWS_LAMBDA_FUNCTION_NAME": options.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(options.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{options.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{worker.name}",
                "AWS_LAMBDA_EXEC_WRAPPER": str(self.task_root / WRAPPER_NAME),
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
                "AWS_REGION": options.region,
                "AWS_DEFAULT_REGION": options.region,
                "PYTHONUNBUFFERED": "1",
                "TZ": ":UTC",
            }
        )
        return env

    def _spawn(self, worker: _Worker) -> bool:
        """Start the worker's process and its watcher; False (nothing started) once :meth:`stop` has begun.

        The flag check, the start and the registration happen under the lock :meth:`stop` takes to set the
        flag, so every process is either registered before stop() looks (and killed by it) or never started.
        """
        assert self.task_root is not None
        command = [str(self.task_root / WRAPPER_NAME), self.options.python]
        with self._lock:
            if self._stopping.is_set():
                return False
            sink = self.options.log_sink
            process = subprocess.Popen(
                command,
                cwd=self.task_root,
                env=self._environment(worker),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if sink is not None else self.options.output,
                stderr=subprocess.STDOUT if sink is not None else self.options.output,
                # Own process group: a terminal's Ctrl-C reaches only us, and we end the workers in order.
                start_new_session=True,
            )
            worker.process = process
            worker.started_at = time.monotonic()
            if sink is not None and process.stdout is not None:
                forward = (process.stdout, worker.name, sink)
                threading.Thread(target=_forward_lines, args=forward, name=f"log-{worker.name}", daemon=True).start()
            worker.watcher = threading.Thread(
                target=self._watch, args=(worker, process), name=f"watch-{worker.name}", daemon=True
            )
            worker.watcher.start()
        return True

    def _watch(self, worker: _Worker, process: subprocess.Popen[bytes]) -> None:
        """Wait for the worker process to exit; fail what it held and start a new one."""
        code = process.wait()
        for invocation in self.api.running:
            if invocation.worker == worker.name:
                invocation.abandon("Runtime.ExitError", f"worker exited with code {code}")
        if self._stopping.is_set():
            return
        lived = time.monotonic() - worker.started_at
        worker.backoff_s = (
            min(max(worker.backoff_s * 2, 0.25), _MAX_BACKOFF_S) if lived < _QUICK_DEATH_S else 0.0
        )
        log.warning(
            "%s exited with code %s after %.1f s; starting a new one%s",
            worker.name,
            code,
            lived,
            f" in {worker.backoff_s:g} s" if worker.backoff_s else "",
        )
        if self._stopping.wait(worker.backoff_s):
            return
        if self._spawn(worker):  # refuses once stop() has begun, even if it began just now
            self.replacements += 1

    def _kill(self, worker: _Worker) -> None:
        with self._lock:
            process = worker.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def _on_timeout(self, invocation: runtime.Invocation) -> None:
        # Lambda ends the execution environment of a timed-out invocation; the watcher starts a new one.
        worker = self._workers.get(invocation.worker or "")
        if worker is not None:
            log.warning("%s ran past the %g s function timeout; killing it", worker.name, self.options.timeout_s)
            with self._lock:
                process = worker.process
            if process is not None and process.poll() is None:
                process.kill()

    def _on_init_error(self, error: runtime.InitError) -> None:
        log.error("%s failed to initialise: %s", error.worker, error.error_type or error.error)
        # The init error answers the oldest waiting invocation, as on Lambda.
        with self._lock:
            waiting = [
                i.runtime_invocation
                for i in list(self._open)
                if i.runtime_invocation is not None and i.runtime_invocation.worker is None
            ]
        waiting = [i for i in waiting if i is not None and not i.done]
        if waiting:
            oldest = min(waiting, key=lambda i: i.created_at)
            oldest.abandon(error.error_type or "Runtime.InitError", "the function failed to initialise")
