"""The streaming handler logic: validate, call Bedrock, relay its output, account for the invocation.

Status is committed late: the response metadata goes out with the first piece of output, so every failure
before that still gets its own HTTP status (429, 400, 502, 503, ...). After that, failures are reported in
band: an SSE ``error`` event, or the Runtime API error trailers for plain text.
"""

from __future__ import annotations

import json
import queue
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from bedrock_stream import sse
from bedrock_stream.bedrock_call import BedrockCall
from bedrock_stream.bedrock_events import (
    Failure,
    ReasoningDelta,
    Stop,
    TextDelta,
    Usage,
    classify_exception,
    map_stream_event,
)
from bedrock_stream.config import FunctionConfig
from bedrock_stream.contract import ClientDisconnected, InvocationContext, ResponseStream
from bedrock_stream.cors import cors_headers, preflight_headers
from bedrock_stream.guardrail import guardrail_trace, with_guardrail
from bedrock_stream.metering import client_emf_line, client_for, with_request_metadata
from bedrock_stream.model_rules import temperature_and_top_p_exclusive
from bedrock_stream.observability import InvocationRecord, emf_line, log_line
from bedrock_stream.openai_relay import OpenAIRoutes, openai_route
from bedrock_stream.request import Limits, ModelRequest, OutputFormat, Preflight, Rejection, parse_event
from bedrock_stream.thinking import thinking_conflict, thinking_fields

TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"


def write_stdout_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")).encode()


class _Output:
    """Writes one response; starts it with status 200 on the first output and tracks write times."""

    def __init__(
        self, stream: ResponseStream, fmt: OutputFormat, cors: Mapping[str, str],
        record: InvocationRecord, clock: Callable[[], float],
    ) -> None:
        self.stream = stream
        self.fmt = fmt
        self.cors = cors
        self.record = record
        self.clock = clock
        self.last_write = clock()

    def _ensure_started(self) -> None:
        if not self.stream.started:
            content_type = SSE_CONTENT_TYPE if self.fmt == "sse" else TEXT_CONTENT_TYPE
            cache = "no-cache" if self.fmt == "sse" else "no-store"
            headers = {"Content-Type": content_type, "Cache-Control": cache,
                       "X-Content-Type-Options": "nosniff", **self.cors}
            self.stream.start(200, headers)
            self.record.status = 200

    def write(self, data: bytes) -> None:
        self._ensure_started()
        self.stream.write(data)
        self.last_write = self.clock()

    def finish(self) -> None:
        self._ensure_started()

    def error_response(self, status: int, code: str, message: str,
                       extra_headers: Mapping[str, str] | None = None) -> None:
        """A complete JSON error response; only possible before anything was sent."""
        headers = {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store", **self.cors}
        if extra_headers:
            headers.update(extra_headers)
        self.record.status = status
        self.record.error_code = code
        self.stream.start(status, headers)
        self.stream.write(error_body(code, message))

    def failure(self, failure: Failure) -> None:
        self.record.bedrock_error = failure.bedrock_code or None
        if not self.stream.started:
            retry = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
            self.error_response(failure.status, failure.code, failure.message, retry)
            return
        self.record.error_code = failure.code
        if self.fmt == "sse":
            self.stream.write(sse.error_event(failure.code, failure.message, failure.retryable))
        else:
            self.stream.fail(failure.code, failure.message)


class Relay:
    """``Relay(config, get_client)(event, context, stream)`` serves one invocation; never raises for
    request or Bedrock problems (only a broken ResponseStream implementation can make it raise)."""

    def __init__(
        self,
        config: FunctionConfig,
        get_client: Callable[[], Any],
        emit: Callable[[str], None] = write_stdout_line,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.get_client = get_client
        self.emit = emit
        self.clock = clock
        self.limits = Limits(config.max_request_bytes, config.max_tokens_cap,
                             temperature_and_top_p_exclusive(config.model_id))
        self.openai = OpenAIRoutes(config, get_client, clock)

    def __call__(self, event: object, context: InvocationContext, stream: ResponseStream) -> None:
        started_at = self.clock()
        record = InvocationRecord(request_id=context.request_id, model=self.config.model_id)
        record.client = client_for(event, self.config.client_key_ids)
        try:
            self._serve(event, context, stream, record, started_at)
        except ClientDisconnected:
            record.disconnected = True
        finally:
            record.duration_ms = (self.clock() - started_at) * 1000
            self.emit(log_line(record))
            now_ms = int(time.time() * 1000)
            namespace, function_name = self.config.metrics_namespace, self.config.function_name
            self.emit(emf_line(record, namespace, now_ms, function_name))
            per_client = client_emf_line(record, namespace, now_ms, function_name)
            if per_client is not None:
                self.emit(per_client)

    def _serve(self, event: object, context: InvocationContext, stream: ResponseStream,
               record: InvocationRecord, started_at: float) -> None:
        route = openai_route(event)
        if route is not None:
            assert isinstance(event, Mapping)
            self.openai.serve(route, event, context, stream, record, started_at)
            return
        parsed = parse_event(event, self.limits)
        if isinstance(parsed, Preflight):
            record.status = 204
            stream.start(204, preflight_headers(self.config.allowed_origins, parsed.origin))
            return
        record.output_format = parsed.output_format
        out = _Output(stream, parsed.output_format,
                      cors_headers(self.config.allowed_origins, parsed.origin), record, self.clock)
        if isinstance(parsed, Rejection):
            out.error_response(parsed.status, parsed.code, parsed.message, parsed.extra_headers)
            return
        arguments = parsed.converse_arguments(self.config.model_id)
        budget = self.config.thinking_budget_tokens
        if budget is not None:
            conflict = thinking_conflict(budget, parsed.max_tokens, parsed.temperature, parsed.top_p)
            if conflict is not None:
                out.error_response(400, "invalid_request", conflict[1])
                return
            arguments["additionalModelRequestFields"] = thinking_fields(budget)
        # remaining_ms() and clock() are read together so the monotonic deadline matches Lambda's.
        deadline = self.clock() + (context.remaining_ms() - self.config.deadline_margin_ms) / 1000
        try:
            client = self.get_client()
        except Exception as exc:
            record.bedrock_error = type(exc).__name__
            out.error_response(500, "function_init_failed",
                               "the function could not create its Bedrock client; see the function logs")
            return
        arguments = with_request_metadata(arguments, record.client)
        arguments = with_guardrail(arguments, self.config.guardrail)
        call = BedrockCall(client, arguments)
        try:
            self._relay(call, out, parsed, record, started_at, deadline)
        finally:
            call.close()

    def _relay(self, call: BedrockCall, out: _Output, request: ModelRequest, record: InvocationRecord,
               started_at: float, deadline: float) -> None:
        sse_mode = request.output_format == "sse"
        heartbeat = self.config.heartbeat_seconds
        stop_reason: str | None = None
        while True:
            now = self.clock()
            wait = deadline - now
            if sse_mode:
                wait = min(wait, out.last_write + heartbeat - now)
            try:
                if wait <= 0:
                    raise queue.Empty
                item = call.items.get(timeout=wait)
            except queue.Empty:
                if self.clock() >= deadline:
                    self._deadline_reached(call, out, record)
                    return
                out.write(sse.HEARTBEAT)
                continue
            kind, payload = item
            if kind == "event":
                assert isinstance(payload, Mapping)
                mapped = map_stream_event(payload)
                guardrail = self.config.guardrail
                trace = guardrail_trace(payload) if sse_mode and guardrail is not None and guardrail.traced else None
                if trace is not None:
                    out.write(sse.guardrail_event(trace))
                if isinstance(mapped, TextDelta):
                    if record.ttft_ms is None:
                        record.ttft_ms = (self.clock() - started_at) * 1000
                    record.deltas += 1
                    out.write(sse.delta_event(mapped.text) if sse_mode else mapped.text.encode("utf-8", "replace"))
                elif isinstance(mapped, Usage):
                    record.input_tokens = mapped.input_tokens
                    record.output_tokens = mapped.output_tokens
                    record.cache_read_tokens = mapped.cache_read_tokens
                    record.cache_write_tokens = mapped.cache_write_tokens
                    if sse_mode:
                        out.write(sse.usage_event(mapped.input_tokens, mapped.output_tokens, mapped.total_tokens,
                                                  mapped.cache_read_tokens, mapped.cache_write_tokens))
                elif isinstance(mapped, ReasoningDelta):
                    if sse_mode:  # plain text carries only the answer
                        out.write(sse.reasoning_event(mapped.text))
                elif isinstance(mapped, Stop):
                    stop_reason = mapped.reason
            elif kind == "end":
                if stop_reason is None:
                    out.failure(Failure(502, "incomplete_stream",
                                        "Bedrock ended the stream without a stop reason; retry the request",
                                        True, None, "IncompleteStream"))
                    return
                record.stop_reason = stop_reason
                if sse_mode:
                    out.write(sse.done_event(stop_reason))
                out.finish()
                return
            else:
                assert isinstance(payload, BaseException)
                out.failure(classify_exception(payload, self.config.model_id))
                return

    def _deadline_reached(self, call: BedrockCall, out: _Output, record: InvocationRecord) -> None:
        call.close()
        record.timed_out = True
        record.stop_reason = "timeout"
        if not out.stream.started:
            out.error_response(504, "timeout", "the model did not answer before the function's time limit")
        elif out.fmt == "sse":
            out.write(sse.done_event("timeout"))
