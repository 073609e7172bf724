"""The CLI's terminal as a user sees it, in a real process: one short line per request by default, the full
records with ``--log-format json``, the function's lines with ``--function-logs``, Enter reprinting the key and
curl line, the banner in words, refusals, ``--serve-demo``, and every bad value of a stack file."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .conftest import expected_answer, free_port, prompt_body, request
from .test_local_cli import REPO, _command, _env, _project, _run

ACCESS_LINE = re.compile(
    r"^\d\d:\d\d:\d\d POST /prod/stream (?P<status>\d{3}) ttfb (\d+ ms|-) \d+(\.\d+)? m?s (\d+ B|-) 127\.0\.0\.1:\d+$"
)


@contextmanager
def _cli(args: list[str]) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """The CLI started with a pipe on stdin (Enter), until its workers are warm; yields the banner lines."""
    process = subprocess.Popen(
        [*_command(), "local", "--concurrency", "1", *args],
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if "warm worker" in line and "ready" in line:
                break
        assert any(" at http://" in line for line in banner), (banner, process.stderr.read() if process.stderr else "")
        yield process, banner
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _url(banner: list[str]) -> str:
    return next(line.rsplit(" at ", 1)[1] for line in banner if line.startswith("Streaming Bedrock API"))


def _key(banner: list[str]) -> str | None:
    return next((line.split("api key: ", 1)[1] for line in banner if "api key: " in line), None)


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return out, err


def test_default_terminal_is_one_short_line_per_request() -> None:
    with _cli(["--port", str(free_port()), "--project-dir", str(REPO), "--token-delay-ms", "0"]) as (process, banner):
        key = _key(banner)
        assert key is not None
        result = request(_url(banner), prompt_body("quiet please"), {"x-api-key": key})
        assert result.status == 200 and result.complete
        denied = request(_url(banner), prompt_body("wrong key"), {"x-api-key": "wrong"})
        assert denied.status == 403
        time.sleep(0.3)  # the gateway writes a request's line after its response: let it land before Ctrl-C
        _, err = _stop(process)
    lines = [line for line in err.splitlines() if line.strip()]
    ours = [line for line in lines if ACCESS_LINE.match(line)]
    assert [ACCESS_LINE.match(line).group("status") for line in ours] == ["200", "403"], err  # type: ignore[union-attr]
    # Nothing else per request: no JSON records, no function log lines, no EMF documents.
    assert not [line for line in lines if line.lstrip().startswith("{") or " | " in line], err
    assert lines[-1] == "shutting down..."
    assert len(err.encode()) < 400, err


def test_json_records_and_function_logs_on_request(tmp_path: Path) -> None:
    project = _project(tmp_path, "  streaming-bedrock-api:auth: none\n")
    args = ["--port", str(free_port()), "--project-dir", str(project), "--log-format", "json", "--function-logs"]
    with _cli([*args, "--token-delay-ms", "0", "--answer-tokens", "9"]) as (process, banner):
        result = request(_url(banner), prompt_body("loud please"), {})
        assert result.status == 200 and result.body.decode() == expected_answer("loud please", 9)
        request_id = result.header("x-amzn-RequestId")
        time.sleep(0.3)  # the function writes its log lines after the response ended
        _, err = _stop(process)
    documents = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    [gateway] = [doc for doc in documents if doc.get("requestId") == request_id]
    assert gateway["status"] == 200 and gateway["outcome"] == "complete" and gateway["client"].startswith("127.0.0.1:")
    assert {"time", "method", "path", "ttfbMs", "durationMs", "bytes"} <= set(gateway)
    function = [doc for doc in documents if doc.get("message") == "invocation" and doc.get("request_id")]
    assert function and function[-1]["status"] == 200
    assert any("_aws" in doc for doc in documents)  # the EMF metrics document
    assert "loud please" not in err  # no prompt text in any log


def test_enter_reprints_the_key_and_curl_line() -> None:
    with _cli(["--port", str(free_port()), "--project-dir", str(REPO)]) as (process, banner):
        assert process.stdin is not None
        assert any("Enter to show the key and curl line" in line for line in banner)
        process.stdin.write("\n")
        process.stdin.flush()
        out_lines: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:
            out_lines.append(line.rstrip("\n"))
            if line.startswith("curl "):
                break
        _stop(process)
    curl = next(line for line in banner if line.startswith("curl "))
    assert out_lines[-3:] == [f"API at {_url(banner)}", f"  api key: {_key(banner)}", curl]


def test_banner_says_the_fault_in_words() -> None:
    args = ["--port", str(free_port()), "--project-dir", str(REPO), "--fail-mid-stream", "Throttle",
            "--fail-after-tokens", "2"]  # fmt: skip
    with _cli(args) as (process, banner):
        _stop(process)
    model = next(line for line in banner if line.startswith("  model: "))
    assert model.endswith("; every stream breaks after 2 tokens with throttlingException")
    assert "Fault(" not in "\n".join(banner)


def test_refusals_are_one_clear_line(tmp_path: Path) -> None:
    project = str(_project(tmp_path))
    orphan = _run(["--project-dir", project, "--fail-after-tokens", "3"])
    assert orphan.returncode == 2
    assert orphan.stderr.strip() == (
        "error: --fail-after-tokens only applies with --fail-mid-stream (it says when the stream breaks)"
    )
    wrong_phase = _run(["--project-dir", project, "--fail-mid-stream", "access-denied"])
    assert wrong_phase.returncode == 2 and "only before a stream starts" in wrong_phase.stderr
    assert "Traceback" not in orphan.stderr + wrong_phase.stderr


def test_every_bad_value_is_reported_by_the_cli(tmp_path: Path) -> None:
    project = _project(tmp_path, "  streaming-bedrock-api:maxTokens: lots\n  streaming-bedrock-api:auth: sometimes\n")
    result = _run(["--port", str(free_port()), "--project-dir", str(project)])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: invalid stack config (2 problems):"
    keys = {line.split("streaming-bedrock-api:")[1].split(":")[0] for line in lines[1:]}
    assert len(lines) == 3 and keys == {"maxTokens", "auth"}


def test_demo_link_and_serve_demo(tmp_path: Path) -> None:
    project = _project(tmp_path, "  streaming-bedrock-api:allowedOrigins:\n    - https://app.example.com\n")
    (project / "demo").mkdir()
    (project / "demo" / "index.html").write_bytes((REPO / "demo" / "index.html").read_bytes())
    with _cli(["--port", str(free_port()), "--project-dir", str(project)]) as (process, banner):
        _stop(process)
    text = "\n".join(banner)
    assert "file://" not in text and "not linked" in text and "--serve-demo" in text

    port = free_port()
    with _cli(["--port", str(port), "--project-dir", str(project), "--serve-demo"]) as (process, banner):
        [link] = [line for line in banner if "demo page: " in line]
        assert link.startswith(f"  demo page: http://127.0.0.1:{port}/demo/?endpoint=")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/demo/")
        response = connection.getresponse()
        page = response.read()
        connection.close()
        _stop(process)
    assert response.status == 200 and response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert page == (REPO / "demo" / "index.html").read_bytes()
