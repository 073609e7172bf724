"""Request parsing and validation: every rule, plus a fuzz that the parser never raises."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from bedrock_stream.request import (
    Limits,
    ModelRequest,
    Preflight,
    Rejection,
    output_format_for,
    parse_event,
)
from hypothesis import given, settings
from hypothesis import strategies as st

LIMITS = Limits(max_request_bytes=1000, max_tokens_cap=512)


def event(body: Any, *, headers: dict[str, str] | None = None, b64: bool = False,
          method: str = "POST") -> dict[str, Any]:
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    if b64 and raw is not None:
        raw = base64.b64encode(raw.encode()).decode()
    return {"httpMethod": method, "headers": headers or {}, "body": raw, "isBase64Encoded": b64}


def accepted(ev: object) -> ModelRequest:
    result = parse_event(ev, LIMITS)
    assert isinstance(result, ModelRequest), result
    return result


def rejected(ev: object) -> Rejection:
    result = parse_event(ev, LIMITS)
    assert isinstance(result, Rejection), result
    return result


def test_prompt_becomes_one_user_turn_with_the_cap_as_default_max_tokens() -> None:
    request = accepted(event({"prompt": "Hello"}))
    assert request.converse_arguments("model-x") == {
        "modelId": "model-x",
        "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
        "inferenceConfig": {"maxTokens": 512},
    }
    assert request.output_format == "text"


def test_messages_with_all_options_map_to_converse_arguments() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"text": "Hello."}]},
            {"role": "user", "content": [{"text": "More"}, {"text": "please"}]},
        ],
        "system": "Be brief.",
        "max_tokens": 100,
        "temperature": 0.5,
        "top_p": 1,
    }
    assert accepted(event(body, b64=True)).converse_arguments("m") == {
        "modelId": "m",
        "messages": [
            {"role": "user", "content": [{"text": "Hi"}]},
            {"role": "assistant", "content": [{"text": "Hello."}]},
            {"role": "user", "content": [{"text": "More"}, {"text": "please"}]},
        ],
        "inferenceConfig": {"maxTokens": 100, "temperature": 0.5, "topP": 1.0},
        "system": [{"text": "Be brief."}],
    }


@pytest.mark.parametrize(
    ("ev", "code"),
    [
        (event(None), "missing_body"),
        (event(""), "missing_body"),
        (event("not json"), "invalid_json"),
        (event('{"prompt": NaN}'), "invalid_json"),
        (event('{"prompt": "a", "temperature": Infinity}'), "invalid_json"),
        (event("[1, 2]"), "invalid_request"),
        (event("\"text\""), "invalid_request"),
        (event({}), "invalid_request"),
        (event({"prompt": ""}), "invalid_request"),
        (event({"prompt": "   \n"}), "invalid_request"),
        (event({"prompt": 5}), "invalid_request"),
        (event({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}), "invalid_request"),
        (event({"prompt": "a", "model": "other"}), "invalid_request"),
        (event({"messages": []}), "invalid_request"),
        (event({"messages": "hi"}), "invalid_request"),
        (event({"messages": [{"role": "assistant", "content": "x"}]}), "invalid_request"),
        (event({"messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]}),
         "invalid_request"),
        (event({"messages": [{"role": "system", "content": "x"}]}), "invalid_request"),
        (event({"messages": [{"role": "user"}]}), "invalid_request"),
        (event({"messages": [{"role": "user", "content": []}]}), "invalid_request"),
        (event({"messages": [{"role": "user", "content": [{"image": {}}]}]}), "invalid_request"),
        (event({"messages": [{"role": "user", "content": "x", "extra": 1}]}), "invalid_request"),
        (event({"messages": ["x"]}), "invalid_request"),
        (event({"prompt": "a", "system": ""}), "invalid_request"),
        (event({"prompt": "a", "max_tokens": 0}), "invalid_request"),
        (event({"prompt": "a", "max_tokens": 1.5}), "invalid_request"),
        (event({"prompt": "a", "max_tokens": True}), "invalid_request"),
        (event({"prompt": "a", "max_tokens": 513}), "max_tokens_too_large"),
        (event({"prompt": "a", "temperature": 1.01}), "invalid_request"),
        (event({"prompt": "a", "temperature": -0.1}), "invalid_request"),
        (event({"prompt": "a", "temperature": "0.5"}), "invalid_request"),
        (event({"prompt": "a", "top_p": False}), "invalid_request"),
        ({"httpMethod": "POST", "body": "!!notbase64", "isBase64Encoded": True}, "invalid_body"),
        ({"httpMethod": "POST", "body": base64.b64encode(b"\xff\xfe").decode(), "isBase64Encoded": True},
         "invalid_body"),
        ({"httpMethod": "POST", "body": 12}, "invalid_body"),
        ("not an event", "invalid_event"),
        (None, "invalid_event"),
    ],
)
def test_invalid_requests_get_400_with_a_code(ev: object, code: str) -> None:
    rejection = rejected(ev)
    assert (rejection.status, rejection.code) == (400, code)
    assert rejection.message


def test_deeply_nested_json_is_a_400_not_a_recursion_crash() -> None:
    limits = Limits(max_request_bytes=10**6, max_tokens_cap=10)
    result = parse_event(event("[" * 100_000 + "]" * 100_000), limits)
    assert isinstance(result, Rejection) and result.status == 400


def test_body_over_the_cap_is_400_counted_in_decoded_utf8_bytes() -> None:
    at_cap = '{"prompt": "' + "é" * ((1000 - 14) // 2) + '"}'
    assert len(at_cap.encode()) <= 1000
    accepted(event(at_cap))
    over = '{"prompt": "' + "é" * 500 + '"}'  # fewer than 1000 characters, more than 1000 bytes
    assert len(over) < 1000 < len(over.encode())
    assert (rejected(event(over)).status, rejected(event(over)).code) == (400, "payload_too_large")
    assert rejected(event({"prompt": "a" * 2000}, b64=True)).code == "payload_too_large"


def test_accept_header_selects_sse_case_insensitively_and_respects_q_zero() -> None:
    assert accepted(event({"prompt": "a"}, headers={"accept": "text/event-stream"})).output_format == "sse"
    assert output_format_for("application/json, TEXT/EVENT-STREAM;q=0.5") == "sse"
    assert output_format_for("text/event-stream;q=0") == "text"
    assert output_format_for("*/*") == "text"
    assert output_format_for(None) == "text"


def test_rejections_keep_origin_and_format_for_cors_and_content_type() -> None:
    ev = event({"prompt": ""}, headers={"Origin": "https://app.example", "Accept": "text/event-stream"})
    rejection = rejected(ev)
    assert rejection.origin == "https://app.example"
    assert rejection.output_format == "sse"


def test_multi_value_headers_are_consulted() -> None:
    ev = event({"prompt": "a"})
    ev["headers"] = None
    ev["multiValueHeaders"] = {"Origin": ["https://x.example"]}
    assert accepted(ev).origin == "https://x.example"


def test_options_is_a_preflight_and_other_methods_are_405() -> None:
    assert parse_event(event(None, method="OPTIONS"), LIMITS) == Preflight(origin=None)
    rejection = rejected(event({"prompt": "a"}, method="GET"))
    assert rejection.status == 405 and rejection.extra_headers == {"Allow": "POST, OPTIONS"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(["prompt", "messages", "system", "max_tokens", "temperature", "top_p", "role",
                               "content", "text", "x"])
message = st.fixed_dictionaries(
    {}, optional={"role": st.sampled_from(["user", "assistant", "tool", 3]),
                  "content": st.one_of(st.text(max_size=10), st.lists(st.fixed_dictionaries({"text": json_values}),
                                                                       max_size=3), json_values)}
)
documents = st.dictionaries(
    field_names,
    st.one_of(json_values, st.lists(message, max_size=4), st.integers(-5, 2000), st.floats(-1, 2)),
    max_size=5,
)
bodies = st.one_of(
    st.none(), st.text(max_size=200), st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    documents.map(json.dumps), json_values.map(json.dumps),
)
events = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"body": bodies},
        optional={
            "isBase64Encoded": st.one_of(st.booleans(), json_values),
            "httpMethod": st.one_of(st.sampled_from(["POST", "post", "OPTIONS", "GET"]), json_values),
            "headers": st.one_of(st.none(), st.dictionaries(
                st.sampled_from(["Accept", "accept", "Origin", "X"]), st.one_of(st.text(max_size=40), json_values),
                max_size=3)),
            "multiValueHeaders": json_values,
        },
    ),
    st.fixed_dictionaries({"body": documents.map(lambda d: base64.b64encode(json.dumps(d).encode()).decode()),
                           "isBase64Encoded": st.just(True)}),
)


@settings(max_examples=600, deadline=None)
@given(events)
def test_fuzz_parser_never_raises_and_always_accepts_or_rejects_with_4xx(ev: object) -> None:
    result = parse_event(ev, LIMITS)
    if isinstance(result, Rejection):
        assert 400 <= result.status < 500
        assert result.code and result.message
        assert result.message != "the request could not be parsed", "the defensive catch-all was reached"
    else:
        assert isinstance(result, (ModelRequest, Preflight))
    if isinstance(result, ModelRequest):
        args = result.converse_arguments("m")
        assert 1 <= args["inferenceConfig"]["maxTokens"] <= LIMITS.max_tokens_cap
        assert args["messages"][0]["role"] == "user"
        json.dumps(args)  # serialisable as botocore will need
