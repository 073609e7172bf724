"""Parse and validate an API Gateway REST (v1) proxy event into a model request (pure, never raises).

Accepted bodies (JSON object, UTF-8, optionally base64-encoded by API Gateway)::

    {"prompt": "..."}
    {"messages": [{"role": "user", "content": "..."}, ...], "system": "...",
     "max_tokens": 512, "temperature": 0.5}

``prompt`` and ``messages`` are mutually exclusive; the optional fields apply to both. ``content`` is a string
or a list of ``{"text": "..."}`` blocks. Roles alternate and start with ``user``. Unknown fields are rejected
so typos do not pass silently. Every problem is **400** with its own ``code`` (a decoded body larger than
``MAX_REQUEST_BYTES`` is ``payload_too_large``). ``max_tokens`` defaults to ``MAX_TOKENS_CAP`` and may not exceed it.
``temperature`` together with ``top_p`` is ``conflicting_parameters`` when the configured model refuses the pair
(:func:`bedrock_stream.model_rules.temperature_and_top_p_exclusive`), so such a request never reaches Bedrock.

The output format comes from the ``Accept`` header: ``text/event-stream`` selects SSE, anything else plain
text.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

OutputFormat = Literal["text", "sse"]

ALLOWED_FIELDS = frozenset({"prompt", "messages", "system", "max_tokens", "temperature", "top_p"})
ROLES = ("user", "assistant")
MAX_MESSAGES = 200


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int
    max_tokens_cap: int
    # The configured model refuses temperature and top_p together (decided once from the model id).
    exclusive_sampling: bool = False


@dataclass(frozen=True)
class ModelRequest:
    """A validated request, already in Converse shape."""

    messages: tuple[dict[str, Any], ...]
    max_tokens: int
    system: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    output_format: OutputFormat = "text"
    origin: str | None = None

    def converse_arguments(self, model_id: str) -> dict[str, Any]:
        inference: dict[str, Any] = {"maxTokens": self.max_tokens}
        if self.temperature is not None:
            inference["temperature"] = self.temperature
        if self.top_p is not None:
            inference["topP"] = self.top_p
        args: dict[str, Any] = {
            "modelId": model_id,
            "messages": [dict(m) for m in self.messages],
            "inferenceConfig": inference,
        }
        if self.system is not None:
            args["system"] = [{"text": self.system}]
        return args


@dataclass(frozen=True)
class Preflight:
    """A CORS preflight (OPTIONS) request."""

    origin: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A request refused before any model call."""

    status: int
    code: str
    message: str
    output_format: OutputFormat = "text"
    origin: str | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)


class _Invalid(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def header(event: Mapping[str, Any], name: str) -> str | None:
    """Case-insensitive header lookup over ``headers`` then ``multiValueHeaders``."""
    wanted = name.lower()
    headers = event.get("headers")
    if isinstance(headers, Mapping):
        for key, value in headers.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
                return value
    multi = event.get("multiValueHeaders")
    if isinstance(multi, Mapping):
        for key, values in multi.items():
            if isinstance(key, str) and key.lower() == wanted and isinstance(values, list):
                strings = [v for v in values if isinstance(v, str)]
                if strings:
                    return ", ".join(strings)
    return None


def output_format_for(accept: str | None) -> OutputFormat:
    """SSE when ``text/event-stream`` is acceptable (q > 0); plain text otherwise."""
    if not accept:
        return "text"
    for media_range in accept.split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        if media_type.lower() != "text/event-stream":
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return "sse"
    return "text"


def _reject_constant(name: str) -> Any:
    raise _Invalid("invalid_json", f"body is not valid JSON: {name} is not allowed")


def _decode_body(event: Mapping[str, Any], limits: Limits) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        raise _Invalid("missing_body", "request body is required: a JSON object with 'prompt' or 'messages'")
    if not isinstance(body, str):
        raise _Invalid("invalid_body", "request body must be a string")
    # 400 like every other invalid request (the API's contract); the code tells it apart.
    too_large = _Invalid("payload_too_large", f"request body exceeds {limits.max_request_bytes} bytes")
    if event.get("isBase64Encoded") is True:
        # Reject before decoding: base64 never shrinks below 3/4 of its length.
        if (len(body) // 4) * 3 - 2 > limits.max_request_bytes:
            raise too_large
        try:
            raw = base64.b64decode(body.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise _Invalid("invalid_body", "request body is marked base64 but is not valid base64") from None
    else:
        if len(body) > limits.max_request_bytes:  # each character is at least one UTF-8 byte
            raise too_large
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise _Invalid("invalid_body", "request body is not valid UTF-8") from None
    if len(raw) > limits.max_request_bytes:
        raise too_large
    return raw


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("invalid_body", "request body is not valid UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except _Invalid:
        raise
    except (ValueError, RecursionError):
        raise _Invalid("invalid_json", "request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise _Invalid("invalid_request", "request body must be a JSON object")
    return document


# Public names for other protocols on the same function (the OpenAI-compatible routes): same body rules.
InvalidBody = _Invalid


def json_body(event: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The request body as a JSON object (base64, size and UTF-8 rules as above); raises :class:`InvalidBody`."""
    return _parse_json(_decode_body(event, limits))


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_request", f"'{where}' must be a string")
    if not value.strip():
        raise _Invalid("invalid_request", f"'{where}' must not be empty")
    return value


def _content_blocks(value: object, where: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"text": _text(value, where)}]
    if not isinstance(value, list) or not value:
        raise _Invalid("invalid_request", f"'{where}' must be a non-empty string or list of text blocks")
    blocks = []
    for i, block in enumerate(value):
        if not isinstance(block, dict) or set(block) != {"text"}:
            raise _Invalid("invalid_request", f"'{where}[{i}]' must be an object with only a 'text' field")
        blocks.append({"text": _text(block["text"], f"{where}[{i}].text")})
    return blocks


def _messages(value: object) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("invalid_request", "'messages' must be a non-empty list")
    if len(value) > MAX_MESSAGES:
        raise _Invalid("invalid_request", f"'messages' may hold at most {MAX_MESSAGES} turns")
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _Invalid("invalid_request", f"'{where}' must be an object")
        unknown = set(message) - {"role", "content"}
        if unknown:
            raise _Invalid("invalid_request", f"'{where}' has unknown field '{sorted(unknown)[0]}'")
        role = message.get("role")
        if role not in ROLES:
            raise _Invalid("invalid_request", f"'{where}.role' must be 'user' or 'assistant'")
        expected = ROLES[i % 2]
        if role != expected:
            raise _Invalid(
                "invalid_request", f"'{where}.role' must be '{expected}': turns alternate, starting with 'user'"
            )
        if "content" not in message:
            raise _Invalid("invalid_request", f"'{where}.content' is required")
        turns.append({"role": role, "content": _content_blocks(message["content"], f"{where}.content")})
    return tuple(turns)


def _unit_interval(document: Mapping[str, Any], name: str) -> float | None:
    if name not in document or document[name] is None:
        return None
    value = document[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid("invalid_request", f"'{name}' must be a number between 0 and 1")
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise _Invalid("invalid_request", f"'{name}' must be between 0 and 1")
    return number


def _max_tokens(document: Mapping[str, Any], cap: int) -> int:
    if "max_tokens" not in document or document["max_tokens"] is None:
        return cap
    value: object = document["max_tokens"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("invalid_request", "'max_tokens' must be an integer")
    if value < 1:
        raise _Invalid("invalid_request", "'max_tokens' must be at least 1")
    if value > cap:
        raise _Invalid("max_tokens_too_large", f"'max_tokens' may be at most {cap}")
    return value


def _model_request(event: Mapping[str, Any], limits: Limits) -> ModelRequest:
    document = _parse_json(_decode_body(event, limits))
    unknown = set(document) - ALLOWED_FIELDS
    if unknown:
        raise _Invalid("invalid_request", f"unknown field '{sorted(unknown)[0]}'")
    has_prompt = "prompt" in document
    has_messages = "messages" in document
    if has_prompt == has_messages:
        raise _Invalid("invalid_request", "send exactly one of 'prompt' or 'messages'")
    if has_prompt:
        messages: tuple[dict[str, Any], ...] = (
            {"role": "user", "content": [{"text": _text(document["prompt"], "prompt")}]},
        )
    else:
        messages = _messages(document["messages"])
    system = None
    if document.get("system") is not None:
        system = _text(document["system"], "system")
    temperature = _unit_interval(document, "temperature")
    top_p = _unit_interval(document, "top_p")
    if limits.exclusive_sampling and temperature is not None and top_p is not None:
        raise _Invalid(
            "conflicting_parameters",
            "'temperature' and 'top_p' cannot both be set for the configured model: send only one of them",
        )
    return ModelRequest(
        messages=messages,
        max_tokens=_max_tokens(document, limits.max_tokens_cap),
        system=system,
        temperature=temperature,
        top_p=top_p,
    )


def parse_event(event: object, limits: Limits) -> ModelRequest | Preflight | Rejection:
    """Turn any input into a request, a preflight, or a rejection; never raises."""
    try:
        if not isinstance(event, Mapping):
            return Rejection(400, "invalid_event", "the invocation event is not an API Gateway proxy event")
        origin = header(event, "origin")
        output_format = output_format_for(header(event, "accept"))
        method = event.get("httpMethod")
        method = method.upper() if isinstance(method, str) else "POST"
        if method == "OPTIONS":
            return Preflight(origin=origin)
        if method != "POST":
            return Rejection(
                405, "method_not_allowed", "use POST", output_format, origin, {"Allow": "POST, OPTIONS"}
            )
        try:
            request = _model_request(event, limits)
        except _Invalid as invalid:
            return Rejection(invalid.status, invalid.code, invalid.message, output_format, origin)
        return replace(request, output_format=output_format, origin=origin)
    except Exception:  # defensive: a parser bug must still produce a defined answer
        return Rejection(400, "invalid_request", "the request could not be parsed")
