"""The lean client end to end over loopback against the Bedrock stand-in, with botocore's client as the oracle.

Same calls through both clients: the same events, the same pre-stream errors (class, ``response["Error"]``,
status, retry count, requests the stand-in saw), the same in-stream errors; plus keep-alive reuse, a fresh
connection after the server dropped an idle one, and ``close()`` stopping a live stream at once.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import botocore.config
import botocore.session
import pytest
from bedrock_stream.aws_env import resolve_endpoint
from bedrock_stream.bedrock_call import BedrockCall
from bedrock_stream.bedrock_events import classify_exception
from bedrock_stream.converse_http import LeanBedrockClient
from bedrock_stream.sigv4 import Credentials
from streaming_bedrock_local.bedrock_standin import (
    PRE_STREAM_ERRORS,
    BedrockStandin,
    BeforeStreamFault,
    MidStreamFault,
    RequestPlan,
)

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
ARGS: dict[str, Any] = {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "café"}]}],
                        "inferenceConfig": {"maxTokens": 50}, "requestMetadata": {"k": "v"}}


@pytest.fixture(scope="module")
def standin() -> Iterator[BedrockStandin]:
    with BedrockStandin(pace_seconds=0, answer_tokens=6, model_ids=frozenset({MODEL})) as server:
        yield server


def lean(standin: BedrockStandin, sleeps: list[float] | None = None) -> LeanBedrockClient:
    endpoint = resolve_endpoint({"AWS_REGION": "ap-northeast-1", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME":
                                 standin.endpoint_url})
    record = sleeps if sleeps is not None else []
    return LeanBedrockClient(endpoint, "ap-northeast-1", Credentials("AKIDLEAN", "secret", "token"),
                             sleep=record.append, rand=lambda: 0.0)


def boto(standin: BedrockStandin) -> Any:
    return botocore.session.Session().create_client(
        "bedrock-runtime", region_name="ap-northeast-1", endpoint_url=standin.endpoint_url,
        aws_access_key_id="AKIDBOTO", aws_secret_access_key="secret", aws_session_token="token",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 3}))


def outcome(client: Any, standin: BedrockStandin) -> tuple[list[Any], Any, int]:
    """(events, error summary, requests the stand-in saw) for one converse_stream call."""
    before = len(standin.records())
    events: list[Any] = []
    error: Any = None
    try:
        for event in client.converse_stream(**ARGS)["stream"]:
            events.append(event)
    except Exception as exc:
        response = getattr(exc, "response", {})
        metadata = response.get("ResponseMetadata", {})
        error = (type(exc).__name__, response.get("Error"), metadata.get("HTTPStatusCode"),
                 metadata.get("RetryAttempts"), metadata.get("MaxAttemptsReached"), str(exc),
                 classify_exception(exc, MODEL))
    time.sleep(0.05)
    return events, error, len(standin.records()) - before


def test_events_equal_botocore_and_the_connection_is_reused(standin: BedrockStandin) -> None:
    client = lean(standin)
    first = outcome(client, standin)
    assert first == outcome(boto(standin), standin)
    assert first[0][0] == {"messageStart": {"role": "assistant"}} and first[1] is None
    connection = client._idle
    assert connection is not None
    assert outcome(client, standin) == first
    assert client._idle is connection  # kept alive and reused
    assert standin.records()[-1].access_key_id == "AKIDLEAN"  # signed


@pytest.mark.parametrize("error_type", sorted(PRE_STREAM_ERRORS))
def test_pre_stream_errors_and_retries_equal_botocore(standin: BedrockStandin, error_type: str) -> None:
    if error_type in ("ThrottlingException", "ModelNotReadyException"):
        pytest.skip("covered below with botocore's sleeps, once")  # botocore waits up to 1 s + 2 s here
    for _ in range(3):
        standin.push_fault(BeforeStreamFault(error_type, "injected"))
    expected = outcome(boto(standin), standin)
    standin.clear_plans()
    for _ in range(3):
        standin.push_fault(BeforeStreamFault(error_type, "injected"))
    sleeps: list[float] = []
    assert outcome(lean(standin, sleeps), standin) == expected
    standin.clear_plans()
    assert len(sleeps) == expected[2] - 1


def test_throttling_is_retried_then_succeeds_like_botocore(standin: BedrockStandin) -> None:
    plans = [RequestPlan(fault=BeforeStreamFault("ThrottlingException")),
             RequestPlan(fault=BeforeStreamFault("ModelNotReadyException"))]
    for plan in plans:
        standin.push(plan)
    expected = outcome(boto(standin), standin)
    for plan in plans:
        standin.push(plan)
    sleeps: list[float] = []
    assert outcome(lean(standin, sleeps), standin) == expected
    assert expected[2] == 3 and expected[1] is None and len(sleeps) == 2
    for _ in range(3):
        standin.push_fault(BeforeStreamFault("ThrottlingException"))
    exhausted = outcome(lean(standin), standin)
    assert exhausted[1][0] == "ThrottlingException" and exhausted[1][3:5] == (2, True) and exhausted[2] == 3
    assert "(reached max retries: 2)" in exhausted[1][5]


@pytest.mark.parametrize("exception_type", ["modelStreamErrorException", "throttlingException",
                                            "internalServerException", "validationException",
                                            "serviceUnavailableException"])
def test_in_stream_errors_equal_botocore(standin: BedrockStandin, exception_type: str) -> None:
    standin.push_fault(MidStreamFault(exception_type, after_deltas=2))
    expected = outcome(boto(standin), standin)
    standin.push_fault(MidStreamFault(exception_type, after_deltas=2))
    got = outcome(lean(standin), standin)
    assert got == expected and got[1][0] == "EventStreamError" and len(got[0]) == 3


def test_unreachable_endpoint_is_classified_like_botocore() -> None:
    endpoint = resolve_endpoint({"AWS_REGION": "ap-northeast-1", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME":
                                 "http://127.0.0.1:9"})
    sleeps: list[float] = []
    client = LeanBedrockClient(endpoint, "ap-northeast-1", Credentials("A", "S"), sleep=sleeps.append)
    with pytest.raises(Exception) as caught:
        client.converse_stream(**ARGS)
    assert type(caught.value).__name__ == "EndpointConnectionError" and len(sleeps) == 2
    assert classify_exception(caught.value, MODEL).code == "bedrock_unreachable"


@pytest.mark.parametrize("noticed_before_sending", [True, False])
def test_a_dropped_idle_connection_is_replaced_without_costing_an_attempt(
    standin: BedrockStandin, noticed_before_sending: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = lean(standin)
    client.warm()
    idle = client._idle
    assert idle is not None
    ours, server_side = socket.socketpair()
    server_side.close()  # as if the server had dropped the idle connection
    idle.sock.close()
    idle.sock = ours
    if not noticed_before_sending:  # the close arrives only after the request went out
        monkeypatch.setattr(type(idle), "dropped", lambda self: False)
    events, error, requests = outcome(client, standin)
    assert error is None and events and requests == 1


def test_close_stops_a_live_stream_at_once(standin: BedrockStandin) -> None:
    standin.push(RequestPlan(pace_seconds=0.2, answer_tokens=200))
    call = BedrockCall(lean(standin), ARGS)
    kind, _ = call.items.get(timeout=10)  # messageStart: the stream is live
    assert kind == "event"
    started = time.monotonic()
    call.close()
    record = standin.wait_for_done(len(standin.records()), timeout=5)[-1]
    assert record.outcome == "disconnected" and time.monotonic() - started < 1.0
    assert record.tokens_sent < 10


@pytest.mark.parametrize("which", ["lean", "botocore"])
def test_a_lean_stream_is_read_on_the_relay_s_thread_and_a_botocore_one_on_the_reader(
    standin: BedrockStandin, which: str
) -> None:
    import threading

    client = lean(standin) if which == "lean" else boto(standin)
    standin.push(RequestPlan(pace_seconds=0.05, answer_tokens=6))
    call = BedrockCall(client, ARGS)
    items = [call.items.get(timeout=10)]
    time.sleep(0.1)
    reader_alive = any(t.name == "bedrock-reader" and t.is_alive() for t in threading.enumerate())
    while items[-1][0] == "event":
        items.append(call.items.get(timeout=10))
    call.close()
    assert reader_alive is (which == "botocore")
    events = [item[1] for item in items[:-1]]
    assert items[-1] == ("end", None) and events == outcome(lean(standin), standin)[0]
