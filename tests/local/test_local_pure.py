"""Unit tests of the local stack's pure pieces: proxy event, metadata prelude, routing, stack config."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from streaming_bedrock_api.settings import resolve_settings
from streaming_bedrock_local.invocation import Finished, InvokeFailed
from streaming_bedrock_local.lambda_pool import terminal_event
from streaming_bedrock_local.metadata import (
    DELIMITER,
    MAX_PRELUDE_BYTES,
    InvalidMetadata,
    Metadata,
    MetadataParser,
)
from streaming_bedrock_local.proxy_event import ProxyRequest, build_event
from streaming_bedrock_local.routing import GatewayReply, Invoke, response_headers, route
from streaming_bedrock_local.runtime_invocation import InvocationResult
from streaming_bedrock_local.stack_config import StackConfigError, load_stack_config

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


def _request(**overrides: object) -> ProxyRequest:
    values: dict[str, object] = {
        "method": "POST",
        "resource_path": "/stream",
        "client_path": "/prod/stream",
        "stage": "prod",
        "query": "",
        "headers": [("Host", "127.0.0.1:3000"), ("Content-Type", "application/json")],
        "body": b'{"prompt":"hi"}',
        "source_ip": "127.0.0.1",
        "request_id": "req-1",
        "request_time_ms": 1_700_000_000_000,
    }
    values.update(overrides)
    return ProxyRequest(**values)  # type: ignore[arg-type]


# --- proxy event -------------------------------------------------------------------------------------------


def test_event_paths_strip_the_stage_only_from_path() -> None:
    event = build_event(_request())
    assert event["resource"] == "/stream"
    assert event["path"] == "/stream"
    assert event["requestContext"]["path"] == "/prod/stream"
    assert event["requestContext"]["resourcePath"] == "/stream"
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["requestId"] == "req-1"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["requestTime"] == "14/Nov/2023:22:13:20 +0000"


def test_event_without_stage_prefix_keeps_the_path() -> None:
    event = build_event(_request(client_path="/stream"))
    assert event["path"] == "/stream"
    assert event["requestContext"]["path"] == "/stream"


def test_event_headers_and_query_single_and_multi() -> None:
    headers = [("X-A", "1"), ("x-a", "2"), ("Accept", "text/event-stream")]
    event = build_event(_request(headers=headers, query="a=1&a=2&b=x%20y&c"))
    assert event["headers"] == {"X-A": "2", "Accept": "text/event-stream"}
    assert event["multiValueHeaders"] == {"X-A": ["1", "2"], "Accept": ["text/event-stream"]}
    assert event["queryStringParameters"] == {"a": "2", "b": "x y", "c": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"], "c": [""]}


def test_event_empty_parts_are_null() -> None:
    event = build_event(_request(headers=[], body=b""))
    assert event["headers"] is None and event["multiValueHeaders"] is None
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_event_body_text_and_binary() -> None:
    assert build_event(_request(body="héllo".encode()))["body"] == "héllo"
    raw = b"\xff\xfe\x00"
    event = build_event(_request(body=raw))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    typed = build_event(
        _request(headers=[("Content-Type", "application/octet-stream")], body=b"abc"),
        binary_media_types=["application/*"],
    )
    assert typed["isBase64Encoded"] is True and base64.b64decode(typed["body"]) == b"abc"


def test_event_is_json_serialisable() -> None:
    json.dumps(build_event(_request(api_key="k")))


# --- metadata prelude --------------------------------------------------------------------------------------


def _prelude(document: object) -> bytes:
    return json.dumps(document).encode() + DELIMITER


def test_metadata_in_one_piece_with_payload() -> None:
    parser = MetadataParser()
    data = _prelude({"statusCode": 201, "headers": {"Content-Type": "text/plain"}, "cookies": ["a=b"]}) + b"hel"
    result = parser.feed(data)
    assert result == Metadata(201, (("Content-Type", "text/plain"), ("Set-Cookie", "a=b")), b"hel")


def test_metadata_byte_by_byte_including_split_delimiter() -> None:
    parser = MetadataParser()
    data = _prelude({"statusCode": 200, "multiValueHeaders": {"X-M": ["1", "2"]}}) + b"payload"
    results = [parser.feed(data[i : i + 1]) for i in range(len(data) - 7)]
    assert all(r is None for r in results[:-1])
    final = results[-1]
    assert isinstance(final, Metadata)
    assert final.headers == (("X-M", "1"), ("X-M", "2"))
    assert final.rest == b""  # the payload bytes after the delimiter are handed out later, by the caller


@pytest.mark.parametrize(
    "raw",
    [
        b"not json" + DELIMITER,
        b"[1,2]" + DELIMITER,
        _prelude({"statusCode": 200, "body": "x"}),
        _prelude({"statusCode": "200"}),
        _prelude({"statusCode": 42}),
        _prelude({"headers": {"Bad Name": "x"}}),
        _prelude({"headers": {"X": "a\r\nInjected: 1"}}),
        _prelude({"headers": {"X": ["list"]}}),
        _prelude({"cookies": "a=b"}),
    ],
)
def test_metadata_invalid_documents(raw: bytes) -> None:
    assert isinstance(MetadataParser().feed(raw), InvalidMetadata)


def test_metadata_without_delimiter_within_16_kb() -> None:
    parser = MetadataParser()
    assert parser.feed(b'{"statusCode": 200, "headers": {"X": "' + b"a" * 10_000) is None
    result = parser.feed(b"a" * (MAX_PRELUDE_BYTES - 10_000))
    assert isinstance(result, InvalidMetadata) and "16384" in result.reason


def test_metadata_delimiter_just_past_16_kb_is_invalid() -> None:
    head = b'{"headers": {"X": "'
    tail = b'"}}'
    filler = b"a" * (MAX_PRELUDE_BYTES - len(head) - len(tail) - 7)
    assert isinstance(MetadataParser().feed(head + filler + tail + DELIMITER), InvalidMetadata)
    ok = head + filler[:-1] + tail + DELIMITER
    assert len(ok) == MAX_PRELUDE_BYTES
    assert isinstance(MetadataParser().feed(ok), Metadata)


def test_metadata_stream_ended_early() -> None:
    parser = MetadataParser()
    assert parser.feed(b'{"statusCode": 200}') is None
    assert isinstance(parser.end(), InvalidMetadata)


def test_metadata_missing_status_defaults_to_200() -> None:
    result = MetadataParser().feed(_prelude({}))
    assert isinstance(result, Metadata) and result.status == 200


# --- routing -----------------------------------------------------------------------------------------------


def _settings(**values: object):  # type: ignore[no-untyped-def]
    return resolve_settings({"model_id": MODEL, **values})


def _body(reply: GatewayReply) -> object:
    return json.loads(reply.body)


def test_route_unknown_path_and_method_give_missing_token() -> None:
    settings = _settings()
    for method, target in (("POST", "/prod/other"), ("GET", "/prod/stream"), ("POST", "/dev/stream")):
        reply = route(method, target, [], settings, "key", "r")
        assert isinstance(reply, GatewayReply)
        assert reply.status == 403 and _body(reply) == {"message": "Missing Authentication Token"}


def test_route_api_key_missing_is_401_and_wrong_is_403_with_cors() -> None:
    settings = _settings(allowed_origins=["http://app.test"])
    # Missing identity-source header: API Gateway answers 401 itself (UNAUTHORIZED, OpenAI-shaped body).
    for target, headers in (("/prod/stream", [("Authorization", "Bearer secret")]),
                            ("/prod/v1/chat/completions", [("X-Api-Key", "secret")]),
                            ("/prod/v1/models", [("Authorization", "Basic c2VjcmV0")])):
        reply = route("POST" if "models" not in target else "GET", target, [("Origin", "http://app.test"), *headers],
                      settings, "secret", "r")
        assert isinstance(reply, GatewayReply)
        body = _body(reply)
        assert reply.status == 401 and isinstance(body, dict) and body["error"]["code"] == "invalid_api_key"
        assert ("Access-Control-Allow-Origin", "http://app.test") in reply.headers
    for target, header in (("/prod/stream", ("X-Api-Key", "nope")),
                           ("/prod/v1/chat/completions", ("Authorization", "Bearer nope"))):
        reply = route("POST", target, [("Origin", "http://app.test"), header], settings, "secret", "r")
        assert isinstance(reply, GatewayReply)
        assert reply.status == 403 and _body(reply) == {"message": "Forbidden"}
        assert ("Access-Control-Allow-Origin", "http://app.test") in reply.headers


def test_route_openai_routes_take_bearer_keys_and_their_own_methods() -> None:
    settings = _settings()
    bearer = [("Authorization", "Bearer secret")]
    assert route("POST", "/prod/v1/chat/completions", bearer, settings, "secret", "r") == Invoke(
        "/v1/chat/completions", "/prod/v1/chat/completions", "", "secret")
    assert route("GET", "/v1/models", bearer, settings, "secret", "r") == Invoke("/v1/models", "/v1/models", "",
                                                                                  "secret")
    for method, target in (("GET", "/prod/v1/chat/completions"), ("POST", "/prod/v1/models"),
                           ("POST", "/prod/v1/chat")):
        reply = route(method, target, bearer, settings, "secret", "r")
        assert isinstance(reply, GatewayReply) and reply.status == 403
    off = _settings(openai_routes=False)
    assert isinstance(route("POST", "/prod/v1/chat/completions", bearer, off, "secret", "r"), GatewayReply)
    prefixed = _settings(openai_path_prefix="openai")
    assert isinstance(route("POST", "/prod/openai/v1/chat/completions", bearer, prefixed, "secret", "r"), Invoke)


def test_route_valid_key_invokes_with_and_without_stage() -> None:
    settings = _settings()
    for target in ("/prod/stream?x=1", "/stream?x=1"):
        decision = route("POST", target, [("x-api-key", "secret")], settings, "secret", "r")
        assert decision == Invoke("/stream", target.split("?")[0], "x=1", "secret")


def test_route_preflight_needs_no_key() -> None:
    settings = _settings()
    reply = route("OPTIONS", "/prod/stream", [("Origin", "http://x.test")], settings, "secret", "r")
    assert isinstance(reply, GatewayReply) and reply.status == 200
    assert dict(reply.headers)["Access-Control-Allow-Origin"] == "*"
    assert "POST" in dict(reply.headers)["Access-Control-Allow-Methods"]


def test_route_auth_none_and_too_large() -> None:
    settings = _settings(auth="none")
    assert isinstance(route("POST", "/prod/stream", [], settings, None, "r"), Invoke)
    reply = route("POST", "/prod/stream", [], settings, None, "r", content_length=11 * 1024 * 1024)
    assert isinstance(reply, GatewayReply) and reply.status == 413


def test_response_headers_drop_framing() -> None:
    headers = response_headers([("Content-Type", "text/plain"), ("Content-Length", "5"), ("Connection", "x")], "r")
    assert headers == (("Content-Type", "text/plain"), ("x-amzn-RequestId", "r"))


# --- stack config ------------------------------------------------------------------------------------------


def _project(tmp_path: Path, project_config: str, stack_config: str | None) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: streaming-bedrock-api\nruntime: python\nconfig:\n" + project_config, encoding="utf-8"
    )
    if stack_config is not None:
        (tmp_path / "Pulumi.dev.yaml").write_text("config:\n" + stack_config, encoding="utf-8")
    return tmp_path


def test_stack_config_merges_defaults_and_stack(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "  streaming-bedrock-api:modelId:\n    type: string\n    default: a.b-c\n"
        "  path:\n    type: string\n    default: chat\n"
        "  streaming-bedrock-api:maxTokens:\n    type: integer\n",
        "  aws:region: ap-northeast-1\n  streaming-bedrock-api:modelId: " + MODEL + "\n"
        "  streaming-bedrock-api:allowedOrigins:\n    - http://localhost:8000\n",
    )
    config = load_stack_config(project)
    assert config.settings.model_id == MODEL
    assert config.settings.path == "chat"
    assert config.settings.max_tokens == 4096
    assert config.settings.allowed_origins == ("http://localhost:8000",)
    assert config.region == "ap-northeast-1"


def test_stack_config_invalid_value_is_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path, "  modelId: " + MODEL + "\n", "  streaming-bedrock-api:maxTokens: lots\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config(project)
    message = str(caught.value)
    assert "\n" not in message and "maxTokens" in message and "Pulumi.dev.yaml" in message


@pytest.mark.parametrize(
    ("project_config", "stack_config", "expected"),
    [
        ("  modelId: " + MODEL + "\n", "  streaming-bedrock-api:bogus: 1\n", "bogus"),
        ("  modelId: " + MODEL + "\n", "  streaming-bedrock-api:auth:\n    secure: AAA\n", "secret"),
        ("  modelId: [\n", None, "YAML"),
        ("  path: x\n", None, "modelId"),
    ],
)
def test_stack_config_errors(tmp_path: Path, project_config: str, stack_config: str | None, expected: str) -> None:
    project = _project(tmp_path, project_config, stack_config)
    with pytest.raises(StackConfigError, match=expected):
        load_stack_config(project)


def test_stack_config_missing_project(tmp_path: Path) -> None:
    with pytest.raises(StackConfigError, match=r"Pulumi\.yaml"):
        load_stack_config(tmp_path)


# --- how a runtime invocation's end reaches the gateway ----------------------------------------------------


def _result(mode: str, **values: object) -> InvocationResult:
    defaults: dict[str, object] = {
        "headers": {},
        "body": b"",
        "chunks": (),
        "trailers": {},
        "complete": True,
        "error_type": None,
        "error": None,
        "handed_out_at": 0.0,
        "completed_at": 0.0,
    }
    defaults.update(values)
    return InvocationResult(mode=mode, **defaults)  # type: ignore[arg-type]


def test_terminal_event_mapping() -> None:
    assert terminal_event(_result("streaming")) == Finished()
    trailers = _result("streaming", error_type="Function.Boom", error={"errorMessage": "boom"})
    assert terminal_event(trailers) == Finished(error_type="Function.Boom", error_body="boom")
    assert terminal_event(_result("streaming", complete=False)).kind == "crashed"  # type: ignore[union-attr]
    assert terminal_event(_result("error", error_type="Runtime.ValueError")) == InvokeFailed(
        "function_error", "Runtime.ValueError"
    )
    assert terminal_event(_result("timeout")).kind == "timeout"  # type: ignore[union-attr]
    assert terminal_event(_result("abandoned", error={"errorMessage": "gone"})) == InvokeFailed("crashed", "gone")
    assert terminal_event(_result("cancelled")).kind == "cancelled"  # type: ignore[union-attr]


def _headers(reply: object) -> dict[str, str]:
    assert isinstance(reply, GatewayReply)
    return dict(reply.headers)


def test_cors_on_gateway_answers_matches_what_the_deployed_api_sends() -> None:
    # Several origins: a deployed gateway response cannot pick one, so neither does the local one; the preflight
    # (a mapping template on AWS) echoes an allowed origin only.
    several = resolve_settings({"model_id": "m", "allowed_origins": ["https://a.test", "https://b.test"]})
    denied = _headers(route("POST", "/prod/stream", [("Origin", "https://a.test")], several, "key", "r"))
    assert "Access-Control-Allow-Origin" not in denied and denied["Vary"] == "Origin"
    allowed = _headers(route("OPTIONS", "/prod/stream", [("Origin", "https://b.test")], several, "key", "r"))
    assert allowed["Access-Control-Allow-Origin"] == "https://b.test"
    other = _headers(route("OPTIONS", "/prod/stream", [("Origin", "https://evil.test")], several, "key", "r"))
    assert "Access-Control-Allow-Origin" not in other
    # One origin: a static header, whatever the request's Origin (the browser compares it).
    one = resolve_settings({"model_id": "m", "allowed_origins": ["https://a.test"]})
    for method in ("POST", "OPTIONS"):
        reply = _headers(route(method, "/prod/stream", [("Origin", "https://evil.test")], one, "key", "r"))
        assert reply["Access-Control-Allow-Origin"] == "https://a.test"
