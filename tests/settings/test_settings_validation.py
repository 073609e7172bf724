"""Settings validation: defaults, coercion from stack config, and errors that name the argument."""

from __future__ import annotations

from typing import Any

import pytest
from streaming_bedrock_api.settings import (
    CONFIG_KEYS,
    Settings,
    SettingsError,
    allowed_origin,
    cors_headers,
    function_environment,
    resolve_settings,
    settings_from_config,
)

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


def test_defaults_are_the_documented_secure_ones() -> None:
    settings = resolve_settings({"model_id": MODEL})
    assert settings.auth == "api_key"
    assert settings.endpoint_type == "REGIONAL"
    assert settings.integration_timeout_ms == 900_000
    assert settings.timeout_seconds == 900
    assert settings.architecture == "arm64"
    assert settings.log_retention_days == 30
    assert settings.model_ids == (MODEL,)


def test_integration_timeout_follows_a_shorter_function_timeout() -> None:
    settings = resolve_settings({"model_id": MODEL, "timeout_seconds": 120})
    assert settings.integration_timeout_ms == 120_000


def test_stack_config_strings_are_coerced() -> None:
    settings = settings_from_config(
        {
            "modelId": MODEL,
            "memorySize": "512",
            "tracing": "true",
            "allowedOrigins": "https://a.example.com, https://b.example.com",
            "additionalModelIds": [MODEL, "anthropic.claude-haiku-4-5-20251001-v1:0"],
            "heartbeatSeconds": 2.5,
        }
    )
    assert settings.memory_size == 512
    assert settings.tracing is True
    assert settings.allowed_origins == ("https://a.example.com", "https://b.example.com")
    assert settings.model_ids == (MODEL, "anthropic.claude-haiku-4-5-20251001-v1:0")
    assert settings.heartbeat_seconds == 2.5


def test_zero_in_stack_config_means_unset_for_optional_figures() -> None:
    settings = settings_from_config(
        {"modelId": MODEL, "timeoutSeconds": 120, "integrationTimeoutMs": 0, "reservedConcurrency": "0"}
    )
    assert settings.integration_timeout_ms == 120_000
    assert settings.reserved_concurrency is None
    with pytest.raises(SettingsError, match=r"^memorySize: "):
        settings_from_config({"modelId": MODEL, "memorySize": 0})


def test_every_setting_has_a_config_key() -> None:
    assert sorted(CONFIG_KEYS.values()) == sorted(f for f in Settings.__dataclass_fields__)
    assert CONFIG_KEYS["integrationTimeoutMs"] == "integration_timeout_ms"


@pytest.mark.parametrize(
    ("values", "argument", "fragment"),
    [
        ({}, "model_id", "required"),
        ({"model_id": ""}, "model_id", "non-empty"),
        ({"model_id": "arn:aws:bedrock:us-east-1::foundation-model/x"}, "model_id", "ARNs are not accepted"),
        ({"model_id": MODEL, "auth": "oauth"}, "auth", "api_key, iam, cognito, none"),
        ({"model_id": MODEL, "auth": "cognito"}, "cognito_user_pool_arns", "at least one"),
        ({"model_id": MODEL, "cognito_user_pool_arns": ["x"]}, "cognito_user_pool_arns", "only applies"),
        ({"model_id": MODEL, "integration_timeout_ms": 900_001}, "integration_timeout_ms", "between 50 and 900000"),
        (
            {"model_id": MODEL, "timeout_seconds": 60, "integration_timeout_ms": 90_000},
            "integration_timeout_ms",
            "exceeds the function timeout",
        ),
        ({"model_id": MODEL, "timeout_seconds": 901}, "timeout_seconds", "between 1 and 900"),
        ({"model_id": MODEL, "path": "a b"}, "path", "one path segment"),
        ({"model_id": MODEL, "path": "a/b"}, "path", "one path segment"),
        # Dot segments: clients normalise /prod/.. away (RFC 3986), so the endpoint could never be called.
        ({"model_id": MODEL, "path": "."}, "path", "dot segment"),
        ({"model_id": MODEL, "path": ".."}, "path", "dot segment"),
        ({"model_id": MODEL, "stage_name": "pr od"}, "stage_name", "letters"),
        ({"model_id": MODEL, "endpoint_type": "EDGE"}, "endpoint_type", "30 seconds"),
        ({"model_id": MODEL, "endpoint_type": "PRIVATE"}, "endpoint_type", "VPC endpoint"),
        ({"model_id": MODEL, "allowed_origins": ["*", "https://a.example.com"]}, "allowed_origins", "cannot be"),
        ({"model_id": MODEL, "allowed_origins": ["https://a.example.com/"]}, "allowed_origins", "no path"),
        ({"model_id": MODEL, "memory_size": "lots"}, "memory_size", "whole number"),
        ({"model_id": MODEL, "memory_size": True}, "memory_size", "whole number"),
        ({"model_id": MODEL, "log_retention_days": 31}, "log_retention_days", "not a CloudWatch retention"),
        ({"model_id": MODEL, "tracing": "yes"}, "tracing", "true or false"),
        ({"model_id": MODEL, "heartbeat_seconds": 600}, "heartbeat_seconds", "between"),
        ({"model_id": MODEL, "max_tokens": 0}, "max_tokens", "between 1"),
        ({"model_id": MODEL, "colour": "blue"}, "colour", "unknown argument"),
    ],
)
def test_invalid_values_name_the_argument(values: dict[str, Any], argument: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        resolve_settings(values)
    assert caught.value.argument == argument
    assert str(caught.value).startswith(f"{argument}: ")
    assert fragment in str(caught.value)


def test_config_errors_use_the_config_key_name() -> None:
    with pytest.raises(SettingsError, match=r"^integrationTimeoutMs: .*exceeds the function timeout"):
        settings_from_config({"modelId": MODEL, "timeoutSeconds": 60, "integrationTimeoutMs": 61_000})
    with pytest.raises(SettingsError, match=r"^modelID: unknown config key"):
        settings_from_config({"modelID": MODEL})


def test_function_environment_carries_the_limits() -> None:
    settings = resolve_settings(
        {"model_id": MODEL, "max_tokens": 1000, "allowed_origins": ["https://a.example.com", "http://localhost:5173"]}
    )
    env = function_environment(settings)
    assert env["BEDROCK_MODEL_ID"] == MODEL
    assert env["MAX_TOKENS_CAP"] == "1000"
    assert env["CORS_ALLOW_ORIGINS"] == "https://a.example.com,http://localhost:5173"
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/exec-wrapper"
    assert all(isinstance(value, str) for value in env.values())


def test_function_environment_is_exactly_the_contract_with_non_default_values() -> None:
    # Every variable the function reads, each from a non-default setting, so a hard-coded default shows up.
    settings = resolve_settings(
        {
            "model_id": MODEL,
            "max_tokens": 2777,
            "max_request_bytes": 2048,
            "allowed_origins": ["https://a.example.com"],
            "heartbeat_seconds": 2.5,
            "deadline_margin_ms": 1500,
            "additional_model_ids": ["anthropic.claude-sonnet-4-5-20250929-v1:0"],
            "openai_model_alias": "default",
            "thinking_budget_tokens": 1024,
        }
    )
    assert function_environment(settings) == {
        "AWS_LAMBDA_EXEC_WRAPPER": "/var/task/exec-wrapper",
        "BEDROCK_MODEL_ID": MODEL,
        "MAX_TOKENS_CAP": "2777",
        "MAX_REQUEST_BYTES": "2048",
        "CORS_ALLOW_ORIGINS": "https://a.example.com",
        "HEARTBEAT_SECONDS": "2.5",
        "DEADLINE_MARGIN_MS": "1500",
        "METRICS_NAMESPACE": "StreamingBedrockApi",
        "OPENAI_MODEL_IDS": f"{MODEL},anthropic.claude-sonnet-4-5-20250929-v1:0",
        "OPENAI_MODEL_ALIAS": "default",
        "THINKING_BUDGET_TOKENS": "1024",
    }


def test_cors_echoes_only_listed_origins() -> None:
    listed = resolve_settings({"model_id": MODEL, "allowed_origins": ["https://a.example.com"]})
    assert allowed_origin(listed, "https://a.example.com") == "https://a.example.com"
    assert allowed_origin(listed, "https://evil.example.com") is None
    assert cors_headers(listed, "https://evil.example.com") == {"Vary": "Origin"}
    headers = cors_headers(listed, "https://a.example.com")
    assert headers["Access-Control-Allow-Origin"] == "https://a.example.com"
    assert headers["Vary"] == "Origin"
    assert "X-Api-Key" in headers["Access-Control-Allow-Headers"]
    wildcard = cors_headers(resolve_settings({"model_id": MODEL}), None)
    assert wildcard["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in wildcard
