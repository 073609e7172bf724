"""Bad arguments fail before any resource is registered, with a message that names the argument."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from streaming_bedrock_api.settings import SettingsError

from .conftest import RecordingMocks, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"model_id": MODEL, "auth": "basic"}, "auth", "must be one of api_key, iam, cognito, none"),
        ({"model_id": MODEL, "timeout_seconds": 901}, "timeout_seconds", "between 1 and 900"),
        ({"model_id": MODEL, "timeout_seconds": 0}, "timeout_seconds", "between 1 and 900"),
        ({"model_id": MODEL, "integration_timeout_ms": 900_001}, "integration_timeout_ms", "900000"),
        (
            {"model_id": MODEL, "timeout_seconds": 60, "integration_timeout_ms": 61_000},
            "integration_timeout_ms",
            "exceeds the function timeout",
        ),
        ({"model_id": ""}, "model_id", "non-empty"),
        ({"model_id": "   "}, "model_id", "non-empty"),
        ({}, "model_id", "required"),
        ({"model_id": MODEL, "path": "a/b"}, "path", "one path segment"),
        ({"model_id": MODEL, "path": "{proxy+}"}, "path", "one path segment"),
        ({"model_id": MODEL, "path": ""}, "path", "one path segment"),
        ({"model_id": MODEL, "endpoint_type": "EDGE"}, "endpoint_type", "30 seconds"),
        ({"model_id": MODEL, "endpoint_type": "PRIVATE"}, "endpoint_type", "use REGIONAL"),
        ({"model_id": MODEL, "auth": "cognito"}, "cognito_user_pool_arns", "at least one"),
        ({"model_id": MODEL, "allowed_origins": ["https://a.example.com/"]}, "allowed_origins", "not an origin"),
        ({"model_id": MODEL, "log_retention_days": 2}, "log_retention_days", "not a CloudWatch retention"),
        ({"model_id": MODEL, "memroy_size": 512}, "memroy_size", "unknown argument"),
    ],
)
def test_invalid_arguments_are_rejected_naming_the_argument(
    args: dict[str, Any], argument: str, fragment: str
) -> None:
    mocks = RecordingMocks()
    with pytest.raises(SettingsError) as caught:
        run_component(args, mocks=mocks)
    assert caught.value.argument == argument
    assert str(caught.value).startswith(f"{argument}: ")
    assert fragment in str(caught.value)
    # Validation runs before any child is created: nothing AWS-side was registered.
    assert not mocks.new_resources


def test_outputs_of_other_resources_are_refused_as_arguments() -> None:
    mocks = RecordingMocks()
    with pytest.raises(SettingsError) as caught:
        run_component({"model_id": MODEL, "path": pulumi.Output.from_input("stream")}, mocks=mocks)
    assert caught.value.argument == "path"
    assert "known at preview time" in str(caught.value)
    assert not mocks.new_resources


def test_a_profile_prefix_that_does_not_fit_the_stack_region_fails_naming_both() -> None:
    # The mocks answer getRegion with us-east-1; the 'jp.' profile exists only in Japanese source regions.
    with pytest.raises(Exception, match=r"model_id: 'jp\.anthropic.*'us-east-1'.*'us\.anthropic.*'global\."):
        run_component({"model_id": MODEL, "auth": "none"}, mocks=RecordingMocks(region="us-east-1"))


def test_a_profile_prefix_that_fits_the_stack_region_deploys() -> None:
    run = run_component({"model_id": MODEL.replace("jp.", "us.", 1), "auth": "none"},
                        mocks=RecordingMocks(region="us-east-1"))
    assert run.outputs["url"].startswith("https://")
