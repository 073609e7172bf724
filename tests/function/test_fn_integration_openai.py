"""End to end through the real runtime: the OpenAI route chunk by chunk, and what the native SSE gained
(reasoning events, cache tokens), from the stand-in's botocore-shaped events."""

from __future__ import annotations

import json
from typing import Any

from streaming_bedrock_local.standin_features import CACHE_READ_TOKENS, CACHE_WRITE_TOKENS

from tests.function.fn_integration_harness import (
    ANSWER_TOKENS,
    MODEL_ID,
    Harness,
    expected_answer,
    parse_sse,
    prompt_event,
    proxy_event,
)


def chat_event(body: dict[str, Any]) -> dict[str, Any]:
    event = proxy_event(json.dumps(body))
    event["resource"] = event["path"] = event["requestContext"]["resourcePath"] = "/v1/chat/completions"
    return event


def test_openai_stream_sends_each_delta_as_its_own_chunk(fn: Harness) -> None:
    prompt = "chunk by chunk"
    response = fn.call(chat_event({"model": MODEL_ID, "stream": True, "stream_options": {"include_usage": True},
                                   "messages": [{"role": "user", "content": prompt}]}))
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    pieces: list[Any] = []
    per_chunk: list[int] = []
    for chunk in response.payload_chunks:
        assert chunk.data.startswith(b"data: ") and chunk.data.endswith(b"\n\n")  # whole events only
        events = chunk.data[:-2].split(b"\n\n")
        per_chunk.append(len(events))
        for event in events:
            payload = event[len(b"data: "):]
            pieces.append(payload if payload == b"[DONE]" else json.loads(payload))
    # One delta per chunk; only the usage chunk and [DONE] leave together at the end.
    assert per_chunk[:-1] == [1] * (len(per_chunk) - 1) and per_chunk[-1] == 2
    deltas = [p["choices"][0]["delta"]["content"] for p in pieces[:-1] if p["choices"]
              and "content" in p["choices"][0]["delta"]]
    assert "".join(deltas) == expected_answer(prompt).text and len(deltas) == ANSWER_TOKENS
    assert pieces[-1] == b"[DONE]" and pieces[-2]["usage"]["completion_tokens"] == ANSWER_TOKENS
    [record] = fn.model_calls(1)
    assert record.request is not None and record.request["messages"] == [
        {"role": "user", "content": [{"text": prompt}]}]


def test_native_sse_carries_reasoning_and_cache_tokens(fn: Harness) -> None:
    response = fn.call(prompt_event("[stand-in:reasoning] [stand-in:cache] think first", sse=True))
    events = parse_sse(response.payload)
    names = [name for name, _ in events]
    assert names.index("reasoning") < names.index("delta")
    reasoning = "".join(data["text"] for name, data in events if name == "reasoning")
    assert reasoning.startswith("The stand-in considers")
    usage = next(data for name, data in events if name == "usage")
    assert (usage["cache_read_input_tokens"], usage["cache_write_input_tokens"]) == (CACHE_READ_TOKENS,
                                                                                      CACHE_WRITE_TOKENS)
    # Plain text carries only the answer.
    plain = fn.call(prompt_event("[stand-in:reasoning] plain"))
    assert b"stand-in considers" not in plain.payload and plain.payload.startswith(b"[stand-in model]")
