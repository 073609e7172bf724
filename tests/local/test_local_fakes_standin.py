"""The Bedrock stand-in, checked with the real boto3 ``bedrock-runtime`` client over loopback."""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError
from streaming_bedrock_local.bedrock_standin import (
    MID_STREAM_EXCEPTIONS,
    PRE_STREAM_ERRORS,
    STANDIN_LABEL,
    BedrockStandin,
    BeforeStreamFault,
    MidStreamFault,
    RequestPlan,
    StandinValidationError,
    standin_answer,
)

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture
def standin() -> Iterator[BedrockStandin]:
    with BedrockStandin(pace_seconds=0, answer_tokens=12) as server:
        yield server


def client_for(standin: BedrockStandin) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=standin.endpoint_url,
        region_name="ap-northeast-1",
        aws_access_key_id="AKIDSTANDINTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=10, connect_timeout=5),
    )


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


# ---- the pure answer -------------------------------------------------------------------------------------


def test_answer_is_labelled_deterministic_and_prompt_dependent() -> None:
    a = standin_answer({"messages": user("hello")}, answer_tokens=10)
    assert a == standin_answer({"messages": user("hello")}, answer_tokens=10)
    assert a.chunks[0] == STANDIN_LABEL and a.text.startswith("[stand-in model]")
    assert len(a.chunks) == 10 and a.chunks[-1].endswith(".") and a.stop_reason == "end_turn"
    assert standin_answer({"messages": user("other")}, answer_tokens=10).text != a.text


_SENTENCE_END = re.compile(r"(?<=[.!?”])\s+")


@pytest.mark.parametrize("tokens", [*range(1, 40), 48, 97, 200])
def test_answer_is_whole_sentences_of_the_requested_length(tokens: int) -> None:
    for prompt in ("hello", "other", "日本語で"):
        answer = standin_answer({"messages": user(prompt)}, answer_tokens=tokens)
        assert len(answer.chunks) == tokens and answer.chunks[0] == STANDIN_LABEL
        body = answer.text[len(STANDIN_LABEL) :].strip()
        if tokens == 1:
            assert body == ""
            continue
        sentences = _SENTENCE_END.split(body)
        # Starts at the start of a sentence and ends at the end of one; every sentence is whole.
        assert all(s[0].isupper() or not s[0].isascii() for s in sentences), sentences
        assert all(s.endswith((".", "!", "?", "”.")) for s in sentences), sentences
        if tokens >= 8:
            assert not body.isascii()  # multibyte text in every answer of some length


def test_answers_of_the_same_length_differ_by_prompt() -> None:
    texts = {standin_answer({"messages": user(f"prompt {i}")}, answer_tokens=48).text for i in range(20)}
    assert len(texts) >= 5


def test_answer_honours_max_tokens() -> None:
    full = standin_answer({"messages": user("x")}, answer_tokens=10)
    cut = standin_answer({"messages": user("x"), "inferenceConfig": {"maxTokens": 4}}, answer_tokens=10)
    assert cut.chunks == full.chunks[:4] and cut.stop_reason == "max_tokens" and cut.output_tokens == 4
    exact = standin_answer({"messages": user("x"), "inferenceConfig": {"maxTokens": 10}}, answer_tokens=10)
    assert exact.stop_reason == "end_turn"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": []},
        {"messages": [{"role": "assistant", "content": [{"text": "a"}]}]},
        {"messages": [{"role": "robot", "content": [{"text": "a"}]}]},
        {"messages": [{"role": "user", "content": []}]},
        {"messages": user("x"), "inferenceConfig": {"maxTokens": 0}},
        {"messages": user("x"), "inferenceConfig": {"maxTokens": True}},
    ],
)
def test_answer_rejects_what_bedrock_rejects(body: dict[str, Any]) -> None:
    with pytest.raises(StandinValidationError):
        standin_answer(body)


# ---- over the wire with boto3 ---------------------------------------------------------------------------


def test_boto3_streams_the_expected_events(standin: BedrockStandin) -> None:
    response = client_for(standin).converse_stream(
        modelId=MODEL, messages=user("tell me"), system=[{"text": "be brief"}], inferenceConfig={"maxTokens": 100}
    )
    events = list(response["stream"])
    expected = standin_answer({"messages": user("tell me"), "system": [{"text": "be brief"}]}, answer_tokens=12)
    assert events[0] == {"messageStart": {"role": "assistant"}}
    deltas = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert tuple(deltas) == expected.chunks
    assert events[-3] == {"contentBlockStop": {"contentBlockIndex": 0}}
    assert events[-2] == {"messageStop": {"stopReason": "end_turn"}}
    usage = events[-1]["metadata"]["usage"]
    assert usage == {"inputTokens": 4, "outputTokens": 12, "totalTokens": 16}
    [record] = standin.wait_for_done(1)
    assert record.model_id == MODEL and record.access_key_id == "AKIDSTANDINTEST"
    assert record.outcome == "finished" and record.tokens_sent == 12 and record.status == 200


def test_max_tokens_cut_over_the_wire(standin: BedrockStandin) -> None:
    response = client_for(standin).converse_stream(modelId=MODEL, messages=user("q"), inferenceConfig={"maxTokens": 3})
    events = list(response["stream"])
    assert sum("contentBlockDelta" in e for e in events) == 3
    assert {"messageStop": {"stopReason": "max_tokens"}} in events


@pytest.mark.parametrize("error_type", sorted(PRE_STREAM_ERRORS))
def test_errors_before_the_stream_map_like_bedrock(standin: BedrockStandin, error_type: str) -> None:
    standin.push_fault(BeforeStreamFault(error_type, "injected"))
    with pytest.raises(ClientError) as caught:
        client_for(standin).converse_stream(modelId=MODEL, messages=user("q"))
    error = caught.value.response
    assert error["Error"]["Code"] == error_type
    assert error["Error"]["Message"] == "injected"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == PRE_STREAM_ERRORS[error_type]
    [record] = standin.wait_for_done(1)
    assert record.outcome == "error_before_stream" and record.tokens_sent == 0


@pytest.mark.parametrize("exception_type", sorted(MID_STREAM_EXCEPTIONS))
def test_errors_mid_stream_surface_as_event_stream_errors(standin: BedrockStandin, exception_type: str) -> None:
    standin.push_fault(MidStreamFault(exception_type, after_deltas=3, message="mid"))
    response = client_for(standin).converse_stream(modelId=MODEL, messages=user("q"))
    texts: list[str] = []
    with pytest.raises(EventStreamError) as caught:
        for event in response["stream"]:
            if "contentBlockDelta" in event:
                texts.append(event["contentBlockDelta"]["delta"]["text"])
    assert caught.value.response["Error"] == {"Code": exception_type, "Message": "mid"}
    assert tuple(texts) == standin_answer({"messages": user("q")}, answer_tokens=12).chunks[:3]
    [record] = standin.wait_for_done(1)
    assert record.outcome == "error_mid_stream" and record.tokens_sent == 3


def test_server_wide_fault_and_plans_are_consumed_in_order(standin: BedrockStandin) -> None:
    client = client_for(standin)
    standin.push(RequestPlan(answer_tokens=2))
    standin.push(RequestPlan(fault=BeforeStreamFault("ThrottlingException")))
    first = list(client.converse_stream(modelId=MODEL, messages=user("q"))["stream"])
    assert sum("contentBlockDelta" in e for e in first) == 2
    with pytest.raises(ClientError):
        client.converse_stream(modelId=MODEL, messages=user("q"))
    standin.fault = BeforeStreamFault("AccessDeniedException")
    with pytest.raises(ClientError) as caught:
        client.converse_stream(modelId=MODEL, messages=user("q"))
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_unknown_model_is_a_validation_error() -> None:
    with BedrockStandin(pace_seconds=0, model_ids=frozenset({MODEL})) as standin:
        with pytest.raises(ClientError) as caught:
            client_for(standin).converse_stream(modelId="no.such-model", messages=user("q"))
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert standin.wait_for_done(1)[0].model_id == "no.such-model"


def test_unsigned_request_is_refused(standin: BedrockStandin) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=5)
    body = json.dumps({"messages": user("q")})
    connection.request("POST", f"/model/{MODEL}/converse-stream", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 403
    assert response.getheader("x-amzn-ErrorType", "").startswith("AccessDeniedException")
    assert "message" in json.loads(response.read())


def test_first_events_arrive_while_the_standin_is_still_sending() -> None:
    with BedrockStandin(pace_seconds=0.05, answer_tokens=8) as standin:
        stream = client_for(standin).converse_stream(modelId=MODEL, messages=user("q"))["stream"]
        for event in stream:
            if "contentBlockDelta" in event:
                first_seen = time.monotonic()
                break
        rest = list(stream)
        [record] = standin.wait_for_done(1)
    assert record.last_token_at is not None and first_seen < record.last_token_at
    assert sum("contentBlockDelta" in e for e in rest) == 7


def test_client_disconnect_stops_the_standin_early() -> None:
    with BedrockStandin(pace_seconds=0.01, answer_tokens=500) as standin:
        stream = client_for(standin).converse_stream(modelId=MODEL, messages=user("q"))["stream"]
        seen = 0
        for event in stream:
            seen += "contentBlockDelta" in event
            if seen == 3:
                break
        stream.close()
        [record] = standin.wait_for_done(1, timeout=10)
    assert record.outcome == "disconnected"
    assert 3 <= record.tokens_sent < 100


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"messages": "hi"}'])
def test_malformed_request_bodies_get_a_validation_exception(standin: BedrockStandin, body: bytes) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=5)
    headers = {
        "Content-Type": "application/json",
        # The stand-in checks a SigV4 header is present; it does not verify the signature.
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDRAW/20260101/ap-northeast-1/bedrock/aws4_request, "
        "SignedHeaders=host, Signature=00",
    }
    connection.request("POST", f"/model/{MODEL}/converse-stream", body, headers)
    response = connection.getresponse()
    assert response.status == 400
    assert response.getheader("x-amzn-ErrorType", "").split(":")[0] == "ValidationException"
    assert json.loads(response.read())["message"]
    [record] = standin.wait_for_done(1)
    assert record.access_key_id == "AKIDRAW" and record.outcome == "error_before_stream"
