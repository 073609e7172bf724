"""OpenAI Chat Completions body → Converse arguments: the mapping, what is ignored, and every 400."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from bedrock_stream.openai_errors import ApiError
from bedrock_stream.openai_request import ChatRequest, ModelChoice, parse_chat_request
from bedrock_stream.request import Limits

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
OTHER = "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"
MODELS = ModelChoice((MODEL, OTHER), alias="bedrock")
LIMITS = Limits(max_request_bytes=1_000_000, max_tokens_cap=4096)
PNG = b"\x89PNG\r\n\x1a\nfake"


def parse(body: dict[str, Any] | str, *, thinking: int | None = None, b64: bool = False) -> ChatRequest | ApiError:
    raw = body if isinstance(body, str) else json.dumps(body)
    event: dict[str, Any] = {"httpMethod": "POST", "body": raw}
    if b64:
        event = {"httpMethod": "POST", "body": base64.b64encode(raw.encode()).decode(), "isBase64Encoded": True}
    return parse_chat_request(event, LIMITS, MODELS, thinking)


def ok(body: dict[str, Any], **kwargs: Any) -> ChatRequest:
    parsed = parse(body, **kwargs)
    assert isinstance(parsed, ChatRequest), parsed
    return parsed


def bad(body: dict[str, Any] | str, **kwargs: Any) -> ApiError:
    parsed = parse(body, **kwargs)
    assert isinstance(parsed, ApiError), parsed
    assert parsed.status == 400 and parsed.headers()["x-should-retry"] == "false"
    return parsed


def user(text: str = "Hi") -> dict[str, Any]:
    return {"role": "user", "content": text}


def test_minimal_request_maps_to_converse_with_the_cap_as_default_max_tokens() -> None:
    parsed = ok({"model": MODEL, "messages": [user()]})
    assert parsed.arguments == {"modelId": MODEL, "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
                                "inferenceConfig": {"maxTokens": 4096}}
    assert (parsed.stream, parsed.include_usage, parsed.model) == (False, False, MODEL)


def test_alias_resolves_to_the_stack_model_and_is_echoed() -> None:
    parsed = ok({"model": "bedrock", "messages": [user()], "stream": True})
    assert parsed.arguments["modelId"] == MODEL and parsed.model == "bedrock" and parsed.stream


def test_unknown_model_is_a_400_naming_the_allowed_ones() -> None:
    error = bad({"model": "gpt-4o", "messages": [user()]})
    assert error.param == "model" and error.code == "model_not_found"
    assert MODEL in error.message and OTHER in error.message and "bedrock" in error.message
    assert bad({"messages": [user()]}).param == "model"


def test_system_developer_parts_images_and_options() -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    parsed = ok({
        "model": OTHER,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use English."}]},
            {"role": "user", "content": [{"type": "text", "text": "What is it?"},
                                         {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}}]},
        ],
        "max_completion_tokens": 100, "temperature": 0.5, "stop": "END",
        "stream": True, "stream_options": {"include_usage": True},
        # Unknown or unsupported-but-harmless fields are ignored.
        "user": "u1", "seed": 3, "frequency_penalty": 0, "metadata": {"a": "b"}, "parallel_tool_calls": True,
        "somethingNew": {"x": 1},
    })
    assert parsed.arguments["system"] == [{"text": "Be brief."}, {"text": "Use English."}]
    assert parsed.arguments["messages"] == [{"role": "user", "content": [
        {"text": "What is it?"}, {"image": {"format": "png", "source": {"bytes": PNG}}}]}]
    assert parsed.arguments["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.5, "stopSequences": ["END"]}
    assert parsed.include_usage


def test_tools_tool_calls_and_tool_results_round_trip() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools: list[dict[str, Any]] = [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
                                          "parameters": schema}}]
    parsed = ok({"model": MODEL, "tools": tools, "tool_choice": "auto", "messages": [
        user("Weather in Paris?"),
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        user("Thanks"),
    ]})
    assert parsed.arguments["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "get_weather", "description": "Weather by city",
                                "inputSchema": {"json": tools[0]["function"]["parameters"]}}}],
        "toolChoice": {"auto": {}}}
    assert parsed.arguments["messages"] == [
        {"role": "user", "content": [{"text": "Weather in Paris?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "call_1", "name": "get_weather",
                                                       "input": {"city": "Paris"}}}]},
        # The tool result and the next user text share one user turn: Converse needs alternating roles.
        {"role": "user", "content": [{"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C"}]}},
                                     {"text": "Thanks"}]},
    ]


@pytest.mark.parametrize(("choice", "expected"), [
    ("required", {"any": {}}),
    ({"type": "function", "function": {"name": "f"}}, {"tool": {"name": "f"}}),
])
def test_tool_choice_mapping(choice: object, expected: dict[str, Any]) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    parsed = ok({"model": MODEL, "messages": [user()], "tools": tools, "tool_choice": choice})
    assert parsed.arguments["toolConfig"]["toolChoice"] == expected
    assert parsed.arguments["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"] == {
        "json": {"type": "object", "properties": {}}}


def test_tool_choice_none_leaves_the_tools_out() -> None:
    parsed = ok({"model": MODEL, "messages": [user()], "tools": [{"type": "function", "function": {"name": "f"}}],
                 "tool_choice": "none"})
    assert "toolConfig" not in parsed.arguments


@pytest.mark.parametrize(("body", "param"), [
    ({"model": MODEL, "messages": []}, "messages"),
    ({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"model": MODEL, "messages": [{"role": "system", "content": "only system"}]}, "messages"),
    ({"model": MODEL, "messages": [{"role": "assistant", "content": "first"}]}, "messages"),
    ({"model": MODEL, "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
     "messages[0].content[0].type"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]},
     "messages[0].content[0].image_url.url"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AAAA"}}]}]},
     "messages[0].content[0].image_url.url"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}]},
     "messages[0].content[0].image_url.url"),
    ({"model": MODEL, "messages": [user()], "max_tokens": 5000}, "max_tokens"),
    ({"model": MODEL, "messages": [user()], "max_completion_tokens": 0}, "max_completion_tokens"),
    ({"model": MODEL, "messages": [user()], "temperature": 1.5}, "temperature"),
    ({"model": MODEL, "messages": [user()], "top_p": "high"}, "top_p"),
    ({"model": MODEL, "messages": [user()], "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"model": MODEL, "messages": [user()], "stream": "yes"}, "stream"),
    ({"model": MODEL, "messages": [user()], "stream_options": {"include_usage": True}}, "stream_options"),
    ({"model": MODEL, "messages": [user()], "n": 2}, "n"),
    ({"model": MODEL, "messages": [user()], "response_format": {"type": "json_object"}}, "response_format"),
    ({"model": MODEL, "messages": [user()], "tools": [{"type": "retrieval"}]}, "tools[0]"),
    ({"model": MODEL, "messages": [user()], "tools": [{"type": "function", "function": {"name": "f"}}],
      "tool_choice": {"type": "function", "function": {"name": "g"}}}, "tool_choice"),
    ({"model": MODEL, "messages": [user(), {"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]},
     "messages[1].tool_calls[0].function.arguments"),
    ({"model": MODEL, "messages": [user(), {"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "r"}]}, "tools"),
])
def test_malformed_known_fields_are_400_naming_the_field(body: dict[str, Any], param: str) -> None:
    assert bad(body).param == param


def test_temperature_and_top_p_together_follow_the_model_family_rule() -> None:
    error = bad({"model": MODEL, "messages": [user()], "temperature": 0.5, "top_p": 0.9})
    assert (error.param, error.code) == ("top_p", "conflicting_parameters")
    older = ModelChoice(("anthropic.claude-3-haiku-20240307-v1:0",))
    event = {"body": json.dumps({"model": older.allowed[0], "messages": [user()], "temperature": 0.5, "top_p": 0.9})}
    assert isinstance(parse_chat_request(event, LIMITS, older), ChatRequest)


def test_body_rules_are_shared_with_the_native_route() -> None:
    assert bad("not json").code == "invalid_json"
    assert bad("[1]").code == "invalid_request"
    assert isinstance(parse({"model": MODEL, "messages": [user()]}, b64=True), ChatRequest)


def test_extended_thinking_adds_the_field_and_enforces_its_rules() -> None:
    parsed = ok({"model": MODEL, "messages": [user()], "max_tokens": 3000}, thinking=2048)
    assert parsed.arguments["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert bad({"model": MODEL, "messages": [user()], "max_tokens": 2048}, thinking=2048).param == "max_tokens"
    assert bad({"model": MODEL, "messages": [user()], "temperature": 0.2}, thinking=2048).param == "temperature"
    assert bad({"model": MODEL, "messages": [user()], "top_p": 0.5}, thinking=2048).param == "top_p"
    assert ok({"model": MODEL, "messages": [user()], "top_p": 0.97}, thinking=2048)
    forced = {"model": MODEL, "messages": [user()], "tools": [{"type": "function", "function": {"name": "f"}}],
              "tool_choice": "required"}
    assert bad(forced, thinking=2048).param == "tool_choice"
