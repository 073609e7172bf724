"""The OpenAI-compatible routes of the function: ``POST .../v1/chat/completions`` and ``GET .../v1/models``.

The I/O shell around :mod:`openai_request` and :mod:`openai_stream`, with the same late status commit as the
native route: a streamed answer starts (200, ``text/event-stream``) with its first chunk, so a failure before it
gets its own status and OpenAI's error body; after it, a ``data: {"error": ...}`` line ends the stream (the SDKs
raise on it). A non-streamed answer is sent whole at the end, so every failure there keeps its status.
SSE heartbeats stay comment lines, which the SDKs skip.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from bedrock_stream import sse
from bedrock_stream.bedrock_call import BedrockCall
from bedrock_stream.bedrock_events import (
    Failure,
    ReasoningDelta,
    Stop,
    TextDelta,
    ToolUseDelta,
    ToolUseStart,
    Usage,
    classify_exception,
    map_stream_event,
)
from bedrock_stream.config import FunctionConfig
from bedrock_stream.contract import InvocationContext, ResponseStream
from bedrock_stream.cors import cors_headers, preflight_headers
from bedrock_stream.guardrail import with_guardrail
from bedrock_stream.metering import with_request_metadata
from bedrock_stream.observability import InvocationRecord
from bedrock_stream.openai_errors import ApiError, from_failure
from bedrock_stream.openai_request import ChatRequest, ModelChoice, parse_chat_request
from bedrock_stream.openai_stream import ChunkEncoder, CompletionBuilder, models_body
from bedrock_stream.request import Limits, header

Route = Literal["chat", "models"]
CHAT_SUFFIX = "/v1/chat/completions"
MODELS_SUFFIX = "/v1/models"
SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
_INCOMPLETE = Failure(502, "incomplete_stream", "Bedrock ended the stream without a stop reason; retry the request",
                      True, None, "IncompleteStream")
_Piece = TextDelta | ReasoningDelta | ToolUseStart | ToolUseDelta


def openai_route(event: object) -> Route | None:
    """Which OpenAI route a proxy event is for, from its ``resource`` (any path prefix); None: the native one."""
    if not isinstance(event, Mapping):
        return None
    resource = event.get("resource")
    if not isinstance(resource, str):
        resource = event.get("path")
    if not isinstance(resource, str):
        return None
    if resource.endswith(CHAT_SUFFIX):
        return "chat"
    if resource.endswith(MODELS_SUFFIX):
        return "models"
    return None


class OpenAIRoutes:
    """Serves one invocation of an OpenAI route; the caller owns the record and its log lines."""

    def __init__(self, config: FunctionConfig, get_client: Callable[[], Any],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.get_client = get_client
        self.clock = clock
        self.limits = Limits(config.max_request_bytes, config.max_tokens_cap)
        self.models = ModelChoice(config.openai_model_ids or (config.model_id,), config.openai_model_alias)

    def serve(self, route: Route, event: Mapping[str, Any], context: InvocationContext, stream: ResponseStream,
              record: InvocationRecord, started_at: float) -> None:
        origin = header(event, "origin")
        cors = cors_headers(self.config.allowed_origins, origin)
        method = event.get("httpMethod")
        method = method.upper() if isinstance(method, str) else ""
        record.output_format = "openai"
        if method == "OPTIONS":
            record.status = 204
            stream.start(204, preflight_headers(self.config.allowed_origins, origin))
            return
        allowed = "POST" if route == "chat" else "GET"
        if method != allowed:
            self._error(stream, cors, record, ApiError(405, "method_not_allowed", f"use {allowed}",
                                                       extra_headers={"Allow": f"{allowed}, OPTIONS"}))
            return
        if route == "models":
            record.status = 200
            stream.start(200, {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store", **cors})
            stream.write(models_body(self.models.names(), int(time.time())))
            return
        parsed = parse_chat_request(event, self.limits, self.models, self.config.thinking_budget_tokens)
        if isinstance(parsed, ApiError):
            self._error(stream, cors, record, parsed)
            return
        record.model = parsed.arguments["modelId"]
        record.output_format = "openai-sse" if parsed.stream else "openai-json"
        deadline = self.clock() + (context.remaining_ms() - self.config.deadline_margin_ms) / 1000
        try:
            client = self.get_client()
        except Exception as exc:
            record.bedrock_error = type(exc).__name__
            self._error(stream, cors, record, ApiError(
                500, "function_init_failed", "the function could not create its Bedrock client; see its logs"))
            return
        # The stack's guardrail applies here too (its trace has no place in OpenAI's protocol).
        arguments = with_guardrail(with_request_metadata(parsed.arguments, record.client), self.config.guardrail)
        call = BedrockCall(client, arguments)
        try:
            if parsed.stream:
                self._stream(call, parsed, stream, cors, record, started_at, deadline)
            else:
                self._complete(call, parsed, stream, cors, record, started_at, deadline)
        finally:
            call.close()

    # -- responses ---------------------------------------------------------------------------------------------

    @staticmethod
    def _error(stream: ResponseStream, cors: Mapping[str, str], record: InvocationRecord, error: ApiError) -> None:
        """A complete error response; only possible before anything was sent."""
        record.status = error.status
        record.error_code = error.code
        stream.start(error.status, {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store", **cors,
                                    **error.headers()})
        stream.write(error.body())

    def _next(self, call: BedrockCall, until: float) -> tuple[str, object] | None:
        wait = until - self.clock()
        if wait <= 0:
            return None
        try:
            return call.items.get(timeout=wait)
        except queue.Empty:
            return None

    def _stream(self, call: BedrockCall, request: ChatRequest, stream: ResponseStream, cors: Mapping[str, str],
                record: InvocationRecord, started_at: float, deadline: float) -> None:
        encoder = ChunkEncoder(_completion_id(), int(time.time()), request.model, request.include_usage)
        heartbeat = self.config.heartbeat_seconds
        last_write = self.clock()

        def write(data: bytes) -> None:
            nonlocal last_write
            if not stream.started:
                record.status = 200
                stream.start(200, {"Content-Type": SSE_CONTENT_TYPE, "Cache-Control": "no-cache",
                                   "X-Content-Type-Options": "nosniff", **cors})
            stream.write(data)
            last_write = self.clock()

        def fail(failure: Failure) -> None:
            record.bedrock_error = failure.bedrock_code or None
            error = from_failure(failure)
            if stream.started:
                record.error_code = error.code
                stream.write(error.stream_line())
            else:
                self._error(stream, cors, record, error)

        while True:
            item = self._next(call, min(deadline, last_write + heartbeat))
            if item is None:
                if self.clock() >= deadline:
                    record.timed_out = True
                    record.stop_reason = "timeout"
                    call.close()
                    if not stream.started:
                        self._error(stream, cors, record, ApiError(
                            504, "timeout", "the model did not answer before the function's time limit", None, True))
                    else:
                        write(encoder.finish("timeout") + encoder.end())
                    return
                write(sse.HEARTBEAT)
                continue
            kind, payload = item
            if kind == "event":
                assert isinstance(payload, Mapping)
                mapped = map_stream_event(payload)
                if mapped is None:
                    continue
                if isinstance(mapped, Usage):
                    encoder.usage = mapped
                    record.input_tokens = mapped.input_tokens
                    record.output_tokens = mapped.output_tokens
                    record.cache_read_tokens = mapped.cache_read_tokens
                    record.cache_write_tokens = mapped.cache_write_tokens
                elif isinstance(mapped, Stop):
                    record.stop_reason = mapped.reason
                    write(encoder.finish(mapped.reason))
                else:
                    if record.ttft_ms is None:
                        record.ttft_ms = (self.clock() - started_at) * 1000
                    record.deltas += 1
                    write(encoder.feed(mapped))
            elif kind == "end":
                if encoder.stop_reason is None:
                    fail(_INCOMPLETE)
                    return
                write(encoder.end())
                return
            else:
                assert isinstance(payload, BaseException)
                fail(classify_exception(payload, str(request.arguments["modelId"])))
                return

    def _complete(self, call: BedrockCall, request: ChatRequest, stream: ResponseStream, cors: Mapping[str, str],
                  record: InvocationRecord, started_at: float, deadline: float) -> None:
        builder = CompletionBuilder(_completion_id(), int(time.time()), request.model)
        while True:
            item = self._next(call, deadline)
            if item is None:
                record.timed_out = True
                record.stop_reason = "timeout"
                call.close()
                if not (builder.text or builder.tool_calls):
                    self._error(stream, cors, record, ApiError(
                        504, "timeout", "the model did not answer before the function's time limit", None, True))
                    return
                builder.stop_reason = "timeout"
                break
            kind, payload = item
            if kind == "event":
                assert isinstance(payload, Mapping)
                mapped = map_stream_event(payload)
                if isinstance(mapped, Usage):
                    builder.usage = mapped
                    record.input_tokens = mapped.input_tokens
                    record.output_tokens = mapped.output_tokens
                    record.cache_read_tokens = mapped.cache_read_tokens
                    record.cache_write_tokens = mapped.cache_write_tokens
                elif isinstance(mapped, Stop):
                    builder.stop_reason = record.stop_reason = mapped.reason
                elif mapped is not None:
                    if record.ttft_ms is None:
                        record.ttft_ms = (self.clock() - started_at) * 1000
                    record.deltas += 1
                    builder.feed(mapped)
            elif kind == "end":
                if builder.stop_reason is None:
                    record.bedrock_error = _INCOMPLETE.bedrock_code
                    self._error(stream, cors, record, from_failure(_INCOMPLETE))
                    return
                break
            else:
                assert isinstance(payload, BaseException)
                failure = classify_exception(payload, str(request.arguments["modelId"]))
                record.bedrock_error = failure.bedrock_code or None
                self._error(stream, cors, record, from_failure(failure))
                return
        record.status = 200
        stream.start(200, {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store", **cors})
        stream.write(builder.body())


def _completion_id() -> str:
    # os.urandom rather than uuid: uuid pulls platform in at import, which the cold path avoids.
    return "chatcmpl-" + os.urandom(16).hex()
