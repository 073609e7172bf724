"""Each auth mode creates exactly its resources and method settings."""

from __future__ import annotations

import pytest

from .conftest import REGION, STAND_IN_API_KEY, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
POOL = "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_AbCdEf123"
API_KEY_TYPES = {
    "aws:apigateway/apiKey:ApiKey",
    "aws:apigateway/usagePlan:UsagePlan",
    "aws:apigateway/usagePlanKey:UsagePlanKey",
}
AUTHORIZER = "aws:apigateway/authorizer:Authorizer"


def test_api_key_is_the_default_with_usage_plan_throttle_and_quota() -> None:
    run = run_component({"model_id": MODEL, "throttle_rate_limit": 2.5, "throttle_burst_limit": 5,
                         "quota_limit_per_day": 300})
    post = run.one("aws:apigateway/method:Method", suffix="-post")
    # Keys come from the REQUEST authorizer (apiKeySource AUTHORIZER); see test_component_openai.py.
    assert post.inputs["authorization"] == "CUSTOM"
    assert post.inputs["authorizerId"] == "chat-key-authorizer-id"
    assert post.inputs["apiKeyRequired"] is True
    assert run.one("aws:apigateway/apiKey:ApiKey").inputs["enabled"] is True
    plan = run.one("aws:apigateway/usagePlan:UsagePlan").inputs
    assert plan["apiStages"] == [{"apiId": "chat-api-id", "stage": "prod"}]
    assert plan["throttleSettings"] == {"rateLimit": 2.5, "burstLimit": 5}
    assert plan["quotaSettings"] == {"limit": 300, "period": "DAY"}
    plan_key = run.one("aws:apigateway/usagePlanKey:UsagePlanKey").inputs
    assert plan_key == {"keyId": "chat-key-id", "keyType": "API_KEY", "usagePlanId": "chat-usage-plan-id"}
    assert {a.name for a in run.of_type(AUTHORIZER)} == {"chat-key-authorizer", "chat-bearer-authorizer"}
    assert run.outputs["api_key"] == STAND_IN_API_KEY
    assert {"api_key", "curl_command"} <= run.secret_outputs


def test_iam_uses_sigv4_and_no_key() -> None:
    run = run_component({"model_id": MODEL, "auth": "iam"})
    post = run.one("aws:apigateway/method:Method", suffix="-post")
    assert post.inputs["authorization"] == "AWS_IAM"
    assert post.inputs.get("apiKeyRequired") in (False, None)
    assert not API_KEY_TYPES & set(run.types())
    assert not run.of_type(AUTHORIZER)
    assert run.outputs["api_key"] is None
    assert f"--aws-sigv4 'aws:amz:{REGION}:execute-api'" in run.outputs["curl_command"]
    assert not run.secret_outputs


def test_cognito_uses_a_user_pool_authorizer() -> None:
    run = run_component({"model_id": MODEL, "auth": "cognito", "cognito_user_pool_arns": [POOL]})
    authorizer = run.one(AUTHORIZER).inputs
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["providerArns"] == [POOL]
    assert authorizer["identitySource"] == "method.request.header.Authorization"
    assert authorizer["restApi"] == "chat-api-id"
    post = run.one("aws:apigateway/method:Method", suffix="-post")
    assert post.inputs["authorization"] == "COGNITO_USER_POOLS"
    assert post.inputs["authorizerId"] == "chat-cognito-id"
    assert not API_KEY_TYPES & set(run.types())
    assert run.outputs["api_key"] is None
    assert 'Authorization: $ID_TOKEN' in run.outputs["curl_command"]


def test_none_is_explicit_and_open() -> None:
    run = run_component({"model_id": MODEL, "auth": "none"})
    post = run.one("aws:apigateway/method:Method", suffix="-post")
    assert post.inputs["authorization"] == "NONE"
    assert post.inputs.get("apiKeyRequired") in (False, None)
    assert not API_KEY_TYPES & set(run.types())
    assert not run.of_type(AUTHORIZER)
    assert run.outputs["api_key"] is None
    assert "x-api-key" not in run.outputs["curl_command"]
    assert run.outputs["curl_command"].startswith("curl --no-buffer -X POST 'https://")


@pytest.mark.parametrize("auth", ["api_key", "iam", "none"])
def test_the_rest_api_declares_its_auth_mode_in_a_tag(auth: str) -> None:
    run = run_component({"model_id": MODEL, "auth": auth})
    assert run.one("aws:apigateway/restApi:RestApi").inputs["tags"] == {"streaming-bedrock-api:auth": auth}


def test_preflight_never_requires_auth() -> None:
    for args in (
        {"model_id": MODEL},
        {"model_id": MODEL, "auth": "iam"},
        {"model_id": MODEL, "auth": "cognito", "cognito_user_pool_arns": [POOL]},
    ):
        options = run_component(args).one("aws:apigateway/method:Method", suffix="chat-options")
        assert options.inputs["authorization"] == "NONE"
        assert options.inputs.get("apiKeyRequired") in (False, None)
