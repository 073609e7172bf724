"""The local gateway enforces Lambda's 6 MB invocation payload on the event it builds, like AWS; a body at the
``max_request_bytes`` cap always fits, even the worst case (a body the event escapes to twice its size)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from streaming_bedrock_api.settings import LAMBDA_INVOKE_PAYLOAD_BYTES, MAX_REQUEST_BYTES_LIMIT
from streaming_bedrock_local.invoke_limit import event_payload_bytes, fits_invocation
from streaming_bedrock_local.proxy_event import ProxyRequest, build_event

from .conftest import RunningStack, expected_answer, request, running_stack

JSON = {"Content-Type": "application/json"}


def _event(body: bytes) -> dict[str, object]:
    return build_event(ProxyRequest(
        method="POST", resource_path="/stream", client_path="/prod/stream", stage="prod", query="",
        headers=[("Content-Type", "application/json")], body=body, source_ip="127.0.0.1", request_id="r",
        api_key=None,
    ))


def test_the_limit_applies_to_the_event_not_the_body() -> None:
    newlines = b'{"prompt":"hi"' + b"\n" * (MAX_REQUEST_BYTES_LIMIT - 15) + b"}"
    assert len(newlines) == MAX_REQUEST_BYTES_LIMIT
    event = _event(newlines)
    assert event_payload_bytes(event) > 2 * MAX_REQUEST_BYTES_LIMIT  # every newline is escaped to two bytes
    assert fits_invocation(event)
    # Twice that body no longer fits, though it is far below API Gateway's 10 MB.
    assert not fits_invocation(_event(newlines[:-1] + b"\n" * MAX_REQUEST_BYTES_LIMIT + b"}"))
    assert event_payload_bytes(_event(b"{}")) < LAMBDA_INVOKE_PAYLOAD_BYTES


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory.mktemp("capped"), settings={"max_request_bytes": MAX_REQUEST_BYTES_LIMIT},
                       concurrency=1, answer_tokens=5, pace_seconds=0) as running:
        yield running


def test_a_worst_case_body_at_the_cap_reaches_the_function(capped: RunningStack) -> None:
    body = b'{"prompt":"hi"' + b"\n" * (MAX_REQUEST_BYTES_LIMIT - 15) + b"}"
    result = request(capped.url, body, {**JSON, **capped.auth()})
    assert result.status == 200
    assert result.body.decode() == expected_answer("hi", 5)


def test_a_body_whose_event_exceeds_6_mb_is_refused_by_the_gateway(capped: RunningStack) -> None:
    before = len(capped.standin.records())
    body = json.dumps({"prompt": "x" * (6 * 1024 * 1024)}).encode()  # < 10 MB: API Gateway takes it, Lambda not
    result = request(capped.url, body, {**JSON, **capped.auth()})
    assert result.status == 413
    assert result.json() == {"message": "Request Too Long"}
    assert len(capped.standin.records()) == before
