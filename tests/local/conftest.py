"""Shared helpers for the local stack tests: start a real stack (stand-in, worker processes, gateway) and talk
to it over real HTTP on 127.0.0.1, keeping arrival times of every chunk."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streaming_bedrock_api.packaging import HANDLER, function_source_dir
from streaming_bedrock_api.settings import Settings, function_environment, resolve_settings
from streaming_bedrock_local.bedrock_standin import BedrockStandin, StandinRecord, standin_answer
from streaming_bedrock_local.gateway import GatewayOptions, GatewayServer, start_gateway
from streaming_bedrock_local.lambda_pool import LambdaPool, PoolOptions
from streaming_bedrock_local.local_clients import LocalApiKey, key_ids_environment, local_api_keys

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
APP_ORIGIN = "http://app.test"
SEED_PROMPT = "Explain response streaming in two sentences."


@dataclass
class RunningStack:
    settings: Settings
    standin: BedrockStandin
    pool: LambdaPool
    server: GatewayServer
    api_key: str | None
    log_path: Path
    client_keys: tuple[LocalApiKey, ...] = ()

    @property
    def base(self) -> str:
        return self.server.url

    @property
    def url(self) -> str:
        return f"{self.server.url}/{self.settings.stage_name}/{self.settings.path}"

    def auth(self) -> dict[str, str]:
        return {"x-api-key": self.api_key} if self.api_key else {}

    def function_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_stack(
    tmp: Path,
    *,
    settings: Mapping[str, Any] | None = None,
    api_key: str | None = "test-key",
    concurrency: int = 2,
    pace_seconds: float = 0.01,
    answer_tokens: int = 40,
    source_dir: Path | None = None,
    handler: str = HANDLER,
    timeout_s: float | None = None,
    gateway: Mapping[str, Any] | None = None,
    client_key_values: Mapping[str, str] | None = None,
) -> Iterator[RunningStack]:
    """A whole local stack on ephemeral ports, workers warm before it is yielded.

    With named clients in ``settings`` each gets a key (``client_key_values`` fixes their values), like the CLI."""
    values: dict[str, Any] = {"model_id": MODEL, "heartbeat_seconds": 5.0}
    values.update(settings or {})
    resolved = resolve_settings(values)
    with ExitStack() as stack:
        standin = stack.enter_context(BedrockStandin(pace_seconds=pace_seconds, answer_tokens=answer_tokens))
        keys = local_api_keys(resolved, api_key, client_key_values)
        environment = function_environment(resolved)
        environment.update(key_ids_environment(keys))
        environment.update(
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=standin.endpoint_url,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_SESSION_TOKEN="local",
        )
        log_path = tmp / "function.log"
        log_file = stack.enter_context(log_path.open("wb"))
        pool = LambdaPool(
            PoolOptions(
                environment=environment,
                region="ap-northeast-1",
                concurrency=concurrency,
                timeout_s=timeout_s if timeout_s is not None else float(resolved.timeout_seconds),
                memory_mb=resolved.memory_size,
                source_dir=source_dir,
                handler=handler,
                output=log_file,
            )
        )
        stack.callback(pool.stop)
        pool.start()
        server, thread = start_gateway(
            resolved, pool, GatewayOptions(port=0, api_key=api_key, client_keys=keys, **dict(gateway or {}))
        )

        def close_gateway() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        stack.callback(close_gateway)
        pool.wait_ready(timeout=60)
        yield RunningStack(resolved, standin, pool, server, api_key, log_path, keys)


def copy_function_with(tmp: Path, extra_modules: Mapping[str, str]) -> Path:
    """A copy of the function source with extra modules (test handlers) next to the real package."""
    target = tmp / "function-src"
    shutil.copytree(function_source_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in extra_modules.items():
        (target / name).write_text(text, encoding="utf-8")
    return target


def expected_answer(prompt: str, answer_tokens: int, max_tokens: int = 4096) -> str:
    """What the stand-in answers to the function's request for ``prompt`` (computed, not recorded)."""
    request = {
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
        "inferenceConfig": {"maxTokens": max_tokens},
    }
    return standin_answer(request, answer_tokens=answer_tokens).text


@dataclass
class StreamResult:
    status: int
    headers: list[tuple[str, str]]
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    complete: bool = True
    started_at: float = 0.0
    ended_at: float = 0.0  # when the client saw the response end (closed, cut or complete)

    @property
    def body(self) -> bytes:
        return b"".join(data for _, data in self.chunks)

    @property
    def first_byte_at(self) -> float:
        return self.chunks[0][0]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


def open_request(
    url: str, body: bytes | None, headers: Mapping[str, str], method: str = "POST", timeout: float = 30.0
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, float]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    connection.request(method, target, body=body, headers=dict(headers))
    response = connection.getresponse()
    return connection, response, started


def request(
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
    timeout: float = 30.0,
) -> StreamResult:
    """Send one request and read the response chunk by chunk, recording when each piece arrived."""
    connection, response, started = open_request(url, body, headers or {}, method, timeout)
    result = StreamResult(response.status, list(response.getheaders()), started_at=started)
    try:
        while True:
            data = response.read1(65536)
            if not data:
                break
            result.chunks.append((time.monotonic(), data))
    except http.client.IncompleteRead as error:
        if error.partial:
            result.chunks.append((time.monotonic(), error.partial))
        result.complete = False
    except (ConnectionError, OSError):
        result.complete = False
    finally:
        result.ended_at = time.monotonic()
        connection.close()
    return result


def prompt_body(prompt: str = SEED_PROMPT, **extra: Any) -> bytes:
    return json.dumps({"prompt": prompt, **extra}).encode()


def sse_events(body: bytes) -> list[tuple[str, Any]]:
    """(event, parsed data) for each SSE event; comments (heartbeats) dropped."""
    events: list[tuple[str, Any]] = []
    for block in body.decode("utf-8").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def next_record(standin: BedrockStandin, before: int, timeout: float = 20.0) -> StandinRecord:
    """The stand-in's record of the request that came after ``before`` earlier ones, once it ended."""
    records = standin.wait_for_done(before + 1, timeout=timeout)
    return records[before]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def header_pairs(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped
