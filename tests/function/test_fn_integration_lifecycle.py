"""End to end: init failures, handler exceptions, and many warm invocations in one process."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.function.fn_integration_harness import (
    Harness,
    expected_answer,
    make_harness,
    prompt_event,
    proxy_event,
    split_response,
)

# A handler wrapped around the real one, so the runtime loop's own error paths can be driven on demand.
FAULTY_HANDLER = """
import json
import os

from bedrock_stream.handler import handle as real_handle


def handle(event, context, stream):
    body = event.get("body") if isinstance(event, dict) else None
    if body == "echo-context":
        stream.start(200, {"Content-Type": "application/json"})
        stream.write(json.dumps({
            "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
            "request_id": context.request_id,
            "deadline_ms": context.deadline_ms,
            "arn": context.invoked_function_arn,
        }).encode())
        return
    if body == "raise-before":
        raise ValueError("test handler failed before responding")
    if body == "raise-after":
        stream.start(200, {"Content-Type": "text/plain; charset=utf-8"})
        stream.write(b"partial")
        raise RuntimeError("test handler failed after the first byte")
    real_handle(event, context, stream)
"""


@pytest.mark.parametrize(
    ("overrides", "error_type"),
    [
        ({"BEDROCK_MODEL_ID": None}, None),
        ({"MAX_TOKENS_CAP": "lots"}, None),
        ({"_HANDLER": "no_such_module.handle"}, "Runtime.ImportModuleError"),
        ({"_HANDLER": "bedrock_stream.handler.no_such_function"}, "Runtime.HandlerNotFound"),
    ],
    ids=["model id missing", "bad cap", "module missing", "function missing"],
)
def test_init_failure_reports_and_exits(
    fresh_harness: Harness, overrides: dict[str, str | None], error_type: str | None
) -> None:
    fresh_harness.env_overrides.update(overrides)
    queued = fresh_harness.invoke(prompt_event("never served"))
    process = fresh_harness.start_function(wait_ready=False)
    init_error = fresh_harness.api.wait_for_init_error(timeout=20)
    assert process.wait_exit(timeout=10) != 0
    assert isinstance(init_error.error, dict) and init_error.error["errorMessage"]
    assert init_error.error_type == init_error.error["errorType"]
    if error_type is not None:
        assert init_error.error_type == error_type
    else:
        assert init_error.error_type and init_error.error_type.startswith("Runtime.")
    # It never asked for work, so the queued event is still waiting for a healthy worker.
    assert fresh_harness.api.polls() == 0 and not queued.done
    if "BEDROCK_MODEL_ID" in overrides:
        assert "BEDROCK_MODEL_ID" in init_error.error["errorMessage"]


@pytest.fixture
def faulty_harness(task_root: Path, tmp_path: Path) -> Iterator[Harness]:
    root = tmp_path / "task"
    shutil.copytree(task_root, root, symlinks=True)
    (root / "faulty_handler.py").write_text(FAULTY_HANDLER)
    harness = make_harness(root, tmp_path / "logs", {"_HANDLER": "faulty_handler.handle"})
    harness.start_function()
    yield harness
    harness.close()


def test_handler_exception_before_response_posts_error_and_loop_continues(faulty_harness: Harness) -> None:
    result = faulty_harness.invoke(proxy_event("raise-before")).wait(10)
    assert result.mode == "error"
    assert result.error_type == "Runtime.ValueError"
    assert result.error["errorMessage"] == "test handler failed before responding"
    assert isinstance(result.error["stackTrace"], list)
    response = faulty_harness.call(prompt_event("next one"))
    assert response.payload == expected_answer("next one").text.encode()


def test_handler_exception_after_first_byte_sends_error_trailers(faulty_harness: Harness) -> None:
    response = split_response(faulty_harness.invoke(proxy_event("raise-after")).wait(10))
    assert response.status == 200 and response.payload == b"partial"
    assert response.result.error_type == "Runtime.RuntimeError"
    assert response.result.error["errorMessage"] == "test handler failed after the first byte"
    assert faulty_harness.process is not None
    pid = faulty_harness.process.pid
    assert faulty_harness.call(prompt_event("after")).payload == expected_answer("after").text.encode()
    assert faulty_harness.process.pid == pid and faulty_harness.process.alive()


def test_context_and_trace_id_reach_the_handler(faulty_harness: Harness) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    invocation = faulty_harness.api.invoke(proxy_event("echo-context"), timeout_ms=45_000, trace_id=trace)
    seen = split_response(invocation.wait(10)).json()
    assert invocation.deadline_epoch_ms is not None
    assert seen == {
        "trace_env": trace,
        "request_id": invocation.request_id,
        "deadline_ms": invocation.deadline_epoch_ms,
        "arn": faulty_harness.api.function_arn,
    }


def test_worker_killed_mid_stream_is_detected(fresh_harness: Harness) -> None:
    fresh_harness.start_function()
    fresh_harness.standin.pace_seconds = 0.02
    fresh_harness.standin.answer_tokens = 300
    invocation = fresh_harness.invoke(prompt_event("kill me"))
    next(invocation.chunks(timeout=10))
    assert fresh_harness.process is not None
    fresh_harness.process.kill()
    result = invocation.wait(10)
    assert result.mode == "streaming" and not result.complete
    [record] = fresh_harness.standin.wait_for_done(1, timeout=10)
    assert record.outcome == "disconnected" and record.tokens_sent < 300


@pytest.mark.slow
def test_thousand_warm_invocations_with_flat_memory(fresh_harness: Harness) -> None:
    process = fresh_harness.start_function()
    expected = {p: expected_answer(p).text.encode() for p in ("alpha", "beta", "gamma", "delta")}
    prompts = list(expected)
    samples: dict[int, int] = {}
    for index in range(1000):
        prompt = prompts[index % len(prompts)]
        response = fresh_harness.call(prompt_event(prompt, sse=False))
        assert response.payload == expected[prompt], index
        if index + 1 in (100, 250, 500, 750, 1000):
            samples[index + 1] = process.rss_kb()
    assert process.alive()
    # After warm-up the resident set stays flat: a leak of even 2 KB per invocation would show as 1.8 MB.
    growth_kb = samples[1000] - samples[100]
    print("RSS kB after N invocations:", samples)
    assert growth_kb < 1536, samples
    assert len(fresh_harness.standin.records()) == 1000
