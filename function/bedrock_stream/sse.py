"""Server-sent events emitted when the client asks for ``Accept: text/event-stream`` (pure).

Event protocol (every event is ``event: <type>`` + one ``data:`` line of compact JSON + a blank line)::

    event: delta    data: {"text": "<next piece of the answer>"}
    event: reasoning data: {"text": "<next piece of the model's reasoning>"}
    event: usage    data: {"input_tokens": 12, "output_tokens": 85, "total_tokens": 97,
                           "cache_read_input_tokens": 0, "cache_write_input_tokens": 0}
    event: done     data: {"stop_reason": "end_turn"}
    event: error    data: {"code": "throttled", "message": "...", "retryable": true}
    event: guardrail data: {"trace": {...}}   (with a guardrail whose trace is enabled; before done)
    : keep-alive    (a comment line, ignored by EventSource clients)

* ``delta`` events arrive in order; concatenating their ``text`` gives the answer.
* ``reasoning`` events (only with extended thinking on) carry the model's reasoning, before the answer;
  they are never part of the answer text.
* ``usage`` comes once, after the last ``delta``, when Bedrock reports token counts.
* ``done`` is the last event of a successful stream. ``stop_reason`` is Bedrock's (``end_turn``,
  ``max_tokens``, ``stop_sequence``, ``guardrail_intervened``, ``content_filtered``, ...) or ``timeout``
  when the function stopped early to finish before its Lambda deadline (the answer is truncated).
* ``error`` is the last event when generation failed after the stream had started; ``retryable`` tells
  whether sending the same request again may succeed. Errors before the stream starts are plain HTTP
  errors instead (4xx/5xx with a JSON body ``{"error": {"code", "message"}}``).
* ``: keep-alive`` comments are sent after ``HEARTBEAT_SECONDS`` of silence so idle timeouts between the
  client and API Gateway do not cut a slow generation.
"""

from __future__ import annotations

import json

HEARTBEAT = b": keep-alive\n\n"
# Built once: json.dumps with non-default options would construct a new encoder for every delta.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _event(name: str, payload: object) -> bytes:
    # JSON escapes CR and LF, so the data always fits on one SSE line.
    data = _JSON.encode(payload)
    # "replace": a lone surrogate (legal in JSON escapes) must not break the stream.
    return f"event: {name}\ndata: {data}\n\n".encode("utf-8", "replace")


def delta_event(text: str) -> bytes:
    return _event("delta", {"text": text})


def reasoning_event(text: str) -> bytes:
    return _event("reasoning", {"text": text})


def usage_event(input_tokens: int, output_tokens: int, total_tokens: int,
                cache_read_tokens: int = 0, cache_write_tokens: int = 0) -> bytes:
    return _event(
        "usage", {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": total_tokens,
                  "cache_read_input_tokens": cache_read_tokens, "cache_write_input_tokens": cache_write_tokens}
    )


def done_event(stop_reason: str) -> bytes:
    return _event("done", {"stop_reason": stop_reason})


def guardrail_event(trace: object) -> bytes:
    """The guardrail's trace (``trace.guardrail`` of Bedrock's metadata), when the stack enables tracing."""
    return _event("guardrail", {"trace": trace})


def error_event(code: str, message: str, retryable: bool) -> bytes:
    return _event("error", {"code": code, "message": message, "retryable": retryable})
