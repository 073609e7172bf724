"""What the local CLI prints, as pure functions: request lines, function-log filtering, the banner in words, fault
names (one set of spellings for both options), the demo link, and a stack config with several bad values."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from streaming_bedrock_local.bedrock_standin import BeforeStreamFault, MidStreamFault
from streaming_bedrock_local.cli import DEFAULT_CONCURRENCY, build_parser
from streaming_bedrock_local.demo_link import demo_lines
from streaming_bedrock_local.faults import FaultNameError, build_fault, describe_fault, parse_fault_name, short_names
from streaming_bedrock_local.stack_config import StackConfigError, load_stack_config
from streaming_bedrock_local.terminal import (
    Banner,
    LineWriter,
    access_line,
    banner_lines,
    function_log_sink,
    is_function_problem,
    reminder_lines,
)

from .conftest import MODEL

RECORD = {
    "requestId": "0f6c",
    "time": "2026-12-01T21:04:15.123Z",
    "method": "POST",
    "path": "/prod/stream",
    "client": "127.0.0.1:53422",
    "status": 200,
    "ttfbMs": 35.2,
    "bytes": 812,
    "outcome": "complete",
    "durationMs": 1021.7,
}


# ---- one short line per request ----------------------------------------------------------------------------


def test_access_line_has_time_method_path_status_ttfb_duration_bytes_client() -> None:
    assert access_line(RECORD) == "21:04:15 POST /prod/stream 200 ttfb 35 ms 1.02 s 812 B 127.0.0.1:53422"


def test_access_line_names_an_unusual_outcome_and_missing_figures() -> None:
    record = {**RECORD, "status": 403, "outcome": "gateway_response", "ttfbMs": None, "bytes": None}
    del record["ttfbMs"], record["bytes"]
    assert access_line(record) == "21:04:15 POST /prod/stream 403 ttfb - 1.02 s - 127.0.0.1:53422"
    cut = {**RECORD, "outcome": "invoke_crashed", "error": "worker exited", "bytes": 20 * 1024}
    assert access_line(cut).endswith("20.0 KB 127.0.0.1:53422 invoke_crashed (worker exited)")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (json.dumps({"message": "invocation", "request_id": "x", "status": 200}), False),
        (json.dumps({"_aws": {"CloudWatchMetrics": []}, "Invocations": 1}), False),
        (json.dumps({"level": "INFO", "message": "ok"}), False),
        (json.dumps({"level": "WARN", "message": "response stream closed by the consumer"}), True),
        (json.dumps({"level": "ERROR", "message": "init failed"}), True),
        ("Traceback (most recent call last):", True),
        ("[1, 2]", True),
    ],
)
def test_function_lines_shown_by_default_are_problems_only(line: str, shown: bool) -> None:
    assert is_function_problem(line) is shown


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.extend(text.splitlines())

    def flush(self) -> None:
        pass


@pytest.mark.parametrize(("show_all", "log_format"), [(False, "text"), (True, "text"), (True, "json")])
def test_function_log_sink(show_all: bool, log_format: str) -> None:
    out = _Lines()
    sink = function_log_sink(LineWriter(out), show_all, log_format)  # type: ignore[arg-type]
    info = json.dumps({"message": "invocation", "status": 200})
    error = json.dumps({"level": "ERROR", "message": "handler failed"})
    for line in (info, error, ""):
        sink("worker-0", (line + "\n").encode())
    expected = [info, error] if show_all else [error]
    if log_format == "text":
        expected = [f"  worker-0 | {line}" for line in expected]
    assert out.lines == expected


# ---- banner in words ------------------------------------------------------------------------------------------


def _banner(model: str, api_key: str | None = "k3y", demo: tuple[str, ...] = ()) -> Banner:
    keys = [f"api key: {api_key}"] if api_key else []
    return Banner("dev", "http://127.0.0.1:3000/prod/stream", model, "/tmp/f.zip (2 warm workers)", None, keys, 12.3,
                  "curl …", demo)  # fmt: skip


def test_banner_and_fault_are_in_words() -> None:
    before = describe_fault(BeforeStreamFault("ThrottlingException"))
    assert before == "every request fails before streaming with ThrottlingException (HTTP 429)"
    mid = describe_fault(MidStreamFault("modelStreamErrorException", after_deltas=1))
    assert mid == "every stream breaks after 1 token with modelStreamErrorException"
    lines = banner_lines(_banner(f"offline stand-in model; {before}"))
    text = "\n".join(lines)
    assert "Fault(" not in text and "error_type=" not in text and "=" not in lines[1]
    assert lines[0] == "Streaming Bedrock API (local, stack dev) at http://127.0.0.1:3000/prod/stream"
    assert "  api key: k3y" in lines and "curl …" in lines and "Enter to show the key and curl line" in text


def test_enter_reminder_repeats_url_key_curl_and_demo() -> None:
    lines = reminder_lines(_banner("m", demo=("demo page: http://127.0.0.1:3000/demo/?x",)))
    assert lines == [
        "API at http://127.0.0.1:3000/prod/stream",
        "  api key: k3y",
        "curl …",
        "  demo page: http://127.0.0.1:3000/demo/?x",
    ]
    assert "api key" not in "\n".join(reminder_lines(_banner("m", api_key=None)))


# ---- fault names ------------------------------------------------------------------------------------------------


SPELLINGS = ["throttle", "Throttle", "THROTTLING", "throttled", "ThrottlingException", "throttlingException",
             "throttling_exception", "throttling-exception"]  # fmt: skip


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_one_set_of_spellings_for_both_options(spelling: str) -> None:
    assert parse_fault_name(spelling, "before") == "ThrottlingException"
    assert parse_fault_name(spelling, "mid") == "throttlingException"


@pytest.mark.parametrize(
    ("phase", "spellings"),
    [
        ("before", {"validation": "ValidationException", "unavailable": "ServiceUnavailableException",
                    "access-denied": "AccessDeniedException", "not-found": "ResourceNotFoundException",
                    "model-timeout": "ModelTimeoutException", "internal": "InternalServerException"}),
        ("mid", {"validation": "validationException", "unavailable": "serviceUnavailableException",
                 "internal": "internalServerException", "model-stream-error": "modelStreamErrorException",
                 "ModelStreamErrorException": "modelStreamErrorException"}),
    ],
)  # fmt: skip
def test_short_and_exception_names(phase: str, spellings: dict[str, str]) -> None:
    for spelling, name in spellings.items():
        assert parse_fault_name(spelling, phase) == name
        assert parse_fault_name(name, phase) == name


def test_a_name_from_the_other_phase_is_explained() -> None:
    with pytest.raises(FaultNameError, match=r"--fail-mid-stream: Bedrock sends AccessDeniedException only before"):
        parse_fault_name("access-denied", "mid")
    with pytest.raises(FaultNameError, match=r"modelStreamErrorException only inside a stream"):
        parse_fault_name("model-stream-error", "before")
    with pytest.raises(FaultNameError, match=r"unknown error 'nope'; use one of throttle, validation"):
        parse_fault_name("nope", "before")


def test_fault_option_combinations() -> None:
    with pytest.raises(FaultNameError, match="--fail-after-tokens only applies with --fail-mid-stream"):
        build_fault(None, None, 3)
    with pytest.raises(FaultNameError, match="--fail-after-tokens only applies with --fail-mid-stream"):
        build_fault("throttle", None, 3)
    with pytest.raises(FaultNameError, match="cannot be combined"):
        build_fault("throttle", "throttle", None)
    assert build_fault(None, "internal", None) == MidStreamFault("internalServerException", after_deltas=5)
    assert build_fault(None, "internal", 0) == MidStreamFault("internalServerException", after_deltas=0)
    assert build_fault("access-denied", None, None) == BeforeStreamFault("AccessDeniedException")
    assert build_fault(None, None, None) is None


def test_help_lists_every_fault_name_the_defaults_and_port_zero() -> None:
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    local = commands.choices["local"]
    text = " ".join(local.format_help().split())
    for name in [*short_names("before"), *short_names("mid")]:
        assert name in text
    assert "access-denied" in text and "model-stream-error" in text
    defaults = ("(default 3000)", "0 picks a free one", "(default dev)", f"(default {DEFAULT_CONCURRENCY})",
                "(default 20)", "(default 48)", "(default 5)", "(default text)", "(default standin)")  # fmt: skip
    for default in defaults:
        assert default in text, default


# ---- the demo link ----------------------------------------------------------------------------------------------

API = "http://127.0.0.1:3000/prod/stream"


def test_demo_link_from_disk_only_when_every_origin_is_allowed(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    [line] = demo_lines(page, "http://127.0.0.1:3000", API, "k", ("*",), served=False)
    assert line.startswith(f"demo page: {page.as_uri()}?endpoint=http%3A%2F%2F127.0.0.1%3A3000") and "key=k" in line
    lines = demo_lines(page, "http://127.0.0.1:3000", API, "k", ("https://app.example.com",), served=False)
    text = " ".join(lines)
    assert "file://" not in text and "not linked" in text and "https://app.example.com" in text
    assert "--serve-demo" in text
    [served] = demo_lines(page, "http://127.0.0.1:3000", API, None, ("https://app.example.com",), served=True)
    assert served == "demo page: http://127.0.0.1:3000/demo/?endpoint=http%3A%2F%2F127.0.0.1%3A3000%2Fprod%2Fstream"
    assert demo_lines(None, "http://127.0.0.1:3000", API, None, ("*",), served=False) == []


# ---- all bad values of a stack file -----------------------------------------------------------------------------


def test_every_bad_value_of_a_stack_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        f"name: streaming-bedrock-api\nruntime: python\nconfig:\n  modelId:\n    default: {MODEL}\n", encoding="utf-8"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  streaming-bedrock-api:maxTokens: lots\n"
        "  streaming-bedrock-api:auth: sometimes\n"
        "  streaming-bedrock-api:path: a/b\n"
        "  streaming-bedrock-api:stageName: prod\n"
        "  streaming-bedrock-api:apiKey:\n    secure: AAAA\n"
        "  aws:region: 7\n",
        encoding="utf-8",
    )
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(tmp_path)
    problems = caught.value.problems
    for key in ("maxTokens", "auth", "path", "apiKey", "aws:region"):
        assert sum(key in problem for problem in problems) == 1, (key, problems)
    assert len(problems) == 5 and all("Pulumi.dev.yaml" in problem for problem in problems)
    assert str(caught.value).splitlines() == list(problems)
