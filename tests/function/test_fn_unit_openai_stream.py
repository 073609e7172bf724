"""Bedrock events → chat.completion.chunk lines / one chat.completion, validated with the openai SDK's own types."""

from __future__ import annotations

import json
from typing import Any

from bedrock_stream.bedrock_events import ReasoningDelta, TextDelta, ToolUseDelta, ToolUseStart, Usage
from bedrock_stream.openai_errors import ApiError
from bedrock_stream.openai_stream import DONE_LINE, ChunkEncoder, CompletionBuilder, finish_reason, models_body
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk


def lines(data: bytes) -> list[Any]:
    """The JSON of each ``data:`` line (``[DONE]`` kept as the string)."""
    out: list[Any] = []
    for event in data.decode().split("\n\n"):
        if not event:
            continue
        assert event.startswith("data: ") and "\n" not in event
        payload = event[len("data: "):]
        out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_text_stream_role_first_finish_usage_done() -> None:
    encoder = ChunkEncoder("chatcmpl-1", 1700000000, "bedrock", include_usage=True)
    body = encoder.text("Hel") + encoder.text("lo \"λ\"\n") + encoder.finish("end_turn")
    encoder.usage = Usage(5, 2, 7 + 30, 30, 0)
    body += encoder.end()
    chunks = lines(body)
    assert chunks[-1] == "[DONE]" and body.endswith(DONE_LINE)
    parsed = [ChatCompletionChunk.model_validate(c) for c in chunks[:-1]]
    assert parsed[0].choices[0].delta.role == "assistant" and parsed[1].choices[0].delta.role is None
    assert "".join(p.choices[0].delta.content or "" for p in parsed[:2]) == 'Hello "λ"\n'
    assert parsed[2].choices[0].finish_reason == "stop" and parsed[2].choices[0].delta.content is None
    assert parsed[3].choices == [] and parsed[3].usage is not None
    assert parsed[3].usage.prompt_tokens == 35 and parsed[3].usage.total_tokens == 37
    assert parsed[3].usage.prompt_tokens_details is not None
    assert parsed[3].usage.prompt_tokens_details.cached_tokens == 30
    # With include_usage every other chunk says "usage": null, as OpenAI documents.
    assert all("usage" in c and c["usage"] is None for c in chunks[:3])
    assert {c["id"] for c in chunks[:-1]} == {"chatcmpl-1"} and chunks[0]["object"] == "chat.completion.chunk"


def test_without_include_usage_there_is_no_usage_chunk() -> None:
    encoder = ChunkEncoder("c", 1, "m", include_usage=False)
    encoder.usage = Usage(1, 1, 2)
    chunks = lines(encoder.text("a") + encoder.finish("max_tokens") + encoder.end())
    assert len(chunks) == 3 and "usage" not in chunks[0]
    assert chunks[1]["choices"][0]["finish_reason"] == "length"


def test_empty_answer_still_carries_the_role_on_the_finish_chunk() -> None:
    encoder = ChunkEncoder("c", 1, "m", include_usage=False)
    chunk = ChatCompletionChunk.model_validate(lines(encoder.finish("end_turn"))[0])
    assert chunk.choices[0].delta.role == "assistant" and chunk.choices[0].finish_reason == "stop"


def test_tool_calls_stream_with_indexes_from_zero_and_fragments() -> None:
    encoder = ChunkEncoder("c", 1, "m", include_usage=False)
    body = encoder.feed(ReasoningDelta("thinking")) + encoder.feed(TextDelta("Let me check."))
    body += encoder.feed(ToolUseStart(2, "tooluse_a", "get_weather")) + encoder.feed(ToolUseDelta(2, '{"city":'))
    body += encoder.feed(ToolUseDelta(2, '"Paris"}')) + encoder.feed(ToolUseStart(3, "tooluse_b", "get_time"))
    body += encoder.finish("tool_use") + encoder.end()
    chunks = [ChatCompletionChunk.model_validate(c) for c in lines(body)[:-1]]
    assert chunks[0].choices[0].delta.model_extra == {"reasoning_content": "thinking"}
    calls = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices[0].delta.tool_calls]
    assert [(c.index, c.id) for c in calls] == [(0, "tooluse_a"), (0, None), (0, None), (1, "tooluse_b")]
    assert calls[0].function is not None and calls[0].function.name == "get_weather"
    assert "".join(c.function.arguments or "" for c in calls[:3] if c.function) == '{"city":"Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_finish_reason_mapping() -> None:
    assert [finish_reason(r) for r in ("end_turn", "stop_sequence", "max_tokens", "tool_use",
                                       "guardrail_intervened", "content_filtered", "timeout", "brand_new")] == [
        "stop", "stop", "length", "tool_calls", "content_filter", "content_filter", "length", "stop"]


def test_non_stream_completion_object() -> None:
    builder = CompletionBuilder("chatcmpl-2", 1700000000, "bedrock")
    for event in (ReasoningDelta("hm"), TextDelta("It is "), TextDelta("sunny."), ToolUseStart(1, "t1", "f"),
                  ToolUseDelta(1, '{"a":'), ToolUseDelta(1, "1}"), ToolUseStart(2, "t2", "g")):
        builder.feed(event)
    builder.stop_reason = "tool_use"
    builder.usage = Usage(10, 5, 15)
    completion = ChatCompletion.model_validate(json.loads(builder.body()))
    message = completion.choices[0].message
    assert message.content == "It is sunny." and completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    # Any: newer SDKs type tool_calls as a union with custom tool calls (no .function), older ones do not.
    calls: list[Any] = list(message.tool_calls)
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [("t1", "f", '{"a":1}'), ("t2", "g", "{}")]
    assert message.model_extra == {"reasoning_content": "hm"}
    assert completion.usage is not None and completion.usage.total_tokens == 15


def test_models_list_and_error_shapes() -> None:
    listed = json.loads(models_body(("a.b", "alias"), 5))
    assert listed["object"] == "list" and [Model.model_validate(m).id for m in listed["data"]] == ["a.b", "alias"]
    error = ApiError(429, "throttled", "slow down", None, True, 2)
    assert json.loads(error.body()) == {"error": {"message": "slow down", "type": "rate_limit_error", "param": None,
                                                  "code": "throttled"}}
    assert error.headers() == {"x-should-retry": "true", "Retry-After": "2"}
    assert error.stream_line().startswith(b'data: {"error":') and error.stream_line().endswith(b"\n\n")
    assert ApiError(502, "bedrock_access_denied", "no").headers() == {"x-should-retry": "false"}
