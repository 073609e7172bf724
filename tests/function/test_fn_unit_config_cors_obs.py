"""Environment configuration, CORS headers, and the per-invocation log and EMF lines."""

from __future__ import annotations

import json

import pytest
from bedrock_stream.config import ConfigError, FunctionConfig, load_config
from bedrock_stream.cors import cors_headers, preflight_headers
from bedrock_stream.observability import InvocationRecord, emf_line, log_line

BASE = {"BEDROCK_MODEL_ID": "m", "AWS_REGION": "us-east-1"}


def test_defaults_match_the_component_settings() -> None:
    assert load_config(BASE) == FunctionConfig(
        model_id="m", max_tokens_cap=4096, max_request_bytes=1_048_576, allowed_origins=("*",),
        heartbeat_seconds=10.0, deadline_margin_ms=3000, metrics_namespace="StreamingBedrockApi",
    )


def test_values_are_read_from_the_shared_variable_names() -> None:
    config = load_config({**BASE, "MAX_TOKENS_CAP": "100", "MAX_REQUEST_BYTES": "2048",
                          "CORS_ALLOW_ORIGINS": "https://a.example, https://b.example",
                          "HEARTBEAT_SECONDS": "2.5", "DEADLINE_MARGIN_MS": "0", "METRICS_NAMESPACE": "NS"})
    assert config == FunctionConfig("m", 100, 2048, ("https://a.example", "https://b.example"), 2.5, 0, "NS")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"AWS_REGION": "x"}, "BEDROCK_MODEL_ID"),
        ({"BEDROCK_MODEL_ID": "m"}, "AWS_REGION"),
        ({**BASE, "MAX_TOKENS_CAP": "lots"}, "MAX_TOKENS_CAP"),
        ({**BASE, "MAX_TOKENS_CAP": "0"}, "MAX_TOKENS_CAP"),
        ({**BASE, "MAX_REQUEST_BYTES": "-1"}, "MAX_REQUEST_BYTES"),
        ({**BASE, "HEARTBEAT_SECONDS": "nan"}, "HEARTBEAT_SECONDS"),
        ({**BASE, "HEARTBEAT_SECONDS": "0"}, "HEARTBEAT_SECONDS"),
        ({**BASE, "DEADLINE_MARGIN_MS": "1.5"}, "DEADLINE_MARGIN_MS"),
    ],
)
def test_bad_configuration_names_the_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config(env)


def test_cors_wildcard_and_listed_origins() -> None:
    assert cors_headers(("*",), "https://any.example") == {
        "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
    allowed = ("https://a.example",)
    assert cors_headers(allowed, "https://a.example") == {
        "Vary": "Origin", "Access-Control-Allow-Origin": "https://a.example",
        "Access-Control-Expose-Headers": "Retry-After"}
    assert cors_headers(allowed, "https://evil.example") == {"Vary": "Origin"}
    assert cors_headers(allowed, None) == {"Vary": "Origin"}


def test_preflight_only_advertises_methods_to_allowed_origins() -> None:
    ok = preflight_headers(("https://a.example",), "https://a.example")
    assert ok["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert "Access-Control-Allow-Methods" not in preflight_headers(("https://a.example",), "https://b.example")


def test_log_line_has_the_agreed_fields_and_no_text() -> None:
    record = InvocationRecord(request_id="r1", model="m", status=200, ttft_ms=12.34567, duration_ms=50.0,
                              input_tokens=3, output_tokens=9, stop_reason="end_turn", deltas=9)
    line = json.loads(log_line(record))
    assert line["message"] == "invocation"
    for key in ("request_id", "model", "status", "ttft_ms", "duration_ms", "input_tokens", "output_tokens",
                "stop_reason", "disconnected", "error_code"):
        assert key in line
    assert line["ttft_ms"] == 12.346


def test_emf_line_declares_exactly_the_metrics_it_carries() -> None:
    record = InvocationRecord(request_id="r1", model="m", status=429, error_code="throttled", duration_ms=3.0)
    doc = json.loads(emf_line(record, "NS", 1_700_000_000_000))
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert doc["_aws"]["Timestamp"] == 1_700_000_000_000
    assert directive["Namespace"] == "NS" and directive["Dimensions"] == [["Model"]]
    names = [m["Name"] for m in directive["Metrics"]]
    assert all(isinstance(doc[n], (int, float)) for n in names)
    assert "TimeToFirstToken" not in names  # no token arrived, so no sample
    assert doc["Throttles"] == 1 and doc["ClientErrors"] == 1 and doc["ServerErrors"] == 0
    assert doc["Model"] == "m" and "FunctionName" not in doc  # outside Lambda: no function name


def test_emf_metrics_are_per_function_when_lambda_names_it() -> None:
    config = load_config({"BEDROCK_MODEL_ID": "m", "AWS_REGION": "ap-northeast-1",
                          "AWS_LAMBDA_FUNCTION_NAME": "chat-fn-0a1b2c3"})
    assert config.function_name == "chat-fn-0a1b2c3"
    record = InvocationRecord(request_id="r1", model="m", status=200, duration_ms=3.0)
    doc = json.loads(emf_line(record, "NS", 1, config.function_name))
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["FunctionName", "Model"]]
    assert (doc["FunctionName"], doc["Model"]) == ("chat-fn-0a1b2c3", "m")
