"""What the Bedrock stand-in streams beyond plain text: reasoning, tool use and prompt-cache usage (pure).

Selected by the request, as a real model would be:

* **tool use**: a ``toolConfig`` with tools, and a last user turn without ``toolResult`` → a short text block, then
  a ``toolUse`` block for the chosen tool (``toolChoice.tool``, else the first) whose input JSON (built from the
  tool's schema) arrives in fragments; ``stopReason: tool_use``. A conversation that already holds the tool's
  result gets a normal text answer;
* **reasoning**: ``additionalModelRequestFields.thinking.type == "enabled"``, or the marker ``[stand-in:reasoning]``
  in the last user turn → a ``reasoningContent`` block (text deltas, then a ``signature`` delta) before the answer;
* **prompt cache**: the marker ``[stand-in:cache]`` or a ``cachePoint`` block → ``cacheReadInputTokens`` and
  ``cacheWriteInputTokens`` in ``metadata.usage``.

Shapes are botocore's ConverseStream output members (``contentBlockStart.start.toolUse``,
``contentBlockDelta.delta.toolUse.input`` / ``reasoningContent.text`` / ``reasoningContent.signature``).
:func:`check_features` applies Bedrock's validation rules for these fields before anything streams.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streaming_bedrock_local.eventstream import encode_event, encode_exception

REASONING_MARKER = "[stand-in:reasoning]"
CACHE_MARKER = "[stand-in:cache]"
CACHE_READ_TOKENS = 1024
CACHE_WRITE_TOKENS = 256
MIN_THINKING_BUDGET = 1024
_SIGNATURE = "c3RhbmQtaW4tc2lnbmF0dXJl"


class FeatureValidationError(ValueError):
    """The request would get a ValidationException from Bedrock."""


@dataclass(frozen=True)
class ToolCall:
    tool_use_id: str
    name: str
    input_json: str


@dataclass(frozen=True)
class Features:
    reasoning: tuple[str, ...] = ()
    tool: ToolCall | None = None
    cache: bool = False

    @property
    def active(self) -> bool:
        return bool(self.reasoning) or self.tool is not None or self.cache


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _blocks(messages: Sequence[Any]) -> list[Mapping[str, Any]]:
    return [b for m in messages if isinstance(m, Mapping) for b in (m.get("content") or []) if isinstance(b, Mapping)]


def _last_user_text(messages: Sequence[Any]) -> tuple[str, bool]:
    """(text of the last user turn, whether it holds a toolResult)."""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            blocks = [b for b in message.get("content") or [] if isinstance(b, Mapping)]
            text = " ".join(b["text"] for b in blocks if isinstance(b.get("text"), str))
            return text, any("toolResult" in b for b in blocks)
    return "", False


def _thinking(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    extra = body.get("additionalModelRequestFields")
    thinking = extra.get("thinking") if isinstance(extra, Mapping) else None
    return thinking if isinstance(thinking, Mapping) and thinking.get("type") == "enabled" else None


def check_features(body: Mapping[str, Any]) -> None:
    """Bedrock's rules for tools and extended thinking; raises :class:`FeatureValidationError`."""
    messages = _list(body.get("messages"))
    tool_config = body.get("toolConfig")
    if any("toolUse" in b or "toolResult" in b for b in _blocks(messages)) and tool_config is None:
        # Bedrock Converse API reference (toolConfig): required when messages hold toolUse/toolResult blocks.
        raise FeatureValidationError(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    names: list[str] = []
    if tool_config is not None:
        tools = tool_config.get("tools") if isinstance(tool_config, Mapping) else None
        if not isinstance(tools, list) or not tools:
            raise FeatureValidationError("toolConfig.tools must hold at least one tool")
        for tool in tools:
            spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
            schema = spec.get("inputSchema") if isinstance(spec, Mapping) else None
            if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str) or not isinstance(
                    schema, Mapping) or not isinstance(schema.get("json"), Mapping):
                raise FeatureValidationError("each tool needs toolSpec.name and toolSpec.inputSchema.json")
            names.append(spec["name"])
        choice = tool_config.get("toolChoice") if isinstance(tool_config, Mapping) else None
        named = choice.get("tool") if isinstance(choice, Mapping) else None
        if isinstance(named, Mapping) and named.get("name") not in names:
            raise FeatureValidationError("toolChoice.tool.name is not one of the tools")
    thinking = _thinking(body)
    if thinking is None:
        return
    # Bedrock user guide, "Extended thinking": budget_tokens >= 1,024 and below max_tokens; no temperature,
    # top_p (below 0.95) or top_k changes, no forced tool use.
    budget = thinking.get("budget_tokens")
    config = _map(body.get("inferenceConfig"))
    max_tokens = config.get("maxTokens", 4096)
    if not isinstance(budget, int) or budget < MIN_THINKING_BUDGET or budget >= max_tokens:
        raise FeatureValidationError("thinking.budget_tokens must be at least 1024 and less than max_tokens")
    if config.get("temperature", 1) != 1 or not 0.95 <= config.get("topP", 1) <= 1:
        raise FeatureValidationError("temperature and top_p may not be changed when thinking is enabled")
    choice = tool_config.get("toolChoice") if isinstance(tool_config, Mapping) else None
    if isinstance(choice, Mapping) and ("any" in choice or "tool" in choice):
        raise FeatureValidationError("Thinking may not be enabled when tool_choice forces tool use.")


def _example_input(schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = _map(schema.get("properties"))
    required = _list(schema.get("required")) or list(properties)
    values = {"string": "stand-in", "integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}
    return {str(name): values.get(str(_map(properties.get(name)).get("type")), "stand-in") for name in required}


def plan_features(body: Mapping[str, Any]) -> Features:
    """What to stream besides the answer text for this (already valid) request."""
    messages = _list(body.get("messages"))
    text, has_result = _last_user_text(messages)
    tool: ToolCall | None = None
    tool_config = body.get("toolConfig")
    if isinstance(tool_config, Mapping) and not has_result:
        named = _map(_map(tool_config.get("toolChoice")).get("tool")).get("name")
        specs = [t["toolSpec"] for t in tool_config["tools"]]
        spec = next((s for s in specs if s["name"] == named), specs[0])
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        arguments = json.dumps(_example_input(spec["inputSchema"]["json"]), separators=(",", ":"))
        tool = ToolCall(f"tooluse_{digest}", spec["name"], arguments)
    reasoning: tuple[str, ...] = ()
    if _thinking(body) is not None or REASONING_MARKER in text:
        words = ["The", " stand-in", " considers", " the", " question", " before", " answering."]
        reasoning = tuple(words)
    cache = CACHE_MARKER in text or any("cachePoint" in b for b in _blocks(messages)) or any(
        isinstance(b, Mapping) and "cachePoint" in b for b in _list(body.get("system")))
    return Features(reasoning, tool, cache)


def _delta(index: int, delta: Mapping[str, Any]) -> tuple[str, bytes]:
    return "contentBlockDelta", encode_event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})


def _stop(index: int) -> tuple[str, bytes]:
    return "contentBlockStop", encode_event("contentBlockStop", {"contentBlockIndex": index})


def feature_frames(chunks: Sequence[str], stop_reason: str, input_tokens: int, features: Features,
                   fault: tuple[str, int, str] | None = None, latency_ms: int = 0) -> list[tuple[str, bytes]]:
    """The event frames of an answer with ``features``; ``fault`` = (exception type, after deltas, message)."""
    frames = [("messageStart", encode_event("messageStart", {"role": "assistant"}))]
    index = 0
    if features.reasoning:
        frames += [_delta(index, {"reasoningContent": {"text": piece}}) for piece in features.reasoning]
        frames += [_delta(index, {"reasoningContent": {"signature": _SIGNATURE}}), _stop(index)]
        index += 1
    text = list(chunks)
    if features.tool is not None:
        text = [chunks[0], f" calling {features.tool.name}."] if chunks else []
        stop_reason = "tool_use"
    frames += [_delta(index, {"text": piece}) for piece in text]
    frames.append(_stop(index))
    if features.tool is not None:
        index += 1
        tool = features.tool
        start = {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool.tool_use_id, "name": tool.name}}}
        frames.append(("contentBlockStart", encode_event("contentBlockStart", start)))
        half = len(tool.input_json) // 2
        for piece in (tool.input_json[:half], tool.input_json[half:]):
            if piece:
                frames.append(_delta(index, {"toolUse": {"input": piece}}))
        frames.append(_stop(index))
    output_tokens = sum(1 for kind, _ in frames if kind == "contentBlockDelta")
    if fault is not None:
        exception_type, after, message = fault
        cut, seen = len(frames), 0
        for position, (kind, _) in enumerate(frames):
            if kind == "contentBlockDelta":
                if seen == after:
                    cut = position
                    break
                seen += 1
        return [*frames[:cut], (exception_type, encode_exception(exception_type, {"message": message}))]
    usage: dict[str, int] = {"inputTokens": input_tokens, "outputTokens": output_tokens,
                             "totalTokens": input_tokens + output_tokens}
    if features.cache:
        usage.update(cacheReadInputTokens=CACHE_READ_TOKENS, cacheWriteInputTokens=CACHE_WRITE_TOKENS,
                     totalTokens=usage["totalTokens"] + CACHE_READ_TOKENS + CACHE_WRITE_TOKENS)
    frames += [
        ("messageStop", encode_event("messageStop", {"stopReason": stop_reason})),
        ("metadata", encode_event("metadata", {"usage": usage, "metrics": {"latencyMs": latency_ms}})),
    ]
    return frames
