"""Mapping ConverseStream events and botocore failures to what the client gets."""

from __future__ import annotations

import pytest
from bedrock_stream.bedrock_events import (
    Failure,
    ReasoningDelta,
    Stop,
    TextDelta,
    ToolUseDelta,
    ToolUseStart,
    Usage,
    classify_error_code,
    classify_exception,
    map_stream_event,
)
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    EventStreamError,
    ReadTimeoutError,
)

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


def test_text_deltas_usage_and_stop_are_mapped() -> None:
    assert map_stream_event({"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}}) == TextDelta(
        "Hi"
    )
    assert map_stream_event({"messageStop": {"stopReason": "max_tokens"}}) == Stop("max_tokens")
    metadata = {"metadata": {"usage": {"inputTokens": 7, "outputTokens": 3, "totalTokens": 10},
                             "metrics": {"latencyMs": 5}}}
    assert map_stream_event(metadata) == Usage(7, 3, 10)


def test_tool_use_reasoning_and_cache_usage_are_mapped() -> None:
    start = {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "t1", "name": "get"}}, "contentBlockIndex": 2}}
    assert map_stream_event(start) == ToolUseStart(2, "t1", "get")
    fragment = {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"a":'}}, "contentBlockIndex": 2}}
    assert map_stream_event(fragment) == ToolUseDelta(2, '{"a":')
    thought = {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "hmm"}}, "contentBlockIndex": 0}}
    assert map_stream_event(thought) == ReasoningDelta("hmm")
    usage = {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 107,
                                    "cacheReadInputTokens": 60, "cacheWriteInputTokens": 40}}}
    assert map_stream_event(usage) == Usage(3, 4, 107, 60, 40)


def test_total_tokens_is_derived_when_missing() -> None:
    assert map_stream_event({"metadata": {"usage": {"inputTokens": 2, "outputTokens": 5}}}) == Usage(2, 5, 7)


@pytest.mark.parametrize(
    "event",
    [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockStart": {"start": {"image": {}}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": ""}}}},
        {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "c2ln"}}}},
        {"contentBlockDelta": {"delta": {"reasoningContent": {"redactedContent": b"x"}}}},
        {"contentBlockDelta": {"delta": {"citation": {"title": "t"}}}},
        {"contentBlockDelta": {"delta": {"text": ""}}},
        {"contentBlockDelta": "garbage"},
        {"metadata": {"metrics": {"latencyMs": 1}}},
        {"somethingNew": {}},
        {},
    ],
)
def test_events_that_are_not_part_of_the_answer_are_skipped(event: dict[str, object]) -> None:
    assert map_stream_event(event) is None


def test_stop_without_reason_is_unknown() -> None:
    assert map_stream_event({"messageStop": {}}) == Stop("unknown")


def client_error(code: str, message: str = "msg") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "ConverseStream")


@pytest.mark.parametrize(
    ("code", "status", "our_code", "retryable", "retry_after"),
    [
        ("ThrottlingException", 429, "throttled", True, 2),
        ("throttlingException", 429, "throttled", True, 2),
        ("ServiceQuotaExceededException", 429, "throttled", True, 2),
        ("ValidationException", 400, "invalid_request", False, None),
        ("validationException", 400, "invalid_request", False, None),
        ("AccessDeniedException", 502, "bedrock_access_denied", False, None),
        ("ResourceNotFoundException", 502, "model_not_found", False, None),
        ("UnrecognizedClientException", 502, "bedrock_auth_failed", False, None),
        ("ServiceUnavailableException", 503, "model_unavailable", True, 2),
        ("serviceUnavailableException", 503, "model_unavailable", True, 2),
        ("ModelTimeoutException", 503, "model_unavailable", True, 2),
        ("ModelNotReadyException", 503, "model_unavailable", True, 2),
        ("InternalServerException", 500, "model_error", True, None),
        ("modelStreamErrorException", 500, "model_error", True, None),
        ("ModelErrorException", 500, "model_error", True, None),
        ("SomethingElse", 500, "internal_error", False, None),
    ],
)
def test_client_errors_map_to_status_code_and_retry_advice(
    code: str, status: int, our_code: str, retryable: bool, retry_after: int | None
) -> None:
    failure = classify_exception(client_error(code), MODEL)
    assert (failure.status, failure.code, failure.retryable, failure.retry_after) == (
        status, our_code, retryable, retry_after)
    assert failure.bedrock_code == code


def test_in_stream_errors_are_event_stream_errors_and_classified_the_same() -> None:
    exc = EventStreamError({"Error": {"Code": "throttlingException", "Message": "x"}}, "ConverseStream")
    assert classify_exception(exc, MODEL).status == 429


def test_validation_passes_bedrock_message_and_config_errors_say_what_to_fix() -> None:
    assert "Input is too long" in classify_error_code("ValidationException", "Input is too long", MODEL).message
    denied = classify_error_code("AccessDeniedException", "", MODEL).message
    assert "bedrock:InvokeModelWithResponseStream" in denied and MODEL in denied
    assert "BEDROCK_MODEL_ID" in classify_error_code("ResourceNotFoundException", "", MODEL).message


def test_connection_problems_are_classified_by_botocore_exception_class() -> None:
    assert classify_exception(ReadTimeoutError(endpoint_url="https://x"), MODEL) == Failure(
        504, "model_timeout", "Bedrock stopped sending data; retry the request", True, None, "ReadTimeoutError"
    )
    assert classify_exception(EndpointConnectionError(endpoint_url="https://x"), MODEL).status == 503
    assert classify_exception(ConnectTimeoutError(endpoint_url="https://x"), MODEL).status == 503


def test_anything_else_is_a_500_that_does_not_leak_the_exception_text() -> None:
    failure = classify_exception(ValueError("secret prompt text"), MODEL)
    assert failure.status == 500 and "secret" not in failure.message
