"""Reasoning, tool use and cache usage from the Bedrock stand-in, parsed by the real boto3 client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError
from streaming_bedrock_local.bedrock_standin import BedrockStandin, MidStreamFault
from streaming_bedrock_local.standin_features import CACHE_MARKER, CACHE_READ_TOKENS, CACHE_WRITE_TOKENS

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
TOOLS: dict[str, Any] = {"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {
    "type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}, "required": ["q", "n"]}}}}]}
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}


@pytest.fixture
def client() -> Iterator[Any]:
    with BedrockStandin(pace_seconds=0, answer_tokens=6) as standin:
        yield boto3.client("bedrock-runtime", endpoint_url=standin.endpoint_url, region_name="ap-northeast-1",
                           aws_access_key_id="AKIDSTANDINTEST", aws_secret_access_key="secret",
                           config=Config(retries={"total_max_attempts": 1}, read_timeout=10))


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def events(client: Any, **arguments: Any) -> list[dict[str, Any]]:
    return list(client.converse_stream(modelId=MODEL, inferenceConfig={"maxTokens": 2048}, **arguments)["stream"])


def test_tool_use_block_streams_its_input_in_fragments(client: Any) -> None:
    stream = events(client, messages=user("find it"), toolConfig=TOOLS)
    starts = [e["contentBlockStart"] for e in stream if "contentBlockStart" in e]
    assert len(starts) == 1 and starts[0]["contentBlockIndex"] == 1
    assert starts[0]["start"]["toolUse"]["name"] == "lookup"
    fragments = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in stream
                 if "toolUse" in e.get("contentBlockDelta", {}).get("delta", {})]
    assert len(fragments) == 2 and json.loads("".join(fragments)) == {"q": "stand-in", "n": 1}
    assert next(e for e in stream if "messageStop" in e)["messageStop"]["stopReason"] == "tool_use"


def test_a_tool_result_gets_a_text_answer(client: Any) -> None:
    messages = [*user("find it"),
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "42"}]}}]}]
    stream = events(client, messages=messages, toolConfig=TOOLS)
    assert not any("contentBlockStart" in e for e in stream)
    assert next(e for e in stream if "messageStop" in e)["messageStop"]["stopReason"] == "end_turn"


def test_thinking_streams_reasoning_then_text_and_cache_marker_adds_cache_usage(client: Any) -> None:
    stream = events(client, messages=user(f"{CACHE_MARKER} think"), additionalModelRequestFields=THINKING)
    deltas = [e["contentBlockDelta"] for e in stream if "contentBlockDelta" in e]
    reasoning = [d["delta"]["reasoningContent"] for d in deltas if "reasoningContent" in d["delta"]]
    assert "".join(r.get("text", "") for r in reasoning).startswith("The stand-in")
    assert "signature" in reasoning[-1] and {d["contentBlockIndex"] for d in deltas} == {0, 1}
    usage = next(e for e in stream if "metadata" in e)["metadata"]["usage"]
    assert (usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]) == (CACHE_READ_TOKENS, CACHE_WRITE_TOKENS)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"messages": [*user("a"), {"role": "assistant", "content": [{"toolUse": {
        "toolUseId": "t", "name": "lookup", "input": {}}}]}]}, "toolConfig field must be defined"),
    ({"messages": user("a"), "toolConfig": {**TOOLS, "toolChoice": {"tool": {"name": "nope"}}}}, "toolChoice"),
    ({"messages": user("a"), "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 512}}},
     "budget_tokens"),
    ({"messages": user("a"), "additionalModelRequestFields": THINKING,
      "toolConfig": {**TOOLS, "toolChoice": {"any": {}}}}, "forces tool use"),
])
def test_bedrock_rules_for_tools_and_thinking(client: Any, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as raised:
        events(client, **arguments)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert message in raised.value.response["Error"]["Message"]


def test_thinking_refuses_a_changed_temperature(client: Any) -> None:
    with pytest.raises(ClientError, match="temperature"):
        list(client.converse_stream(modelId=MODEL, messages=user("a"), additionalModelRequestFields=THINKING,
                                    inferenceConfig={"maxTokens": 2048, "temperature": 0.3})["stream"])


def test_mid_stream_fault_cuts_a_feature_answer() -> None:
    with BedrockStandin(pace_seconds=0, fault=MidStreamFault("throttlingException", after_deltas=2)) as standin:
        client = boto3.client("bedrock-runtime", endpoint_url=standin.endpoint_url, region_name="ap-northeast-1",
                              aws_access_key_id="AKIDSTANDINTEST", aws_secret_access_key="secret",
                              config=Config(retries={"total_max_attempts": 1}))
        seen: list[dict[str, Any]] = []
        with pytest.raises(EventStreamError):
            for event in client.converse_stream(modelId=MODEL, messages=user("x"), toolConfig=TOOLS)["stream"]:
                seen.append(event)
        assert sum(1 for e in seen if "contentBlockDelta" in e) == 2
        assert standin.wait_for_done(1)[-1].outcome == "error_mid_stream"
