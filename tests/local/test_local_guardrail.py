"""Guardrails through the stand-in (real boto3) and the whole local stack (the deployed function's zip)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from streaming_bedrock_local.bedrock_standin import BedrockStandin
from streaming_bedrock_local.standin_guardrail import BLOCKED_MESSAGE, GUARDRAIL_MARKER

from .conftest import (
    RunningStack,
    expected_answer,
    next_record,
    prompt_body,
    request,
    running_stack,
    sse_events,
)
from .test_local_fakes_standin import MODEL, client_for, user

GUARDRAIL = {"guardrailIdentifier": "gr0abc123", "guardrailVersion": "1", "trace": "enabled"}


@pytest.fixture
def standin() -> Iterator[BedrockStandin]:
    with BedrockStandin(pace_seconds=0, answer_tokens=5) as server:
        yield server


def test_the_marker_makes_a_guarded_request_intervene_like_bedrock(standin: BedrockStandin) -> None:
    response = client_for(standin).converse_stream(
        modelId=MODEL, messages=user(f"tell me {GUARDRAIL_MARKER}"), guardrailConfig=GUARDRAIL
    )
    events = list(response["stream"])
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert texts == [BLOCKED_MESSAGE]
    assert [e["messageStop"]["stopReason"] for e in events if "messageStop" in e] == ["guardrail_intervened"]
    metadata = events[-1]["metadata"]
    assert metadata["trace"]["guardrail"]["inputAssessment"]["gr0abc123"]["topicPolicy"]["topics"][0]["action"] == (
        "BLOCKED"
    )


def test_without_a_guardrail_or_a_marker_the_answer_is_normal(standin: BedrockStandin) -> None:
    client = client_for(standin)
    for kwargs in ({"messages": user(f"x {GUARDRAIL_MARKER}")}, {"messages": user("x"), "guardrailConfig": GUARDRAIL}):
        events = list(client.converse_stream(modelId=MODEL, **kwargs)["stream"])
        assert [e["messageStop"]["stopReason"] for e in events if "messageStop" in e] == ["end_turn"]
        assert "trace" not in events[-1]["metadata"]


@pytest.mark.parametrize(
    "config",
    [
        {"guardrailIdentifier": "GR!", "guardrailVersion": "1"},
        {"guardrailIdentifier": "abc", "guardrailVersion": "v1"},
        {"guardrailIdentifier": "abc", "guardrailVersion": "1", "streamProcessingMode": "later"},
    ],
)
def test_a_guardrail_config_bedrock_refuses_is_a_validation_exception(
    standin: BedrockStandin, config: dict[str, str]
) -> None:
    client = client_for(standin)
    client.meta.config.parameter_validation = False
    with pytest.raises(ClientError) as caught:
        client.converse_stream(modelId=MODEL, messages=user("q"), guardrailConfig=config)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(
        tmp_path_factory.mktemp("guardrail"),
        settings={"auth": "none", "guardrail": {"id": "gr0abc123", "version": "2", "trace": "enabled"}},
        answer_tokens=8,
        concurrency=1,
    ) as running:
        yield running


def test_an_intervention_reaches_the_sse_client_as_a_clear_end_with_the_trace(guarded: RunningStack) -> None:
    before = len(guarded.standin.records())
    result = request(guarded.url, prompt_body(f"please {GUARDRAIL_MARKER}"), {"Accept": "text/event-stream"})
    assert result.status == 200 and result.complete
    events = sse_events(result.body)
    assert [name for name, _ in events] == ["delta", "guardrail", "usage", "done"]
    assert events[0][1] == {"text": BLOCKED_MESSAGE}
    assert "gr0abc123" in events[1][1]["trace"]["inputAssessment"]
    assert events[-1][1] == {"stop_reason": "guardrail_intervened"}
    sent = next_record(guarded.standin, before).request
    assert sent is not None and sent["guardrailConfig"] == {
        "guardrailIdentifier": "gr0abc123", "guardrailVersion": "2", "streamProcessingMode": "sync",
        "trace": "enabled",
    }


def test_a_guarded_request_without_the_marker_is_answered_normally(guarded: RunningStack) -> None:
    result = request(guarded.url, prompt_body("an ordinary question"), {})
    assert result.status == 200 and result.complete
    assert result.body.decode() == expected_answer("an ordinary question", 8)
