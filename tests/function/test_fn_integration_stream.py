"""End to end: the packaged function, run as Lambda runs it, streaming the stand-in's answer."""

from __future__ import annotations

import json

from tests.function.fn_integration_harness import (
    ANSWER_TOKENS,
    MAX_TOKENS_CAP,
    MODEL_ID,
    Harness,
    expected_answer,
    parse_sse,
    prompt_event,
    proxy_event,
    split_response,
    sse_event,
)

PROMPT = "Explain response streaming in one paragraph."


def test_plain_text_is_byte_exact(fn: Harness) -> None:
    response = fn.call(prompt_event(PROMPT))
    answer = expected_answer(PROMPT)
    assert response.result.mode == "streaming" and response.result.complete
    assert response.result.trailers == {}
    assert response.status == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.payload == answer.text.encode("utf-8")
    # The Runtime API request itself is the documented streaming shape.
    headers = {k.lower(): v for k, v in response.result.headers.items()}
    assert headers["lambda-runtime-function-response-mode"] == "streaming"
    assert headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    assert "lambda-runtime-function-error-type" in headers["trailer"].lower()
    [record] = fn.model_calls(1)
    assert record.model_id == MODEL_ID and record.access_key_id == "AKIDLOCALFUNCTION"
    assert record.request is not None and record.request["inferenceConfig"]["maxTokens"] == MAX_TOKENS_CAP


def test_sse_is_byte_exact(fn: Harness) -> None:
    response = fn.call(prompt_event(PROMPT, sse=True))
    answer = expected_answer(PROMPT)
    expected = b"".join(sse_event("delta", {"text": chunk}) for chunk in answer.chunks)
    expected += sse_event(
        "usage",
        {
            "input_tokens": answer.input_tokens,
            "output_tokens": answer.output_tokens,
            "total_tokens": answer.input_tokens + answer.output_tokens,
            "cache_read_input_tokens": 0,
            "cache_write_input_tokens": 0,
        },
    )
    expected += sse_event("done", {"stop_reason": "end_turn"})
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.payload == expected


def test_each_delta_is_its_own_chunk(fn: Harness) -> None:
    response = fn.call(prompt_event(PROMPT))
    assert [c.data for c in response.payload_chunks] == [t.encode() for t in expected_answer(PROMPT).chunks]


def test_max_tokens_and_messages_form(fn: Harness) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": [{"text": "first answer"}]},
            {"role": "user", "content": "second question"},
        ],
        "system": "be terse",
        "max_tokens": 5,
        "temperature": 0.2,
    }
    response = fn.call(proxy_event(json.dumps(body), headers={"Accept": "text/event-stream"}))
    answer = expected_answer("second question", max_tokens=5)
    events = parse_sse(response.payload)
    assert "".join(e[1]["text"] for e in events if e[0] == "delta") == answer.text
    assert events[-1] == ("done", {"stop_reason": "max_tokens"})
    [record] = fn.model_calls(1)
    assert record.request is not None
    assert record.request["system"] == [{"text": "be terse"}]
    assert record.request["inferenceConfig"] == {"maxTokens": 5, "temperature": 0.2}
    assert [m["role"] for m in record.request["messages"]] == ["user", "assistant", "user"]


def test_base64_body_is_accepted(fn: Harness) -> None:
    event = proxy_event(json.dumps({"prompt": PROMPT}), base64_body=True)
    assert fn.call(event).payload == expected_answer(PROMPT).text.encode()


def test_deltas_arrive_while_the_standin_is_still_sending(fn: Harness) -> None:
    fn.standin.pace_seconds = 0.05
    fn.standin.answer_tokens = 10
    response = fn.call(prompt_event(PROMPT))
    [record] = fn.model_calls(1)
    chunks = response.payload_chunks
    assert [c.data for c in chunks] == [t.encode() for t in expected_answer(PROMPT, answer_tokens=10).chunks]
    assert record.last_token_at is not None
    # Causality, with wide margins: no chunk arrives before its token was written; the first delta
    # arrived 450 ms before the stand-in wrote its last token, and half of them 250 ms before
    # (a buffering relay would deliver them all after the last one).
    for index, chunk in enumerate(chunks):
        assert chunk.received_at >= record.token_times[index]
    assert chunks[0].received_at < record.last_token_at
    assert chunks[4].received_at < record.last_token_at, [c.received_at - record.last_token_at for c in chunks]


def test_client_disconnect_stops_the_standin_early(fn: Harness) -> None:
    fn.standin.pace_seconds = 0.02
    fn.standin.answer_tokens = 500
    invocation = fn.invoke(prompt_event(PROMPT))
    for seen, _chunk in enumerate(invocation.chunks(timeout=10), start=1):
        if seen == 4:  # the metadata prelude and three deltas
            break
    invocation.cancel()
    [record] = fn.model_calls(1)
    assert record.outcome == "disconnected"
    assert 3 <= record.tokens_sent < 60, record.tokens_sent
    log = fn.log_for(invocation.request_id)
    assert log["disconnected"] is True
    # The loop survives and serves the next invocation.
    fn.standin.pace_seconds = 0
    fn.standin.answer_tokens = ANSWER_TOKENS
    assert fn.call(prompt_event("again")).payload == expected_answer("again").text.encode()


def test_stops_cleanly_before_the_deadline(fn: Harness) -> None:
    fn.standin.pace_seconds = 0.05
    fn.standin.answer_tokens = 400
    # DEADLINE_MARGIN_MS is 500 in this environment: with 1.5 s left it must stop after about 1 s.
    response = fn.call(prompt_event(PROMPT, sse=True), timeout_ms=1500, wait=10)
    assert response.result.mode == "streaming" and response.result.complete
    events = parse_sse(response.payload)
    assert events[-1] == ("done", {"stop_reason": "timeout"})
    assert 0 < sum(e[0] == "delta" for e in events) < 400
    [record] = fn.model_calls(1)
    assert record.outcome == "disconnected" and record.tokens_sent < 400


def test_plain_text_deadline_ends_with_a_prefix_and_is_logged(fn: Harness) -> None:
    fn.standin.pace_seconds = 0.05
    fn.standin.answer_tokens = 400
    invocation = fn.invoke(prompt_event(PROMPT), timeout_ms=1500)
    response = split_response(invocation.wait(10))
    full = expected_answer(PROMPT, answer_tokens=400).text.encode()
    # Plain text has no in-band "done" event: the stream ends normally with a truncated answer,
    # and only the log line says why.
    assert response.status == 200 and response.result.complete
    assert 0 < len(response.payload) < len(full) and full.startswith(response.payload)
    log = fn.log_for(invocation.request_id)
    assert log["timed_out"] is True and log["stop_reason"] == "timeout"


def test_deadline_before_the_first_token_is_a_504(fn: Harness) -> None:
    fn.standin.first_token_delay_seconds = 3.0
    response = fn.call(prompt_event(PROMPT, sse=True), timeout_ms=1500, wait=10)
    assert response.status == 504 and response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"]
    [record] = fn.model_calls(1)
    assert record.outcome == "disconnected" and record.tokens_sent == 0


def test_heartbeat_comments_while_the_model_is_silent(fresh_harness: Harness) -> None:
    fresh_harness.env_overrides["HEARTBEAT_SECONDS"] = "0.1"
    fresh_harness.start_function()
    fresh_harness.standin.first_token_delay_seconds = 0.45
    response = fresh_harness.call(prompt_event(PROMPT, sse=True))
    events = parse_sse(response.payload)
    first_delta = next(i for i, e in enumerate(events) if e[0] == "delta")
    assert first_delta >= 2 and all(e[0] == ":" for e in events[:first_delta])
    assert "".join(e[1]["text"] for e in events if e[0] == "delta") == expected_answer(PROMPT).text


def test_log_line_has_the_figures_and_no_text(fn: Harness) -> None:
    secret_prompt = "my secret prompt zebra-quartz"
    invocation = fn.invoke(prompt_event(secret_prompt))
    response = split_response(invocation.wait(10))
    log = fn.log_for(invocation.request_id)
    answer = expected_answer(secret_prompt)
    assert log["status"] == 200 and log["model"] == MODEL_ID and log["stop_reason"] == "end_turn"
    assert log["output_tokens"] == answer.output_tokens and log["input_tokens"] == answer.input_tokens
    assert log["ttft_ms"] is not None and log["duration_ms"] >= log["ttft_ms"]
    assert log["disconnected"] is False
    assert fn.process is not None
    output = fn.process.output()
    assert "zebra-quartz" not in output
    assert response.payload.decode() not in output
    # Not even one piece of the answer: the line has exactly the documented fields, and its only strings are
    # identifiers (a single delta such as "." stored in any field would show up here).
    assert answer.chunks[0] not in output  # the stand-in's label, its first delta
    assert set(log) == {
        "message", "request_id", "model", "status", "output_format", "ttft_ms", "duration_ms", "input_tokens",
        "output_tokens", "stop_reason", "deltas", "disconnected", "timed_out", "error_code", "bedrock_error",
        "client", "cache_read_tokens", "cache_write_tokens",
    }  # fmt: skip
    strings = {key: value for key, value in log.items() if isinstance(value, str)}
    assert strings == {
        "message": "invocation",
        "request_id": invocation.request_id,
        "model": MODEL_ID,
        "output_format": "text",
        "stop_reason": "end_turn",
    }
    emf = [r for r in fn.process.log_records() if "_aws" in r and r.get("RequestId") == invocation.request_id]
    assert len(emf) == 1 and emf[0]["OutputTokens"] == answer.output_tokens


def test_cors_allowed_origins_are_honoured(fresh_harness: Harness) -> None:
    fresh_harness.env_overrides["CORS_ALLOW_ORIGINS"] = "https://app.example.com"
    fresh_harness.start_function()
    allowed = fresh_harness.call(
        proxy_event(json.dumps({"prompt": "x"}), headers={"Origin": "https://app.example.com"})
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    other = fresh_harness.call(proxy_event(json.dumps({"prompt": "x"}), headers={"Origin": "https://evil.example"}))
    assert "access-control-allow-origin" not in other.headers
    preflight = fresh_harness.call(proxy_event(None, method="OPTIONS", headers={"Origin": "https://app.example.com"}))
    assert preflight.status == 204 and preflight.payload == b""
    assert "POST" in preflight.headers["access-control-allow-methods"]
    # No model call for a preflight.
    assert len(fresh_harness.model_calls_so_far()) == 2
