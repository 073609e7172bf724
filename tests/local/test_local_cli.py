"""The ``streaming-bedrock-api local`` command as a user runs it: a real process, real signals, real ports."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streaming_bedrock_local.bedrock_standin import BedrockStandin
from streaming_bedrock_local.cli import STANDIN_MAX_RECORDS, build_parser, build_standin

from .conftest import MODEL, expected_answer, free_port, prompt_body, request

REPO = Path(__file__).resolve().parents[2]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("streaming-bedrock-api")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "streaming_bedrock_local.cli"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(REPO / "components"), str(REPO / "local")]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _project(tmp_path: Path, stack_config: str = "") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: streaming-bedrock-api\nruntime: python\nconfig:\n"
        f"  modelId:\n    type: string\n    default: {MODEL}\n",
        encoding="utf-8",
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: ap-northeast-1\n" + stack_config, encoding="utf-8"
    )
    return tmp_path


def _run(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), "local", *args], env=_env(), capture_output=True, text=True, timeout=timeout
    )


def test_port_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = _run(["--port", str(port), "--project-dir", str(_project(tmp_path))])
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("stack_config", "expected"),
    [
        ("  streaming-bedrock-api:maxTokens: lots\n", "maxTokens"),
        ("  streaming-bedrock-api:auth: sometimes\n", "auth"),
        ("  streaming-bedrock-api:unknownKey: 1\n", "unknownKey"),
    ],
)
def test_invalid_config_is_one_clear_line(tmp_path: Path, stack_config: str, expected: str) -> None:
    result = _run(["--port", str(free_port()), "--project-dir", str(_project(tmp_path, stack_config))])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: invalid stack config:")
    assert expected in lines[0] and "Pulumi.dev.yaml" in lines[0]


def test_missing_project_and_bad_options(tmp_path: Path) -> None:
    missing = _run(["--project-dir", str(tmp_path)])
    assert missing.returncode == 2 and "Pulumi.yaml" in missing.stderr
    bad = _run(["--project-dir", str(_project(tmp_path)), "--fail-before-stream", "nope"])
    assert bad.returncode == 2 and "unknown error 'nope'" in bad.stderr


@contextmanager
def _started(
    args: list[str], extra_env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], float]]:
    started = time.monotonic()
    process = subprocess.Popen(
        [*_command(), "local", *args],
        env={**_env(), **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    info: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if match := re.search(r" at (http://\S+)$", line):
                info["url"] = match.group(1)
            if match := re.search(r"api key: (\S+)", line):
                info["key"] = match.group(1)
            if match := re.search(r"function: (\S+) ", line):
                info["zip"] = match.group(1)
            if match := re.search(r"  model: (.*)$", line):
                info["model"] = match.group(1)
            if line.startswith("curl "):
                info["curl"] = line.strip()
            if match := re.search(r"OpenAI base_url: (\S+)", line):
                info["openai"] = match.group(1)
            if "warm workers ready" in line:
                break
        assert "url" in info, process.stderr.read() if process.stderr else ""
        yield process, info, started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _live_processes_under(prefix: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Workers run in the unpacked task root (the wrapper execs "python -m ..." there).
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd.startswith(prefix):
            pids.append(int(entry.name))
    return pids


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serves_the_repo_config_and_shuts_down_cleanly(stop_signal: signal.Signals) -> None:
    port = free_port()
    args = ["--port", str(port), "--project-dir", str(REPO), "--token-delay-ms", "1", "--concurrency", "2",
            "--log-format", "json"]  # fmt: skip
    with _started(args) as (process, info, _):
        assert info["url"] == f"http://127.0.0.1:{port}/prod/stream"
        assert f'-H "x-api-key: {info["key"]}"' in info["curl"]
        result = request(info["url"], prompt_body("from the cli"), {"x-api-key": info["key"]})
        assert result.status == 200 and result.complete
        assert result.body.decode() == expected_answer("from the cli", 48)
        assert info["openai"] == f"http://127.0.0.1:{port}/prod/v1"
        models = request(f"{info['openai']}/models", None, {"Authorization": f"Bearer {info['key']}"}, "GET")
        assert models.status == 200 and models.json()["object"] == "list"
        task_dir = str(Path(info["zip"]).parents[1])
        assert len(_live_processes_under(task_dir)) == 2
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    gateway_lines = [json.loads(line) for line in stderr.splitlines() if line.startswith('{"requestId"')]
    # Matched by request id: on a shared machine another process may also knock on a port free_port() gave out.
    ours = [line for line in gateway_lines if line["requestId"] == result.header("x-amzn-RequestId")]
    assert [line["outcome"] for line in ours] == ["complete"], stderr[-3000:]
    assert _live_processes_under(task_dir) == []  # workers reaped
    assert not Path(task_dir).exists()  # unpacked zip removed


def test_bedrock_endpoint_option_points_the_workers_elsewhere_without_the_users_credentials(tmp_path: Path) -> None:
    project = _project(tmp_path, "  streaming-bedrock-api:auth: none\n")
    with BedrockStandin(pace_seconds=0, answer_tokens=7) as elsewhere:
        args = ["--port", str(free_port()), "--project-dir", str(project), "--bedrock-endpoint", elsewhere.endpoint_url]
        # The developer's credentials are in the environment; a plain-http endpoint must not see them.
        credentials = {
            "AWS_ACCESS_KEY_ID": "AKIAUSERSREALKEY0000",
            "AWS_SECRET_ACCESS_KEY": "users-secret",
            "AWS_SESSION_TOKEN": "users-session-token",
        }
        with _started(args, credentials) as (process, info, _):
            assert "key" not in info and "x-api-key" not in info["curl"]
            result = request(info["url"], prompt_body("elsewhere"), {})
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=20)
        assert result.status == 200 and result.body.decode() == expected_answer("elsewhere", 7)
        records = elsewhere.records()
        assert len(records) == 1
        assert records[0].access_key_id == "local"  # signed with the dummy key, not AKIAUSERSREALKEY0000
        assert "dummy AWS credentials" in info["model"] and "https://" in info["model"]


def test_bedrock_endpoint_must_be_http_or_https(tmp_path: Path) -> None:
    args = ["--port", str(free_port()), "--project-dir", str(_project(tmp_path)), "--bedrock-endpoint", "ftp://x.test"]
    result = _run(args)
    assert result.returncode == 2 and "must be an http:// or https:// URL" in result.stderr


def test_injected_throttling_gives_429(tmp_path: Path) -> None:
    project = _project(tmp_path, "  streaming-bedrock-api:auth: none\n")
    args = ["--port", str(free_port()), "--project-dir", str(project), "--fail-before-stream", "throttle"]
    with _started(args) as (process, info, _):
        result = request(info["url"], prompt_body(), {"Origin": "http://anywhere.test"})
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert result.status == 429 and result.header("Retry-After")
    assert result.header_values("Access-Control-Allow-Origin") == ["*"]


def test_real_bedrock_without_credentials_is_a_clear_error(tmp_path: Path) -> None:
    env = {key: value for key, value in _env().items() if not key.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    result = subprocess.run(
        [*_command(), "local", "--project-dir", str(_project(tmp_path)), "--bedrock", "real"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--bedrock real needs AWS credentials" in result.stderr and "Traceback" not in result.stderr


def test_the_clis_standin_keeps_only_recent_records_and_no_prompts() -> None:
    args = build_parser().parse_args(["local", "--token-delay-ms", "0", "--answer-tokens", "2"])
    total = STANDIN_MAX_RECORDS + 5
    with build_standin(args, None) as standin:
        connection = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=10)
        headers = {
            "Content-Type": "application/json",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/ap-northeast-1/bedrock/aws4_request, "
            "SignedHeaders=host, Signature=00",
        }
        for number in range(total):
            body = {"messages": [{"role": "user", "content": [{"text": f"private prompt {number}"}]}]}
            connection.request("POST", f"/model/{MODEL}/converse-stream", json.dumps(body), headers)
            response = connection.getresponse()
            assert response.status == 200
            response.read()
        connection.close()
        records = standin.wait_for_done(total)
    assert [record.index for record in records] == list(range(5, total))  # the oldest were dropped
    assert all(record.outcome == "finished" and record.request is None for record in records)
    assert "private prompt" not in repr(records)
