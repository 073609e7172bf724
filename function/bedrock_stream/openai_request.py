"""OpenAI Chat Completions request body → Bedrock ConverseStream arguments (pure, never raises).

Written from OpenAI's API reference (https://platform.openai.com/docs/api-reference/chat/create). Known fields
are validated; a malformed one is a 400 naming it (``param``). Unknown optional fields (``user``, ``seed``,
``metadata``, penalties, ...) are **ignored**: clients such as LiteLLM and LangChain add them freely and strict
rejection would break them.

Mapping to Converse (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html):

* ``system`` / ``developer`` messages → ``system`` text blocks, in order;
* ``user`` content (string, text parts, ``image_url`` parts with a base64 ``data:`` URL) → text / image blocks;
* ``assistant`` content and ``tool_calls`` → text and ``toolUse`` blocks (arguments parsed from JSON);
* ``tool`` messages → ``toolResult`` blocks in a user turn; consecutive turns of one role are merged, because
  Converse needs alternating roles;
* ``max_completion_tokens`` (or the older ``max_tokens``) → ``maxTokens`` within the cap; ``temperature``,
  ``top_p``, ``stop`` → ``inferenceConfig``; ``tools`` / ``tool_choice`` → ``toolConfig``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_stream.model_rules import temperature_and_top_p_exclusive
from bedrock_stream.openai_errors import ApiError, invalid
from bedrock_stream.request import InvalidBody, Limits, json_body
from bedrock_stream.thinking import thinking_conflict, thinking_fields

MAX_MESSAGES = 500
MAX_STOP_SEQUENCES = 4  # OpenAI's limit for ``stop``
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif",
                 "image/webp": "webp"}
# Converse has two roles: tool results travel in a user turn.
_CONVERSE_ROLE = {"user": "user", "tool": "user", "assistant": "assistant"}


@dataclass(frozen=True)
class ModelChoice:
    """Which model ids a client may name: the allowed ids, and an optional alias for the first one."""

    allowed: tuple[str, ...]
    alias: str | None = None

    def names(self) -> tuple[str, ...]:
        return (*self.allowed, self.alias) if self.alias else self.allowed

    def resolve(self, name: str) -> str | None:
        if self.alias is not None and name == self.alias:
            return self.allowed[0]
        return name if name in self.allowed else None


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat completion request: the Converse arguments and how to answer."""

    model: str  # the name the client sent, echoed in every response
    arguments: dict[str, Any]
    stream: bool = False
    include_usage: bool = False


class _Bad(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _fail(message: str, param: str | None, code: str = "invalid_request") -> _Bad:
    return _Bad(invalid(message, param, code))


def _string(value: object, param: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise _fail(f"'{param}' must be a non-empty string", param)
    return value


def _text_parts(content: object, param: str, *, images: bool) -> list[dict[str, Any]]:
    """Content as Converse blocks: a string, or a list of ``text`` (and, for users, ``image_url``) parts."""
    if isinstance(content, str):
        return [{"text": content}] if content.strip() else []
    if not isinstance(content, list):
        raise _fail(f"'{param}' must be a string or a list of content parts", param)
    blocks: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        if not isinstance(part, Mapping):
            raise _fail(f"'{where}' must be an object", where)
        kind = part.get("type")
        if kind in ("text", "refusal"):
            text = _string(part.get(kind), f"{where}.{kind}", allow_empty=True)
            if text.strip():  # Bedrock rejects blank text blocks
                blocks.append({"text": text})
        elif kind == "image_url" and images:
            blocks.append(_image_block(part.get("image_url"), f"{where}.image_url"))
        else:
            allowed = "'text' and 'image_url' (base64 data URL)" if images else "'text'"
            raise _fail(f"'{where}.type' {kind!r} is not supported here; use {allowed} parts", f"{where}.type")
    return blocks


def _image_block(value: object, param: str) -> dict[str, Any]:
    url = value.get("url") if isinstance(value, Mapping) else None
    if not isinstance(url, str) or not url.startswith("data:"):
        raise _fail(f"'{param}.url' must be a base64 data URL (data:image/png;base64,...); remote URLs are not "
                    "fetched", f"{param}.url")
    header, _, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    image_format = IMAGE_FORMATS.get(media_type.strip().lower())
    if image_format is None or encoding.strip().lower() != "base64":
        raise _fail(f"'{param}.url' must be a base64 data URL of a png, jpeg, gif or webp image", f"{param}.url")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"'{param}.url' is not valid base64", f"{param}.url") from None
    if not raw:
        raise _fail(f"'{param}.url' holds no image data", f"{param}.url")
    return {"image": {"format": image_format, "source": {"bytes": raw}}}


def _tool_calls(value: object, param: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _fail(f"'{param}' must be a list", param)
    blocks = []
    for i, call in enumerate(value):
        where = f"{param}[{i}]"
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(function, Mapping):
            raise _fail(f"'{where}' must be an object with 'id' and 'function'", where)
        call_id = _string(call.get("id"), f"{where}.id")
        name = _string(function.get("name"), f"{where}.function.name")
        arguments = function.get("arguments", "{}")
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) and arguments.strip() else {}
        except ValueError:
            raise _fail(f"'{where}.function.arguments' is not valid JSON", f"{where}.function.arguments") from None
        if not isinstance(parsed, dict):
            raise _fail(f"'{where}.function.arguments' must encode a JSON object", f"{where}.function.arguments")
        blocks.append({"toolUse": {"toolUseId": call_id, "name": name, "input": parsed}})
    return blocks


def _tool_result(message: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id = _string(message.get("tool_call_id"), f"{where}.tool_call_id")
    content = _text_parts(message.get("content", ""), f"{where}.content", images=False)
    return {"toolResult": {"toolUseId": call_id, "content": content or [{"text": "(empty)"}]}}


def _conversation(value: object) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """(system blocks, Converse messages) from OpenAI ``messages``."""
    if not isinstance(value, list) or not value:
        raise _fail("'messages' must be a non-empty list", "messages")
    if len(value) > MAX_MESSAGES:
        raise _fail(f"'messages' may hold at most {MAX_MESSAGES} messages", "messages")
    system: list[dict[str, str]] = []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise _fail(f"'{where}' must be an object", where)
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_parts(message.get("content"), f"{where}.content", images=False))
            continue
        if role == "user":
            blocks = _text_parts(message.get("content"), f"{where}.content", images=True)
        elif role == "assistant":
            content = message.get("content")
            blocks = [] if content is None else _text_parts(content, f"{where}.content", images=False)
            if message.get("tool_calls") is not None:
                blocks += _tool_calls(message["tool_calls"], f"{where}.tool_calls")
        elif role == "tool":
            blocks = [_tool_result(message, where)]
        else:
            raise _fail(f"'{where}.role' must be one of system, developer, user, assistant, tool", f"{where}.role")
        if not blocks:
            raise _fail(f"'{where}' has no content", f"{where}.content")
        converse_role = _CONVERSE_ROLE[role]
        if turns and turns[-1]["role"] == converse_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": converse_role, "content": blocks})
    if not turns:
        raise _fail("'messages' needs at least one user message", "messages")
    if turns[0]["role"] != "user":
        raise _fail("the conversation must start with a user message (after any system messages)", "messages")
    return system, turns


def _number(document: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = document.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(f"'{name}' must be a number", name)
    if not low <= value <= high:
        raise _fail(f"'{name}' must be between {low:g} and {high:g} for this model", name)
    return float(value)


def _max_tokens(document: Mapping[str, Any], cap: int) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = document.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(f"'{name}' must be a positive integer", name)
        if value > cap:
            raise _fail(f"'{name}' may be at most {cap} on this API", name, "max_tokens_too_large")
        return int(value)
    return cap


def _stop(value: object) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
        raise _fail("'stop' must be a string or a list of non-empty strings", "stop")
    if len(items) > MAX_STOP_SEQUENCES:
        raise _fail(f"'stop' may hold at most {MAX_STOP_SEQUENCES} sequences", "stop")
    return list(items)


def _tools(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise _fail("'tools' must be a non-empty list", "tools")
    specs = []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(function, Mapping):
            raise _fail(f"'{where}' must be {{'type': 'function', 'function': {{...}}}}", where)
        spec: dict[str, Any] = {"name": _string(function.get("name"), f"{where}.function.name")}
        description = function.get("description")
        if description is not None:
            spec["description"] = _string(description, f"{where}.function.description")
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, Mapping):
            raise _fail(f"'{where}.function.parameters' must be a JSON Schema object", f"{where}.function.parameters")
        spec["inputSchema"] = {"json": dict(parameters)}
        specs.append({"toolSpec": spec})
    return specs


def _tool_choice(value: object, names: Sequence[str]) -> dict[str, Any] | None:
    """Converse ``toolChoice``; None for ``none`` (Converse has no way to forbid tools: they are left out)."""
    if value is None or value == "auto":
        return {"auto": {}}
    if value == "required":
        return {"any": {}}
    if value == "none":
        return None
    function = value.get("function") if isinstance(value, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if not isinstance(name, str):
        raise _fail("'tool_choice' must be 'auto', 'required', 'none' or a named function", "tool_choice")
    if name not in names:
        raise _fail(f"'tool_choice' names '{name}', which is not in 'tools'", "tool_choice")
    return {"tool": {"name": name}}


def _has_tool_blocks(turns: Sequence[Mapping[str, Any]]) -> bool:
    return any("toolUse" in block or "toolResult" in block for turn in turns for block in turn["content"])


def _stream_options(document: Mapping[str, Any], stream: bool) -> bool:
    options = document.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, Mapping):
        raise _fail("'stream_options' must be an object", "stream_options")
    if not stream:
        raise _fail("'stream_options' is only allowed with 'stream': true", "stream_options")
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise _fail("'stream_options.include_usage' must be a boolean", "stream_options.include_usage")
    return include


def _chat_request(document: Mapping[str, Any], models: ModelChoice, cap: int, thinking_budget: int | None
                  ) -> ChatRequest:
    name = document.get("model")
    if not isinstance(name, str) or not name:
        raise _fail("'model' is required: one of " + ", ".join(models.names()), "model")
    model_id = models.resolve(name)
    if model_id is None:
        raise _fail(f"model '{name}' is not available here; use one of: " + ", ".join(models.names()), "model",
                    "model_not_found")
    stream = document.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise _fail("'stream' must be a boolean", "stream")
    if document.get("n") not in (None, 1):
        raise _fail("'n' must be 1: this API returns one choice", "n")
    response_format = document.get("response_format")
    if response_format is not None and (not isinstance(response_format, Mapping)
                                        or response_format.get("type") != "text"):
        raise _fail("'response_format' other than {'type': 'text'} is not supported", "response_format")

    system, turns = _conversation(document.get("messages"))
    inference: dict[str, Any] = {"maxTokens": _max_tokens(document, cap)}
    temperature = _number(document, "temperature", 0.0, 1.0)
    top_p = _number(document, "top_p", 0.0, 1.0)
    if temperature is not None and top_p is not None and temperature_and_top_p_exclusive(model_id):
        raise _fail(f"'temperature' and 'top_p' cannot both be set for model '{name}': send only one of them",
                    "top_p", "conflicting_parameters")
    if temperature is not None:
        inference["temperature"] = temperature
    if top_p is not None:
        inference["topP"] = top_p
    stop = _stop(document.get("stop"))
    if stop:
        inference["stopSequences"] = stop
    arguments: dict[str, Any] = {"modelId": model_id, "messages": turns, "inferenceConfig": inference}
    if system:
        arguments["system"] = system

    tool_choice: dict[str, Any] | None = None
    if document.get("tools") is not None:
        specs = _tools(document["tools"])
        tool_choice = _tool_choice(document.get("tool_choice"), [s["toolSpec"]["name"] for s in specs])
        # Converse needs toolConfig whenever the history holds toolUse/toolResult blocks, even with 'none'.
        if tool_choice is not None or _has_tool_blocks(turns):
            arguments["toolConfig"] = {"tools": specs, "toolChoice": tool_choice or {"auto": {}}}
    elif document.get("tool_choice") not in (None, "none", "auto"):
        raise _fail("'tool_choice' needs 'tools'", "tool_choice")
    elif _has_tool_blocks(turns):
        raise _fail("the conversation holds tool calls: send the 'tools' they came from", "tools")

    if thinking_budget is not None:
        forced = tool_choice is not None and "auto" not in tool_choice
        conflict = thinking_conflict(thinking_budget, inference["maxTokens"], temperature, top_p, forced)
        if conflict is not None:
            raise _fail(conflict[1], conflict[0])
        arguments["additionalModelRequestFields"] = thinking_fields(thinking_budget)
    include_usage = _stream_options(document, stream)
    return ChatRequest(model=name, arguments=arguments, stream=stream, include_usage=include_usage)


def parse_chat_request(event: Mapping[str, Any], limits: Limits, models: ModelChoice,
                       thinking_budget: int | None = None) -> ChatRequest | ApiError:
    """The request in a ``POST /v1/chat/completions`` proxy event, or the 400 to answer; never raises."""
    try:
        try:
            document = json_body(event, limits)
        except InvalidBody as bad:
            raise _fail(bad.message, None, bad.code) from None
        return _chat_request(document, models, limits.max_tokens_cap, thinking_budget)
    except _Bad as bad:
        return bad.error
    except Exception:  # defensive: a parser bug must still produce a defined answer
        return invalid("the request could not be parsed", None)
