"""End to end: every error class before and after the first byte, and malformed requests."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streaming_bedrock_local.bedrock_standin import BeforeStreamFault, MidStreamFault
from streaming_bedrock_local.runtime_invocation import decode_error_trailers

from tests.function.fn_integration_harness import (
    MAX_TOKENS_CAP,
    FunctionResponse,
    Harness,
    expected_answer,
    parse_sse,
    prompt_event,
    proxy_event,
    split_response,
    sse_event,
)

PROMPT = "What is a token?"

# The mapping of Bedrock failures that happen before the first byte to HTTP statuses.
PRE_STREAM_STATUS = {
    "ThrottlingException": 429,
    "ValidationException": 400,
    "AccessDeniedException": 502,
    "ResourceNotFoundException": 502,
    "ServiceUnavailableException": 503,
    "ModelTimeoutException": 503,
    "ModelNotReadyException": 503,
    "InternalServerException": 500,
    "ModelErrorException": 500,
}
IN_STREAM_STATUS = {
    "throttlingException": 429,
    "validationException": 400,
    "serviceUnavailableException": 503,
    "internalServerException": 500,
    "modelStreamErrorException": 500,
}
RETRYABLE = {
    "throttlingException": True,
    "validationException": False,
    "serviceUnavailableException": True,
    "internalServerException": True,
    "modelStreamErrorException": True,
}


def assert_json_error(response: FunctionResponse, status: int) -> dict[str, Any]:
    assert response.result.mode == "streaming" and response.result.complete, response.result
    assert response.status == status, (response.status, response.payload[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])


@pytest.mark.parametrize("error_type", sorted(PRE_STREAM_STATUS))
def test_bedrock_errors_before_the_stream_get_their_status(fn: Harness, error_type: str) -> None:
    # Server-wide, because the function's client may retry retryable errors.
    fn.standin.fault = BeforeStreamFault(error_type, "stand-in says no")
    invocation = fn.invoke(prompt_event(PROMPT))
    response = split_response(invocation.wait(30))
    error = assert_json_error(response, PRE_STREAM_STATUS[error_type])
    if error_type == "ThrottlingException":
        assert int(response.headers["retry-after"]) >= 1
    if error_type in ("AccessDeniedException", "ResourceNotFoundException"):
        # Actionable: the operator is told which model id is at fault.
        assert "jp.anthropic.claude-haiku-4-5-20251001-v1:0" in error["message"]
    calls = fn.model_calls_so_far()
    assert calls and all(c.outcome == "error_before_stream" for c in calls)
    log = fn.log_for(invocation.request_id)
    assert log["status"] == PRE_STREAM_STATUS[error_type] and log["error_code"] == error["code"]


@pytest.mark.parametrize("exception_type", sorted(IN_STREAM_STATUS))
def test_stream_exception_before_any_text_gets_a_status(fn: Harness, exception_type: str) -> None:
    fn.standin.push_fault(MidStreamFault(exception_type, after_deltas=0))
    response = fn.call(prompt_event(PROMPT, sse=True))
    assert_json_error(response, IN_STREAM_STATUS[exception_type])
    if exception_type == "throttlingException":
        assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("exception_type", sorted(IN_STREAM_STATUS))
def test_stream_exception_after_text_is_an_sse_error_event(fn: Harness, exception_type: str) -> None:
    fn.standin.push_fault(MidStreamFault(exception_type, after_deltas=3, message="broke"))
    response = fn.call(prompt_event(PROMPT, sse=True))
    assert response.status == 200 and response.result.complete and response.result.trailers == {}
    answer = expected_answer(PROMPT)
    expected_prefix = b"".join(sse_event("delta", {"text": t}) for t in answer.chunks[:3])
    assert response.payload.startswith(expected_prefix)
    events = parse_sse(response.payload[len(expected_prefix) :])
    assert len(events) == 1 and events[0][0] == "error", events
    error = events[0][1]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["retryable"] is RETRYABLE[exception_type]


@pytest.mark.parametrize("exception_type", sorted(IN_STREAM_STATUS))
def test_stream_exception_after_text_ends_plain_text_with_error_trailers(fn: Harness, exception_type: str) -> None:
    fn.standin.push_fault(MidStreamFault(exception_type, after_deltas=3))
    response = fn.call(prompt_event(PROMPT))
    assert response.status == 200
    # The text already sent stays exactly what the model said; no "Error: ..." is appended to it.
    assert response.payload == "".join(expected_answer(PROMPT).chunks[:3]).encode()
    assert response.result.complete  # the terminating chunk came, carrying the trailers
    error_type, error_body = decode_error_trailers(response.result.trailers)
    assert error_type and isinstance(error_body, dict)
    assert error_body["errorType"] == error_type and error_body["errorMessage"]


def test_bedrock_unreachable_is_a_clean_error(fresh_harness: Harness) -> None:
    port = fresh_harness.standin.port
    fresh_harness.standin.stop()  # nothing listens there any more
    fresh_harness.env_overrides["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = f"http://127.0.0.1:{port}"
    fresh_harness.start_function()
    response = fresh_harness.call(prompt_event(PROMPT), wait=60)
    assert_json_error(response, 503)


def raw_event(body: bytes) -> dict[str, Any]:
    return proxy_event(base64.b64encode(body).decode(), base64_body=False) | {"isBase64Encoded": True}


MALFORMED: list[tuple[str, dict[str, Any] | bytes, int]] = [
    ("not json", proxy_event("this is not json"), 400),
    ("json array", proxy_event("[1, 2]"), 400),
    ("empty object", proxy_event("{}"), 400),
    ("no body", proxy_event(None), 400),
    ("empty prompt", proxy_event('{"prompt": ""}'), 400),
    ("prompt not a string", proxy_event('{"prompt": 5}'), 400),
    ("prompt and messages", proxy_event('{"prompt": "x", "messages": [{"role": "user", "content": "y"}]}'), 400),
    ("empty messages", proxy_event('{"messages": []}'), 400),
    ("starts with assistant", proxy_event('{"messages": [{"role": "assistant", "content": "x"}]}'), 400),
    ("unknown role", proxy_event('{"messages": [{"role": "system", "content": "x"}]}'), 400),
    ("content wrong type", proxy_event('{"messages": [{"role": "user", "content": 7}]}'), 400),
    ("max_tokens over cap", proxy_event(json.dumps({"prompt": "x", "max_tokens": MAX_TOKENS_CAP + 1})), 400),
    ("max_tokens zero", proxy_event('{"prompt": "x", "max_tokens": 0}'), 400),
    ("max_tokens not int", proxy_event('{"prompt": "x", "max_tokens": "many"}'), 400),
    ("temperature out of range", proxy_event('{"prompt": "x", "temperature": 5}'), 400),
    ("top_p out of range", proxy_event('{"prompt": "x", "top_p": -0.1}'), 400),
    ("unknown field", proxy_event('{"prompt": "x", "promt": "typo"}'), 400),
    ("bad base64", proxy_event("%%%not-base64%%%") | {"isBase64Encoded": True}, 400),
    ("base64 of invalid utf-8", raw_event(b"\xff\xfe{"), 400),
    ("event not an object", b'"just a string"', 400),
    ("event not json", b"\x00garbage", 400),
    ("body over MAX_REQUEST_BYTES", proxy_event(json.dumps({"prompt": "x" * (1024 * 1024 + 10)})), 400),
]


@pytest.mark.parametrize(("name", "event", "status"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_requests_are_refused_before_any_model_call(
    fn: Harness, name: str, event: dict[str, Any] | bytes, status: int
) -> None:
    invocation = fn.invoke(event)
    response = split_response(invocation.wait(10))
    assert_json_error(response, status)
    assert fn.model_calls_so_far() == [], name
    assert fn.log_for(invocation.request_id)["status"] == status


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
request_like = st.fixed_dictionaries(
    {},
    optional={
        "prompt": json_values | st.text(max_size=30),
        "messages": st.lists(
            st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "x"]), "content": json_values}),
            max_size=3,
        )
        | json_values,
        "system": json_values,
        "max_tokens": st.integers(-5, MAX_TOKENS_CAP + 5) | json_values,
        "temperature": st.floats(-1, 3, allow_nan=False) | json_values,
        "top_p": st.floats(-1, 3, allow_nan=False) | json_values,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=request_like.map(json.dumps) | json_values.map(json.dumps) | st.text(max_size=40),
    sse=st.booleans(),
    as_base64=st.booleans(),
)
def test_fuzzed_requests_never_break_the_function(fn: Harness, body: str, sse: bool, as_base64: bool) -> None:
    headers = {"Accept": "text/event-stream"} if sse else {}
    result = fn.invoke(proxy_event(body, headers=headers, base64_body=as_base64)).wait(30)
    response = split_response(result)
    assert result.mode == "streaming" and result.complete and result.trailers == {}
    assert response.status is not None and (200 <= response.status < 300 or 400 <= response.status < 500)
    assert fn.process is not None and fn.process.alive()
