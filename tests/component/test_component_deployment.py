"""Deployment triggers hash the API configuration: any change redeploys, nothing else does."""

from __future__ import annotations

from typing import Any

import pytest
from streaming_bedrock_api import api_config
from streaming_bedrock_api.settings import resolve_settings

from .conftest import run_component

BASE: dict[str, Any] = {"model_id": "jp.anthropic.claude-haiku-4-5-20251001-v1:0"}


def _triggers(args: dict[str, Any]) -> dict[str, str]:
    run = run_component(args)
    deployment = run.one("aws:apigateway/deployment:Deployment")
    triggers: dict[str, str] = deployment.inputs["triggers"]
    assert deployment.inputs["restApi"] == "chat-api-id"
    return triggers


def test_triggers_are_stable_when_nothing_changes() -> None:
    first = _triggers(BASE)
    assert first == _triggers(dict(BASE))
    assert len(first["configuration"]) == 64


def test_triggers_follow_a_replaced_function() -> None:
    # A new function (new name, new ARN) changes the integration URI; the stage must be redeployed to use it.
    run = run_component(BASE)
    function = run.one("aws:lambda/function:Function", suffix="chat-fn")
    integration = run.one("aws:apigateway/integration:Integration", "-post-integration")
    triggers = run.one("aws:apigateway/deployment:Deployment").inputs["triggers"]
    assert integration.inputs["uri"].endswith("/response-streaming-invocations")
    assert triggers["function"] == integration.inputs["uri"]
    assert function.name in triggers["function"]


def test_triggers_ignore_settings_that_do_not_shape_the_api() -> None:
    # Function-only settings change the function in place; the stage need not be redeployed for them.
    assert _triggers(BASE) == _triggers({**BASE, "memory_size": 512, "max_tokens": 100})


@pytest.mark.parametrize(
    "change",
    [
        {"auth": "none"},
        {"auth": "iam"},
        {"integration_timeout_ms": 60_000},
        {"path": "chat"},
        {"allowed_origins": ["https://app.example.com"]},
    ],
)
def test_triggers_change_with_the_api_configuration(change: dict[str, Any]) -> None:
    assert _triggers(BASE) != _triggers({**BASE, **change})


def test_transfer_mode_is_part_of_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    before = api_config.deployment_triggers(resolve_settings(BASE))
    monkeypatch.setattr(api_config, "TRANSFER_MODE", "BUFFERED")
    after = api_config.deployment_triggers(resolve_settings(BASE))
    assert before != after


def test_the_hash_covers_what_the_integration_is_built_from() -> None:
    configuration = api_config.api_configuration(resolve_settings({**BASE, "integration_timeout_ms": 1234}))
    integration = configuration["post"]["integration"]
    assert integration == {
        "type": "AWS_PROXY",
        "httpMethod": "POST",
        "uriKind": "response-streaming-invocations",
        "responseTransferMode": "STREAM",
        "timeoutMs": 1234,
    }


def test_deployment_depends_on_every_method_integration_and_response() -> None:
    # A deployment snapshots what exists when it is created, so it must wait for everything it serves.
    run = run_component(BASE)
    deployment = run.one("aws:apigateway/deployment:Deployment")
    served = [
        r.urn
        for r in run.registrations
        if r.typ
        in (
            "aws:apigateway/method:Method",
            "aws:apigateway/integration:Integration",
            "aws:apigateway/integrationResponse:IntegrationResponse",
            "aws:apigateway/response:Response",
        )
    ]
    # native POST + integration, OPTIONS mock (3), 3 gateway responses, 2 OpenAI routes x (method, integration,
    # OPTIONS mock (3))
    assert len(served) == 18
    assert set(served) <= set(deployment.dependencies)


POOL = "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_abc"


@pytest.mark.parametrize(
    "args",
    [
        BASE,
        {**BASE, "auth": "cognito", "cognito_user_pool_arns": [POOL]},
        {**BASE, "auth": "iam", "integration_timeout_ms": 120_000, "path": "chat"},
        {**BASE, "auth": "none", "allowed_origins": ["https://a.example.com", "https://b.example.com"]},
    ],
    ids=["api_key", "cognito", "iam", "none-two-origins"],
)
def test_the_hashed_configuration_is_what_was_built(args: dict[str, Any]) -> None:
    # The hash is a separate description of api.py's resources; a change made only in api.py must show up here.
    run = run_component(args)
    hashed = api_config.api_configuration(resolve_settings(args))
    post = run.one("aws:apigateway/method:Method", "-post")
    integration = run.one("aws:apigateway/integration:Integration", "-post-integration")
    pools = [arn for r in run.of_type("aws:apigateway/authorizer:Authorizer")
             for arn in r.inputs.get("providerArns", [])]
    built_post = {
        "authorization": post.inputs["authorization"],
        "apiKeyRequired": post.inputs.get("apiKeyRequired", False),
        "cognitoUserPools": sorted(pools),
        "integration": {
            "type": integration.inputs["type"],
            "httpMethod": integration.inputs["integrationHttpMethod"],
            "uriKind": integration.inputs["uri"].rsplit("/", 1)[-1],
            "responseTransferMode": integration.inputs["responseTransferMode"],
            "timeoutMs": integration.inputs["timeoutMilliseconds"],
        },
    }
    assert built_post == hashed["post"]
    assert run.one("aws:apigateway/resource:Resource", suffix="chat-resource").inputs["pathPart"] == hashed["path"]
    assert run.one("aws:apigateway/restApi:RestApi").inputs["endpointConfiguration"]["types"] == hashed["endpointType"]

    options = run.one("aws:apigateway/method:Method", "chat-options")
    mock = run.one("aws:apigateway/integration:Integration", "chat-options-integration")
    method_response = run.one("aws:apigateway/methodResponse:MethodResponse", suffix="chat-options-200")
    integration_response = run.one("aws:apigateway/integrationResponse:IntegrationResponse",
                                   suffix="chat-options-integration-200")
    built_options = {
        "authorization": options.inputs["authorization"],
        "integration": {
            "type": mock.inputs["type"],
            "requestTemplate": mock.inputs["requestTemplates"]["application/json"],
        },
        "methodResponse": method_response.inputs["responseParameters"],
        "responseParameters": integration_response.inputs["responseParameters"],
        "responseTemplate": (integration_response.inputs.get("responseTemplates") or {}).get("application/json", ""),
    }
    assert built_options == hashed["options"]
    gateway_responses = run.of_type("aws:apigateway/response:Response")
    responses = {r.inputs["responseType"]: r.inputs["responseParameters"] for r in gateway_responses}
    assert responses == hashed["gatewayResponses"]
    templates = {r.inputs["responseType"]: r.inputs.get("responseTemplates") for r in gateway_responses}
    assert templates == hashed["gatewayResponseTemplates"]
    assert run.one("aws:apigateway/restApi:RestApi").inputs.get("apiKeySource") == hashed["apiKeySource"]
    authorizers = {r.name.removeprefix("chat-"): r.inputs for r in run.of_type("aws:apigateway/authorizer:Authorizer")
                   if r.inputs["type"] == "REQUEST"}
    if hashed["authorizers"] is None:
        assert not authorizers
    else:
        assert {"ttlSeconds": authorizers["key-authorizer"]["authorizerResultTtlInSeconds"],
                "native": authorizers["key-authorizer"]["identitySource"],
                "openai": authorizers["bearer-authorizer"]["identitySource"]} == hashed["authorizers"]
    built_openai = {}
    for kind in ("completions", "models"):
        method = run.one("aws:apigateway/method:Method", f"-openai-{kind}").inputs
        built_openai[method["httpMethod"]] = {"authorization": method["authorization"],
                                              "apiKeyRequired": method.get("apiKeyRequired", False)}
    assert {m: {k: v for k, v in route.items() if k != "path"} for m, route in hashed["openai"].items()} == built_openai
