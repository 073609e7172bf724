"""The OpenAI-compatible routes and the API key authorizer, as registered under Pulumi mocks."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from typing import Any

import pytest
from streaming_bedrock_api import api_config
from streaming_bedrock_api.authorizer import SOURCE_DIR, SOURCE_FILE, authorizer_zip_bytes
from streaming_bedrock_api.settings import resolve_settings

from .conftest import ACCOUNT, REGION, ComponentRun, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
EXTRA = "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
RESOURCE = "aws:apigateway/resource:Resource"
PERMISSION = "aws:lambda/permission:Permission"
AUTHORIZER = "aws:apigateway/authorizer:Authorizer"
EXECUTION_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:chat-api-id"


@pytest.fixture(scope="module")
def default_run() -> ComponentRun:
    return run_component({"model_id": MODEL, "additional_model_ids": [EXTRA], "openai_model_alias": "default"})


def resource_paths(run: ComponentRun) -> dict[str, str]:
    """Resource logical name → full path, rebuilt from the recorded parent ids."""
    by_id = {f"{r.name}-id": r for r in run.of_type(RESOURCE)}
    paths: dict[str, str] = {}
    for registration in run.of_type(RESOURCE):
        parts, current = [], registration
        while True:
            parts.append(current.inputs["pathPart"])
            parent = by_id.get(current.inputs["parentId"])
            if parent is None:
                assert current.inputs["parentId"] == "chat-api-root"
                break
            current = parent
        paths[registration.name] = "/" + "/".join(reversed(parts))
    return paths


def test_routes_share_the_streaming_integration_and_the_key_authorizer(default_run: ComponentRun) -> None:
    paths = resource_paths(default_run)
    assert sorted(paths.values()) == ["/stream", "/v1", "/v1/chat", "/v1/chat/completions", "/v1/models"]
    for kind, verb, path in (("completions", "POST", "/v1/chat/completions"), ("models", "GET", "/v1/models")):
        method = default_run.one(METHOD, suffix=f"-openai-{kind}").inputs
        assert (method["httpMethod"], paths[method["resourceId"].removesuffix("-id")]) == (verb, path)
        assert method["authorization"] == "CUSTOM" and method["apiKeyRequired"] is True
        assert method["authorizerId"] == "chat-bearer-authorizer-id"
        integration = default_run.one(INTEGRATION, suffix=f"-openai-{kind}-integration").inputs
        assert integration["type"] == "AWS_PROXY" and integration["responseTransferMode"] == "STREAM"
        assert integration["uri"].endswith("/response-streaming-invocations")
        assert integration["timeoutMilliseconds"] == 900_000
        options = default_run.one(METHOD, suffix=f"-openai-{kind}-options").inputs
        assert options["httpMethod"] == "OPTIONS" and options["authorization"] == "NONE"
        permission = default_run.one(PERMISSION, suffix=f"-openai-{kind}-permission").inputs
        assert permission["sourceArn"] == f"{EXECUTION_ARN}/*/{verb}{path}"
        assert permission["principal"] == "apigateway.amazonaws.com"


def test_api_key_source_authorizers_identity_sources_ttl_and_permission(default_run: ComponentRun) -> None:
    assert default_run.one("aws:apigateway/restApi:RestApi").inputs["apiKeySource"] == "AUTHORIZER"
    native = default_run.one(AUTHORIZER, suffix="-key-authorizer").inputs
    bearer = default_run.one(AUTHORIZER, suffix="-bearer-authorizer").inputs
    function = default_run.one("aws:lambda/function:Function", suffix="-authorizer-fn")
    for authorizer in (native, bearer):
        assert authorizer["type"] == "REQUEST" and authorizer["restApi"] == "chat-api-id"
        assert authorizer["authorizerResultTtlInSeconds"] == 60
        assert authorizer["authorizerUri"].endswith(f"function:{function.name}-0a1b2c3/invocations")
    assert native["identitySource"] == "method.request.header.x-api-key"
    assert bearer["identitySource"] == "method.request.header.Authorization"
    permission = default_run.one(PERMISSION, suffix="-authorizer-permission").inputs
    assert permission["sourceArn"] == f"{EXECUTION_ARN}/authorizers/*"
    assert permission["function"] == f"{function.name}-0a1b2c3"
    assert function.inputs["handler"] == "key_authorizer.handler" and function.inputs["timeout"] == 5
    assert "environment" not in function.inputs  # it needs nothing: no key, no secret


def test_unauthorized_gateway_response_is_openai_shaped(default_run: ComponentRun) -> None:
    response = default_run.one("aws:apigateway/response:Response", suffix="-unauthorized").inputs
    assert response["responseType"] == "UNAUTHORIZED"
    assert response["responseTemplates"]["application/json"] == api_config.UNAUTHORIZED_TEMPLATE
    assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


def test_function_environment_and_base_url_output(default_run: ComponentRun) -> None:
    env = default_run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert env["OPENAI_MODEL_IDS"] == f"{MODEL},{EXTRA}" and env["OPENAI_MODEL_ALIAS"] == "default"
    assert "THINKING_BUDGET_TOKENS" not in env
    assert default_run.outputs["openai_base_url"] == "https://chat-api-id.execute-api.ap-northeast-1.amazonaws.com/prod/v1"


def test_prefix_routes_off_and_other_auth_modes() -> None:
    prefixed = run_component({"model_id": MODEL, "openai_path_prefix": "openai", "thinking_budget_tokens": 2048,
                              "auth": "iam"})
    assert "/openai/v1/chat/completions" in resource_paths(prefixed).values()
    assert prefixed.outputs["openai_base_url"].endswith("/prod/openai/v1")
    assert prefixed.one(METHOD, suffix="-openai-completions").inputs["authorization"] == "AWS_IAM"
    assert not prefixed.of_type(AUTHORIZER)
    assert "apiKeySource" not in prefixed.one("aws:apigateway/restApi:RestApi").inputs
    env = prefixed.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"]
    assert env["THINKING_BUDGET_TOKENS"] == "2048"
    off = run_component({"model_id": MODEL, "openai_routes": False})
    assert sorted(resource_paths(off).values()) == ["/stream"]
    assert [a.name for a in off.of_type(AUTHORIZER)] == ["chat-key-authorizer"]
    assert off.outputs["openai_base_url"] is None
    assert "OPENAI_MODEL_IDS" not in off.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"][
        "variables"]


def test_deployment_waits_for_and_hashes_the_routes(default_run: ComponentRun) -> None:
    deployment = default_run.one("aws:apigateway/deployment:Deployment")
    urns = {r.urn: r.name for r in default_run.registrations}
    waited = {urns[u] for u in deployment.dependencies if u in urns}
    assert {"chat-openai-completions", "chat-openai-completions-integration", "chat-openai-models",
            "chat-openai-models-integration", "chat-openai-models-options"} <= waited
    base = resolve_settings({"model_id": MODEL})
    hashes = {api_config.deployment_triggers(resolve_settings({"model_id": MODEL, **change}))["configuration"]
              for change in ({}, {"openai_routes": False}, {"openai_path_prefix": "x"})}
    assert len(hashes) == 3 and api_config.deployment_triggers(base)["configuration"] in hashes


def test_settings_refuse_clashing_paths_and_bad_budgets() -> None:
    from streaming_bedrock_api.settings import SettingsError
    with pytest.raises(SettingsError, match="path"):
        resolve_settings({"model_id": MODEL, "path": "v1"})
    with pytest.raises(SettingsError, match="path"):
        resolve_settings({"model_id": MODEL, "path": "openai", "openai_path_prefix": "openai"})
    assert resolve_settings({"model_id": MODEL, "path": "v1", "openai_routes": False}).path == "v1"
    with pytest.raises(SettingsError, match="thinking_budget_tokens"):
        resolve_settings({"model_id": MODEL, "thinking_budget_tokens": 500})
    with pytest.raises(SettingsError, match="thinking_budget_tokens"):
        resolve_settings({"model_id": MODEL, "thinking_budget_tokens": 4096, "max_tokens": 4096})
    with pytest.raises(SettingsError, match="openai_path_prefix"):
        resolve_settings({"model_id": MODEL, "openai_path_prefix": "a/b"})


def _authorizer_module() -> Any:
    spec = importlib.util.spec_from_file_location("key_authorizer", SOURCE_DIR / SOURCE_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_authorizer_reads_the_header_its_identity_source_caches_on() -> None:
    module = _authorizer_module()
    arn = f"{EXECUTION_ARN}/prod/POST/v1/chat/completions"
    result = module.handler({"resource": "/v1/chat/completions", "methodArn": arn,
                             "headers": {"authorization": "Bearer k-1", "x-api-key": "other"}}, None)
    assert result["usageIdentifierKey"] == "k-1"
    assert result["policyDocument"]["Statement"][0]["Resource"] == f"{EXECUTION_ARN}/prod/*"
    native = module.handler({"resource": "/stream", "methodArn": f"{EXECUTION_ARN}/prod/POST/stream",
                             "headers": {"X-Api-Key": "k-2", "Authorization": "Bearer other"}}, None)
    assert native["usageIdentifierKey"] == "k-2"
    for event in ({"resource": "/v1/models", "methodArn": arn, "headers": {"Authorization": "Basic abc"}},
                  {"resource": "/v1/models", "methodArn": arn, "headers": {"Authorization": "Bearer  "}},
                  {"resource": "/stream", "methodArn": arn, "headers": None}):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            module.handler(event, None)


def test_authorizer_zip_is_reproducible_and_self_contained() -> None:
    data = authorizer_zip_bytes()
    assert data == authorizer_zip_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [SOURCE_FILE]
        source = archive.read(SOURCE_FILE).decode()
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "typing"}
