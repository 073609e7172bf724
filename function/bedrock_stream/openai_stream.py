"""Bedrock stream events → OpenAI Chat Completions output (pure state machines, no I/O).

:class:`ChunkEncoder` makes the ``stream: true`` body: ``data: {chat.completion.chunk}`` lines, the role on
the first delta, ``delta.content`` for text, ``delta.reasoning_content`` for reasoning, ``delta.tool_calls``
(indexes from 0, arguments as JSON fragments), one chunk with ``finish_reason``, with ``include_usage`` a last
chunk with ``choices: []`` and ``usage``, then ``data: [DONE]`` (https://platform.openai.com/docs/api-reference/
chat-streaming). :class:`CompletionBuilder` collects the same events into one ``chat.completion`` object.

Text chunks are the hot path: their JSON is a prefix and suffix built once per response around the one
JSON-encoded string, so a delta costs about what the native SSE event costs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bedrock_stream.bedrock_events import ReasoningDelta, TextDelta, ToolUseDelta, ToolUseStart, Usage

# Bedrock stopReason → OpenAI finish_reason (openai-python: stop, length, tool_calls, content_filter,
# function_call). "timeout" is the function stopping before its deadline: the answer is cut, like "length".
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "timeout": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
DONE_LINE = b"data: [DONE]\n\n"
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def finish_reason(stop_reason: str) -> str:
    return FINISH_REASONS.get(stop_reason, "stop")


def usage_object(usage: Usage) -> dict[str, Any]:
    """OpenAI ``usage``. Bedrock's ``inputTokens`` leave out cached tokens; OpenAI's ``prompt_tokens`` count
    them, with the cache reads repeated in ``prompt_tokens_details.cached_tokens``."""
    prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
    }


def _encode(value: object) -> bytes:
    # "replace": a lone surrogate (legal in JSON escapes) must not break the stream.
    return _JSON.encode(value).encode("utf-8", "replace")


@dataclass
class _ToolIndexes:
    """Bedrock content-block index → OpenAI tool-call index (0, 1, ... in order of appearance)."""

    by_block: dict[int, int] = field(default_factory=dict)

    def open(self, block_index: int) -> int:
        return self.by_block.setdefault(block_index, len(self.by_block))

    def get(self, block_index: int) -> int | None:
        return self.by_block.get(block_index)


class ChunkEncoder:
    """Encodes one streamed completion; feed events in Bedrock's order, then :meth:`end`."""

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        self.include_usage = include_usage
        head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        # Everything before the choices, ready to be completed by each chunk.
        self._head = b"data: " + _encode(head)[:-1] + b',"choices":['
        # With include_usage, OpenAI sends "usage": null on every chunk but the last.
        self._tail = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
        self._choice = b'{"index":0,"delta":{'
        self._open = b'"role":"assistant",'  # the first delta carries the role, then never again
        self._content_end = b'},"logprobs":null,"finish_reason":null}'
        self._tools = _ToolIndexes()
        self.stop_reason: str | None = None
        self.usage: Usage | None = None

    def _delta(self, fields: bytes) -> bytes:
        role, self._open = self._open, b""
        return self._head + self._choice + role + fields + self._content_end + self._tail

    def text(self, text: str) -> bytes:
        return self._delta(b'"content":' + _encode(text))

    def reasoning(self, text: str) -> bytes:
        return self._delta(b'"reasoning_content":' + _encode(text))

    def tool_start(self, event: ToolUseStart) -> bytes:
        index = self._tools.open(event.block_index)
        call = {"index": index, "id": event.tool_use_id, "type": "function",
                "function": {"name": event.name, "arguments": ""}}
        return self._delta(b'"tool_calls":' + _encode([call]))

    def tool_delta(self, event: ToolUseDelta) -> bytes:
        index = self._tools.get(event.block_index)
        if index is None:  # input for a block that never opened as a tool call: open it unnamed
            index = self._tools.open(event.block_index)
        call = {"index": index, "function": {"arguments": event.input_json}}
        return self._delta(b'"tool_calls":' + _encode([call]))

    def feed(self, event: TextDelta | ReasoningDelta | ToolUseStart | ToolUseDelta) -> bytes:
        if isinstance(event, TextDelta):
            return self.text(event.text)
        if isinstance(event, ReasoningDelta):
            return self.reasoning(event.text)
        if isinstance(event, ToolUseStart):
            return self.tool_start(event)
        return self.tool_delta(event)

    def finish(self, stop_reason: str) -> bytes:
        """The chunk with ``finish_reason`` (sent when Bedrock's messageStop arrives)."""
        self.stop_reason = stop_reason
        reason = _encode(finish_reason(stop_reason))
        role, self._open = self._open, b""
        return (self._head + self._choice + role.rstrip(b",") + b'},"logprobs":null,"finish_reason":' + reason
                + b"}" + self._tail)

    def end(self) -> bytes:
        """Usage chunk (with ``include_usage``) and ``[DONE]``: the end of a successful stream."""
        out = b""
        if self.include_usage and self.usage is not None:
            out = self._head + b'],"usage":' + _encode(usage_object(self.usage)) + b"}\n\n"
        return out + DONE_LINE


@dataclass
class CompletionBuilder:
    """Collects a whole answer for ``stream: false`` and renders one ``chat.completion`` object."""

    completion_id: str
    created: int
    model: str
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    _by_block: dict[int, dict[str, Any]] = field(default_factory=dict)
    stop_reason: str | None = None
    usage: Usage | None = None

    def feed(self, event: TextDelta | ReasoningDelta | ToolUseStart | ToolUseDelta) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
        elif isinstance(event, ToolUseStart):
            call: dict[str, Any] = {"id": event.tool_use_id, "type": "function",
                                    "function": {"name": event.name, "arguments": ""}}
            self._by_block[event.block_index] = call
            self.tool_calls.append(call)
        else:
            opened = self._by_block.get(event.block_index)
            if opened is not None:
                opened["function"]["arguments"] += event.input_json

    def body(self) -> bytes:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.text) or None, "refusal": None}
        if self.tool_calls:
            for call in self.tool_calls:
                # A tool that takes no input streams no fragments; OpenAI always sends a JSON object.
                call["function"]["arguments"] = call["function"]["arguments"] or "{}"
            message["tool_calls"] = self.tool_calls
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        document: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish_reason(self.stop_reason or "end_turn")}],
        }
        if self.usage is not None:
            document["usage"] = usage_object(self.usage)
        return _encode(document)


def models_body(model_ids: tuple[str, ...], created: int, owner: str = "amazon-bedrock") -> bytes:
    """``GET /v1/models``: OpenAI's list object with the ids this API accepts."""
    data = [{"id": model_id, "object": "model", "created": created, "owned_by": owner} for model_id in model_ids]
    return _encode({"object": "list", "data": data})
