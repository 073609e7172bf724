"""The official ``openai`` Python SDK against the local stack, unchanged but for ``base_url`` and ``api_key``.

Real parts only: the SDK (with ``_strict_response_validation=True``, so every response must match its types)
talks HTTP to the gateway emulator, which runs the key authorizer's code and invokes the deployed zip in worker
processes; the function calls the Bedrock stand-in through botocore. Retries are counted from the gateway's own
log lines (one per HTTP request it received).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import OpenAI
from streaming_bedrock_local.bedrock_standin import BeforeStreamFault, MidStreamFault
from streaming_bedrock_local.standin_features import CACHE_MARKER, CACHE_READ_TOKENS, CACHE_WRITE_TOKENS

from .conftest import MODEL, RunningStack, expected_answer, running_stack

ANSWER_TOKENS = 24
ALIAS = "default"
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Current weather for a city",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory.mktemp("openai"), settings={"openai_model_alias": ALIAS},
                       answer_tokens=ANSWER_TOKENS, pace_seconds=0.005) as running:
        yield running


@pytest.fixture
def client(stack: RunningStack) -> OpenAI:
    stack.standin.fault = None
    stack.standin.clear_plans()
    assert stack.api_key is not None
    return OpenAI(base_url=f"{stack.base}/{stack.settings.stage_name}/v1", api_key=stack.api_key,
                  _strict_response_validation=True, max_retries=0, timeout=30)


def gateway_requests(caplog: pytest.LogCaptureFixture, path: str, expected: int) -> list[dict[str, Any]]:
    """The gateway's log lines for ``path``; waits (briefly) for ``expected`` of them, because the gateway logs
    a request after its response went out, which can be after the client already raised."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "streaming_bedrock_local.gateway"]
        found = [line for line in lines if line.get("path") == path]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_streaming_answer_with_usage_on_the_last_chunk(client: OpenAI) -> None:
    prompt = "Explain streaming to a new user."
    stream = client.chat.completions.create(model=ALIAS, messages=[{"role": "user", "content": prompt}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected_answer(prompt, ANSWER_TOKENS)
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].model == ALIAS
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == ANSWER_TOKENS
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == ANSWER_TOKENS and last.usage.prompt_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_non_streaming_completion_and_the_system_role(client: OpenAI) -> None:
    prompt = "Same answer, all at once."
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}])
    assert completion.object == "chat.completion" and completion.model == MODEL
    assert completion.choices[0].message.content == expected_answer(prompt, ANSWER_TOKENS)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == ANSWER_TOKENS


def test_models_list(client: OpenAI) -> None:
    assert [model.id for model in client.models.list()] == [MODEL, ALIAS]


def test_tool_call_round_trip(client: OpenAI, stack: RunningStack) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    stream = client.chat.completions.create(model=ALIAS, messages=messages, tools=[WEATHER_TOOL], stream=True)
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for piece in choice.delta.tool_calls or []:
            entry = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] = piece.id or entry["id"]
            if piece.function is not None:
                entry["name"] += piece.function.name or ""
                entry["arguments"] += piece.function.arguments or ""
    assert finish == "tool_calls" and list(calls) == [0]
    call = calls[0]
    assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "stand-in"}
    assert call["id"].startswith("tooluse_")
    # The Converse request carried the tool as toolConfig.
    first = stack.standin.records()[-1].request
    assert first is not None and first["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"

    messages += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call["id"], "type": "function",
             "function": {"name": call["name"], "arguments": call["arguments"]}}]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees and sunny"},
    ]
    final = client.chat.completions.create(model=ALIAS, messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].finish_reason == "stop" and final.choices[0].message.tool_calls is None
    assert final.choices[0].message.content
    second = stack.standin.records()[-1].request
    assert second is not None
    sent = second["messages"]
    assert sent[1]["content"][0]["toolUse"]["toolUseId"] == call["id"]
    assert sent[2]["content"][0]["toolResult"] == {"toolUseId": call["id"],
                                                   "content": [{"text": "18 degrees and sunny"}]}


def test_cached_tokens_and_reasoning_reach_the_client(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=ALIAS, messages=[{"role": "user", "content": f"{CACHE_MARKER} [stand-in:reasoning] Hi"}],
        stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content", "") for c in chunks
                        if c.choices)
    assert reasoning.startswith("The stand-in considers")
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == CACHE_READ_TOKENS
    assert usage.prompt_tokens > CACHE_READ_TOKENS + CACHE_WRITE_TOKENS


@pytest.mark.slow
def test_throttling_is_retried_by_the_sdk_then_reported(client: OpenAI, stack: RunningStack,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="streaming_bedrock_local.gateway")
    stack.standin.fault = BeforeStreamFault("ThrottlingException")
    with pytest.raises(openai.RateLimitError) as raised:
        client.with_options(max_retries=1).chat.completions.create(
            model=ALIAS, messages=[{"role": "user", "content": "busy"}], stream=True)
    assert raised.value.status_code == 429 and raised.value.response.headers["retry-after"] == "2"
    assert raised.value.code == "throttled" and raised.value.type == "rate_limit_error"
    # One first try plus the one retry the client allows: the SDK honoured the 429.
    assert [r["status"] for r in gateway_requests(caplog, "/prod/v1/chat/completions", 2)] == [429, 429]


def test_access_denied_is_not_retried(client: OpenAI, stack: RunningStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="streaming_bedrock_local.gateway")
    stack.standin.fault = BeforeStreamFault("AccessDeniedException")
    with pytest.raises(openai.InternalServerError) as raised:
        client.with_options(max_retries=2).chat.completions.create(
            model=ALIAS, messages=[{"role": "user", "content": "denied"}])
    assert raised.value.status_code == 502 and raised.value.code == "bedrock_access_denied"
    assert raised.value.response.headers["x-should-retry"] == "false"
    # A 502 is retried by default; x-should-retry: false stops it.
    time.sleep(0.5)  # the SDK retries inside create(); this only lets the log line of a (wrong) retry arrive
    assert [r["status"] for r in gateway_requests(caplog, "/prod/v1/chat/completions", 1)] == [502]


def test_mid_stream_error_raises_while_iterating(client: OpenAI, stack: RunningStack) -> None:
    stack.standin.fault = MidStreamFault("modelStreamErrorException", after_deltas=3)
    stream = client.chat.completions.create(model=ALIAS, messages=[{"role": "user", "content": "fail later"}],
                                            stream=True)
    received: list[str] = []
    with pytest.raises(openai.APIError) as raised:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert len([text for text in received if text]) == 3
    assert raised.value.body == {"message": "the model failed while generating; retry the request",
                                 "type": "server_error", "param": None, "code": "model_error"}


def test_bad_request_and_wrong_key(client: OpenAI, stack: RunningStack) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert raised.value.param == "model" and MODEL in raised.value.message
    wrong = OpenAI(base_url=str(client.base_url), api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        wrong.models.list()
