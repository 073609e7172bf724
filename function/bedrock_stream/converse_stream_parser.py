"""ConverseStream events from event-stream messages, as botocore's JSON event-stream parser yields them (pure).

For each message: an ``event`` message becomes ``{event_type: parsed payload}`` (unknown event types are
skipped); an ``exception`` or ``error`` message raises :class:`EventStreamError` with botocore's
``{"Error": {"Code", "Message"}}``. Payloads are filtered and converted by the service model's shapes
(:mod:`converse_stream_shapes`): members the model does not name are dropped (Bedrock pads events with a
``p`` field), blobs are base64-decoded, documents pass through, a union must have exactly one member and an
unknown one becomes ``{"SDK_UNKNOWN_MEMBER": {"name": ...}}``. Tests hold this to botocore's output.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from bedrock_stream.bedrock_errors import EventStreamError, ResponseParserError
from bedrock_stream.converse_stream_shapes import SHAPES, STREAM_MEMBERS
from bedrock_stream.eventstream_decoder import HeaderValue


def parse_value(shape_name: str, value: Any) -> Any:
    spec = SHAPES.get(shape_name)
    if spec is None:
        return value  # strings, numbers, booleans: as they came
    kind = spec[0]
    if kind == "structure":
        if value is None:
            return None
        members, is_union = spec[1], spec[2]
        if is_union:
            present = {k: v for k, v in value.items() if k != "__type" and v is not None}
            if len(present) != 1:
                raise ResponseParserError(
                    f"Invalid service response: {shape_name} must have one and only one member set.")
            tag = next(iter(present))
            if all(json_name != tag for _, json_name, _ in members):
                return {"SDK_UNKNOWN_MEMBER": {"name": next(iter(value))}}
        parsed = {}
        for member, json_name, child in members:
            raw = value.get(json_name)
            if raw is not None:
                parsed[member] = parse_value(child, raw)
        return parsed
    if kind == "list":
        return [None if item is None else parse_value(spec[1], item) for item in value]
    if kind == "map":
        return {parse_value(spec[1], k): parse_value(spec[2], v) for k, v in value.items()}
    if kind == "blob":
        return base64.b64decode(value)
    return value  # document


def _json_body(payload: bytes) -> Any:
    if not payload:
        return {}
    text = payload.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text}


def parse_message(headers: Mapping[str, HeaderValue], payload: bytes) -> dict[str, Any] | None:
    """The event for one message, None for a message botocore skips; raises EventStreamError for errors."""
    message_type = headers.get(":message-type")
    if message_type in ("exception", "error"):
        exception_type = headers.get(":exception-type")
        shape = STREAM_MEMBERS.get(exception_type) if isinstance(exception_type, str) else None
        if shape is not None:
            body = parse_value(shape, _json_body(payload))
            error = {"Code": exception_type, "Message": body.get("Message", body.get("message", ""))}
        else:
            error = {"Code": headers.get(":error-code", ""), "Message": headers.get(":error-message", "")}
        raise EventStreamError({"Error": error})
    event_type = headers.get(":event-type")
    shape = STREAM_MEMBERS.get(event_type) if isinstance(event_type, str) else None
    if shape is None:
        return None
    parsed: dict[str, Any] = {}
    parsed.update(parse_value(shape, _json_body(payload)))
    return {event_type: parsed}  # type: ignore[dict-item]
