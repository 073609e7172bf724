"""Helpers to run the packaged function the way Lambda runs it, against the local fakes.

The deployment zip is built by the component's own packaging code and unpacked (modes restored) into a
task root; the process is ``[<task_root>/exec-wrapper, sys.executable]`` with a Lambda-like environment
(only what Lambda sets, nothing inherited from the test process), talking to a local Runtime API and
pointed at the Bedrock stand-in through ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streaming_bedrock_api.packaging import HANDLER, WRAPPER_NAME, build_function_zip, unpack_function_zip
from streaming_bedrock_api.settings import function_environment, resolve_settings
from streaming_bedrock_local.bedrock_standin import BedrockStandin, StandinAnswer, StandinRecord, standin_answer
from streaming_bedrock_local.runtime_api import RuntimeAPIServer
from streaming_bedrock_local.runtime_invocation import Chunk, Invocation, InvocationResult

MODEL_ID = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
REGION = "ap-northeast-1"
MAX_TOKENS_CAP = 1000
ANSWER_TOKENS = 12
DELIMITER = b"\x00" * 8
FUNCTION_NAME = "streaming-bedrock-fn"


def lambda_environment(
    task_root: Path, runtime_api: str, bedrock_url: str, overrides: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """What Lambda gives a managed-runtime process, plus the component's own variables."""
    settings = resolve_settings({"model_id": MODEL_ID, "auth": "none", "max_tokens": MAX_TOKENS_CAP})
    env = function_environment(settings)
    env.update(
        {
            "AWS_LAMBDA_EXEC_WRAPPER": str(task_root / WRAPPER_NAME),
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
            "_HANDLER": HANDLER,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "AKIDLOCALFUNCTION",
            "AWS_SECRET_ACCESS_KEY": "local-secret",
            "AWS_SESSION_TOKEN": "local-session-token",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock_url,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            # Hermetic: no shared config or instance metadata from this machine.
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            # /var/task is read-only on Lambda: no bytecode is written next to the code.
            "PYTHONDONTWRITEBYTECODE": "1",
            "HEARTBEAT_SECONDS": "30",
            "DEADLINE_MARGIN_MS": "500",
        }
    )
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class FunctionProcess:
    """The function's OS process; stdout/stderr go to files so a chatty process never blocks."""

    def __init__(self, task_root: Path, env: Mapping[str, str], log_dir: Path) -> None:
        self.task_root = task_root
        self.env = dict(env)
        log_dir.mkdir(parents=True, exist_ok=True)
        tag = uuid.uuid4().hex[:8]
        self.stdout_path = log_dir / f"fn-{tag}.out"
        self.stderr_path = log_dir / f"fn-{tag}.err"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self, preexec: Callable[[], None] | None = None) -> FunctionProcess:
        """Start the process; ``preexec`` runs in the forked child before the exec (e.g. join a cgroup)."""
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                [str(self.task_root / WRAPPER_NAME), sys.executable],
                env=self.env,
                cwd=self.task_root,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                preexec_fn=preexec,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def status_kb(self, field_name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
        raise KeyError(field_name)

    def rss_kb(self) -> int:
        return self.status_kb("VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Fields 14 and 15 (utime, stime) counted from 1; index 11 and 12 after the ")".
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.stdout_path.read_text(errors="replace").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                records.append(value)
        return records

    def kill(self) -> None:
        """SIGKILL, as when Lambda tears down an execution environment."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class FunctionResponse:
    """A finished invocation split the way API Gateway reads it: metadata JSON, 8 NULs, payload."""

    result: InvocationResult
    metadata: dict[str, Any] | None
    payload: bytes
    payload_chunks: list[Chunk] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        return None if self.metadata is None else int(self.metadata.get("statusCode", 200))

    @property
    def headers(self) -> dict[str, str]:
        raw = (self.metadata or {}).get("headers") or {}
        return {str(k).lower(): str(v) for k, v in raw.items()}

    def json(self) -> Any:
        return json.loads(self.payload)


def split_response(result: InvocationResult) -> FunctionResponse:
    body = result.body
    index = body.find(DELIMITER)
    if index < 0:
        return FunctionResponse(result, None, b"")
    metadata = json.loads(body[:index])
    payload_chunks: list[Chunk] = []
    seen = 0
    for chunk in result.chunks:
        start, seen = seen, seen + len(chunk.data)
        if seen <= index + len(DELIMITER):
            continue
        cut = max(0, index + len(DELIMITER) - start)
        payload_chunks.append(Chunk(chunk.data[cut:], chunk.received_at))
    return FunctionResponse(result, metadata, body[index + len(DELIMITER) :], payload_chunks)


def proxy_event(
    body: str | bytes | None,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for ``POST /stream`` on stage ``prod``."""
    merged = {"Content-Type": "application/json", "Host": "abc123.execute-api.ap-northeast-1.amazonaws.com"}
    merged.update(headers or {})
    if isinstance(body, bytes):
        text: str | None = base64.b64encode(body).decode() if base64_body else body.decode("utf-8")
    elif body is not None and base64_body:
        text = base64.b64encode(body.encode("utf-8")).decode()
    else:
        text = body
    return {
        "resource": "/stream",
        "path": "/stream",
        "httpMethod": method,
        "headers": merged,
        "multiValueHeaders": {k: [v] for k, v in merged.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "res001",
            "resourcePath": "/stream",
            "httpMethod": method,
            "path": "/prod/stream",
            "stage": "prod",
            "accountId": "123456789012",
            "apiId": "abc123",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "pytest"},
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def prompt_event(prompt: str, *, sse: bool = False, **fields: Any) -> dict[str, Any]:
    headers = {"Accept": "text/event-stream"} if sse else {}
    return proxy_event(json.dumps({"prompt": prompt, **fields}), headers=headers)


def expected_answer(
    prompt: str, *, max_tokens: int = MAX_TOKENS_CAP, answer_tokens: int = ANSWER_TOKENS
) -> StandinAnswer:
    """What the stand-in streams for the Converse request the function should build from ``prompt``."""
    request = {
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": max_tokens},
    }
    return standin_answer(request, answer_tokens=answer_tokens)


def sse_event(name: str, payload: Mapping[str, Any]) -> bytes:
    """The documented SSE framing: ``event:`` line, one ``data:`` line of compact JSON, blank line."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n".encode()


def parse_sse(payload: bytes) -> list[tuple[str, Any]]:
    """Events in order; comments become ``(":", text)``."""
    events: list[tuple[str, Any]] = []
    for block in payload.decode("utf-8").split("\n\n"):
        if not block:
            continue
        if block.startswith(":"):
            events.append((":", block[1:].strip()))
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@dataclass
class Harness:
    """Stand-in + Runtime API + one function process, with helpers to invoke and inspect."""

    task_root: Path
    log_dir: Path
    standin: BedrockStandin
    api: RuntimeAPIServer
    env_overrides: dict[str, str | None] = field(default_factory=dict)
    process: FunctionProcess | None = None
    record_base: int = 0

    def start_function(self, wait_ready: bool = True) -> FunctionProcess:
        env = lambda_environment(self.task_root, self.api.address, self.standin.endpoint_url, self.env_overrides)
        self.process = FunctionProcess(self.task_root, env, self.log_dir).start()
        if wait_ready:
            self.api.wait_for_poll(timeout=20, count=self.api.polls() + 1)
        return self.process

    def invoke(self, event: Mapping[str, Any] | bytes, timeout_ms: int = 60_000) -> Invocation:
        return self.api.invoke(event, timeout_ms=timeout_ms)

    def call(self, event: Mapping[str, Any] | bytes, timeout_ms: int = 60_000, wait: float = 30) -> FunctionResponse:
        return split_response(self.invoke(event, timeout_ms).wait(wait))

    def log_for(self, request_id: str, wait: float = 5) -> dict[str, Any]:
        """The function's per-invocation log line (written right after the response ends)."""
        assert self.process is not None
        deadline = time.monotonic() + wait
        while True:
            for record in self.process.log_records():
                if record.get("request_id") == request_id and record.get("message") == "invocation":
                    return record
            if time.monotonic() > deadline:
                raise AssertionError(f"no invocation log line for {request_id}:\n{self.process.output()[-3000:]}")
            time.sleep(0.02)

    def reset(self) -> None:
        self.standin.fault = None
        self.standin.pace_seconds = 0.0
        self.standin.first_token_delay_seconds = 0.0
        self.standin.answer_tokens = ANSWER_TOKENS
        self.standin.clear_plans()
        self.record_base = len(self.standin.records())

    def model_calls(self, count: int, timeout: float = 10) -> list[StandinRecord]:
        """The stand-in records of this test, once ``count`` of them have ended."""
        return self.standin.wait_for_done(self.record_base + count, timeout)[self.record_base :]

    def model_calls_so_far(self) -> list[StandinRecord]:
        return self.standin.records()[self.record_base :]

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.api.stop()
        self.standin.stop()


def make_harness(task_root: Path, log_dir: Path, env_overrides: Mapping[str, str | None] | None = None) -> Harness:
    standin = BedrockStandin(pace_seconds=0, answer_tokens=ANSWER_TOKENS, model_ids=frozenset({MODEL_ID})).start()
    api = RuntimeAPIServer(function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}").start()
    return Harness(task_root, log_dir, standin, api, dict(env_overrides or {}))


def build_task_root(base: Path) -> Path:
    """Build the deployment zip with the component's packaging code and unpack it like Lambda does."""
    zip_path = build_function_zip(dest_dir=base / "dist")
    root = unpack_function_zip(zip_path, base / "task")
    if not os.access(root / WRAPPER_NAME, os.X_OK):
        raise AssertionError("the zip must carry the exec wrapper as executable (mode 0755)")
    return root
