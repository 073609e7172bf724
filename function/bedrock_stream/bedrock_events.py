"""Map Bedrock ConverseStream events and failures to what the function sends (pure, no botocore import).

Stream events are the one-key dicts boto3 yields (``contentBlockDelta``, ``messageStop``, ``metadata``, ...).
Failures are classified by the error code botocore reports: a ``ClientError`` from the call itself, or an
``EventStreamError`` raised while iterating (its code is the lower-camel exception member name, e.g.
``throttlingException``), plus botocore's connection/timeout exceptions, recognised by class name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RETRY_AFTER_SECONDS = 2

# Every stopReason ConverseStream documents (StopReason in the Bedrock API reference,
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_MessageStopEvent.html). Informational only:
# the relay passes any non-empty string through unchanged, so a reason AWS adds later reaches the client too.
KNOWN_STOP_REASONS = (
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "malformed_model_output",
    "malformed_tool_use",
    "model_context_window_exceeded",
)
# A messageStop whose stopReason is missing or not a string: the stream still ended, but Bedrock did not say why.
UNKNOWN_STOP_REASON = "unknown"


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning (extended thinking); never part of the answer text."""

    text: str


@dataclass(frozen=True)
class ToolUseStart:
    """A tool-use content block opens: the model calls ``name``; its input follows as JSON fragments."""

    block_index: int
    tool_use_id: str
    name: str


@dataclass(frozen=True)
class ToolUseDelta:
    """The next fragment of a tool call's input JSON (fragments concatenate to one JSON object)."""

    block_index: int
    input_json: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    total_tokens: int
    # Prompt caching: tokens read from / written to the cache (ConverseStream metadata.usage, when present).
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class Stop:
    reason: str


OutputEvent = TextDelta | ReasoningDelta | ToolUseStart | ToolUseDelta | Usage | Stop


@dataclass(frozen=True)
class Failure:
    """How a Bedrock failure is reported: HTTP status before the first byte, code/message always."""

    status: int
    code: str
    message: str
    retryable: bool
    retry_after: int | None = None
    bedrock_code: str = ""


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def map_stream_event(event: Mapping[str, Any]) -> OutputEvent | None:
    """The output event for one ConverseStream event, or None for events we do not relay."""
    delta = event.get("contentBlockDelta")
    if isinstance(delta, Mapping):
        inner = delta.get("delta")
        if isinstance(inner, Mapping):
            text = inner.get("text")
            if isinstance(text, str) and text:
                return TextDelta(text)
            return _other_delta(inner, delta.get("contentBlockIndex"))
        return None
    start = event.get("contentBlockStart")
    if isinstance(start, Mapping):
        opened = start.get("start")
        tool = opened.get("toolUse") if isinstance(opened, Mapping) else None
        if isinstance(tool, Mapping) and isinstance(tool.get("name"), str):
            tool_id = tool.get("toolUseId")
            index = _count(start.get("contentBlockIndex"))
            return ToolUseStart(index, tool_id if isinstance(tool_id, str) else "", tool["name"])
        return None
    stop = event.get("messageStop")
    if isinstance(stop, Mapping):
        reason = stop.get("stopReason")
        # Pass every reason through verbatim (known or not); only a missing/non-string one becomes "unknown".
        return Stop(reason if isinstance(reason, str) and reason.strip() else UNKNOWN_STOP_REASON)
    metadata = event.get("metadata")
    if isinstance(metadata, Mapping):
        usage = metadata.get("usage")
        if isinstance(usage, Mapping):
            input_tokens = _count(usage.get("inputTokens"))
            output_tokens = _count(usage.get("outputTokens"))
            total = usage.get("totalTokens")
            return Usage(input_tokens, output_tokens, _count(total) if total is not None else
                         input_tokens + output_tokens, _count(usage.get("cacheReadInputTokens")),
                         _count(usage.get("cacheWriteInputTokens")))
    return None


def _other_delta(inner: Mapping[str, Any], block_index: object) -> OutputEvent | None:
    """Reasoning and tool-input deltas; citations and reasoning signatures are not relayed."""
    reasoning = inner.get("reasoningContent")
    if isinstance(reasoning, Mapping):
        text = reasoning.get("text")
        return ReasoningDelta(text) if isinstance(text, str) and text else None
    tool = inner.get("toolUse")
    if isinstance(tool, Mapping):
        fragment = tool.get("input")
        if isinstance(fragment, str) and fragment:
            return ToolUseDelta(_count(block_index), fragment)
    return None


def access_denied_message(model_id: str) -> str:
    """What to fix when Bedrock answers AccessDeniedException. The console's "Model access" page is retired:
    serverless models are enabled by default, Anthropic models need the one-time first-time-use form, and the
    first call of a third-party model starts an AWS Marketplace subscription, which fails with AccessDenied
    when the caller lacks aws-marketplace:Subscribe/ViewSubscriptions (Bedrock user guide, "Access Amazon
    Bedrock foundation models", https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html)."""
    return (
        f"the function's role may not invoke model '{model_id}': allow bedrock:InvokeModelWithResponseStream on "
        "the model or inference profile (and its foundation models in every destination region); for an "
        "Anthropic model submit the first-time-use form once per account; then invoke the model once from an "
        "admin principal (console playground or CLI) so the AWS Marketplace subscription is created"
    )


def _normalise(code: str) -> str:
    """``ThrottlingException`` and ``throttlingException`` are the same failure."""
    code = code.strip()
    lowered = code.lower()
    return lowered[: -len("exception")] if lowered.endswith("exception") else lowered


def classify_error_code(code: str, message: str, model_id: str) -> Failure:
    """Map a Bedrock error code (pre-stream or in-stream) to the response the client gets."""
    key = _normalise(code)
    if key in {"throttling", "toomanyrequests", "servicequotaexceeded"}:
        return Failure(429, "throttled", "Bedrock is throttling requests; retry after a short wait",
                       True, RETRY_AFTER_SECONDS, code)
    if key == "validation":
        return Failure(400, "invalid_request", f"Bedrock rejected the request: {message}".strip(),
                       False, None, code)
    if key == "accessdenied":
        return Failure(502, "bedrock_access_denied",
                       access_denied_message(model_id), False, None, code)
    if key == "resourcenotfound":
        return Failure(502, "model_not_found",
                       f"model '{model_id}' was not found: check BEDROCK_MODEL_ID, the region, and whether "
                       "the model needs an inference profile id (e.g. 'us.' prefix)", False, None, code)
    if key in {"unrecognizedclient", "expiredtoken", "invalidsignature", "incompletesignature",
               "missingauthenticationtoken"}:
        return Failure(502, "bedrock_auth_failed",
                       "the function's AWS credentials were rejected by Bedrock", False, None, code)
    if key in {"serviceunavailable", "modeltimeout", "modelnotready"}:
        return Failure(503, "model_unavailable",
                       "the model is temporarily unavailable; retry after a short wait",
                       True, RETRY_AFTER_SECONDS, code)
    if key in {"internalserver", "modelstreamerror", "modelerror"}:
        return Failure(500, "model_error", "the model failed while generating; retry the request",
                       True, None, code)
    return Failure(500, "internal_error", "Bedrock returned an unexpected error", False, None, code)


_CONNECT_ERRORS = {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError",
                   "ProxyConnectionError", "SSLError"}
_READ_TIMEOUTS = {"ReadTimeoutError"}


def classify_exception(exc: BaseException, model_id: str) -> Failure:
    """Classify anything raised while calling Bedrock or iterating its stream."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            code = error.get("Code")
            message = error.get("Message")
            if isinstance(code, str) and code:
                return classify_error_code(code, message if isinstance(message, str) else "", model_id)
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _READ_TIMEOUTS:
        return Failure(504, "model_timeout", "Bedrock stopped sending data; retry the request",
                       True, None, type(exc).__name__)
    if names & _CONNECT_ERRORS:
        return Failure(503, "bedrock_unreachable", "could not connect to Bedrock; retry after a short wait",
                       True, RETRY_AFTER_SECONDS, type(exc).__name__)
    return Failure(500, "internal_error", "the function failed while calling Bedrock",
                   False, None, type(exc).__name__)
