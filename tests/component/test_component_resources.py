"""The resources StreamingBedrockApi registers, checked on the mocks' records after the program ran."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
from streaming_bedrock_api.packaging import HANDLER, WRAPPER_NAME
from streaming_bedrock_api.settings import CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS

from .conftest import ACCOUNT, REGION, STAND_IN_API_KEY, ComponentRun, run_component

INTEGRATION_RESPONSE = "aws:apigateway/integrationResponse:IntegrationResponse"
METHOD_RESPONSE = "aws:apigateway/methodResponse:MethodResponse"
PERMISSION = "aws:lambda/permission:Permission"

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture(scope="module")
def default_run() -> ComponentRun:
    return run_component({"model_id": MODEL})


def test_every_child_is_parented_to_the_component_and_name_prefixed(default_run: ComponentRun) -> None:
    component = default_run.one("streaming-bedrock-api:index:StreamingBedrockApi")
    children = [r for r in default_run.registrations if r is not component]
    assert len(children) >= 20
    for child in children:
        assert child.parent == default_run.component_urn, child.name
        assert child.name.startswith("chat-"), child.name


def test_streaming_integration(default_run: ComponentRun) -> None:
    integration = default_run.one("aws:apigateway/integration:Integration", suffix="-post-integration")
    inputs = integration.inputs
    assert inputs["type"] == "AWS_PROXY"
    assert inputs["httpMethod"] == "POST"
    assert inputs["integrationHttpMethod"] == "POST"
    assert inputs["responseTransferMode"] == "STREAM"
    assert inputs["timeoutMilliseconds"] == 900_000
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:chat-fn-0a1b2c3"
    assert inputs["uri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2021-11-15/functions/{function_arn}/response-streaming-invocations"
    )
    assert inputs["uri"].endswith("/response-streaming-invocations")


def test_integration_timeout_follows_a_shorter_function_timeout() -> None:
    run = run_component({"model_id": MODEL, "timeout_seconds": 120, "auth": "none"})
    integration = run.one("aws:apigateway/integration:Integration", suffix="-post-integration")
    assert integration.inputs["timeoutMilliseconds"] == 120_000
    assert run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["timeout"] == 120


def test_regional_endpoint_and_resource_path(default_run: ComponentRun) -> None:
    api = default_run.one("aws:apigateway/restApi:RestApi")
    assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"
    resource = default_run.one("aws:apigateway/resource:Resource", suffix="chat-resource")
    assert resource.inputs["pathPart"] == "stream"
    assert resource.inputs["parentId"] == "chat-api-root"


def test_post_method(default_run: ComponentRun) -> None:
    post = default_run.one("aws:apigateway/method:Method", suffix="-post")
    assert post.inputs["httpMethod"] == "POST"
    assert post.inputs["resourceId"] == "chat-resource-id"


def test_options_preflight_is_a_mock_with_cors_headers(default_run: ComponentRun) -> None:
    options = default_run.one("aws:apigateway/method:Method", suffix="chat-options")
    assert options.inputs["httpMethod"] == "OPTIONS"
    assert options.inputs["authorization"] == "NONE"
    assert options.inputs.get("apiKeyRequired") in (False, None)
    mock = default_run.one("aws:apigateway/integration:Integration", suffix="chat-options-integration")
    assert mock.inputs["type"] == "MOCK"
    assert json.loads(mock.inputs["requestTemplates"]["application/json"]) == {"statusCode": 200}
    method_response = default_run.one("aws:apigateway/methodResponse:MethodResponse", suffix="chat-options-200")
    declared = method_response.inputs["responseParameters"]
    assert declared["method.response.header.Access-Control-Allow-Origin"] is True
    response = default_run.one(INTEGRATION_RESPONSE, suffix="chat-options-integration-200")
    assert response.inputs["statusCode"] == "200"
    values = response.inputs["responseParameters"]
    assert values["method.response.header.Access-Control-Allow-Origin"] == "'*'"
    assert values["method.response.header.Access-Control-Allow-Methods"] == f"'{CORS_ALLOW_METHODS}'"
    assert values["method.response.header.Access-Control-Allow-Headers"] == f"'{CORS_ALLOW_HEADERS}'"
    # Every mapped header must be declared on the method response, or API Gateway rejects the mapping.
    assert set(values) <= set(declared)


def test_one_origin_is_static_and_varies_by_origin() -> None:
    run = run_component({"model_id": MODEL, "auth": "none", "allowed_origins": ["https://app.example.com"]})
    values = run.one(INTEGRATION_RESPONSE, suffix="chat-options-integration-200").inputs["responseParameters"]
    assert values["method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    assert values["method.response.header.Vary"] == "'Origin'"
    for response in run.of_type("aws:apigateway/response:Response"):
        parameters = response.inputs["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"


def test_several_origins_are_echoed_by_the_preflight_template_only_when_allowed() -> None:
    origins = ["https://a.example.com", "http://localhost:5173"]
    run = run_component({"model_id": MODEL, "auth": "none", "allowed_origins": origins})
    response = run.one(INTEGRATION_RESPONSE, suffix="chat-options-integration-200")
    assert "method.response.header.Access-Control-Allow-Origin" not in response.inputs["responseParameters"]
    template = response.inputs["responseTemplates"]["application/json"]
    assert "$context.responseOverride.header.Access-Control-Allow-Origin = $origin" in template
    for origin in origins:
        assert f'$origin == "{origin}"' in template
    declared = run.one(METHOD_RESPONSE, suffix="chat-options-200").inputs["responseParameters"]
    assert declared["method.response.header.Access-Control-Allow-Origin"] is True
    for gateway in run.of_type("aws:apigateway/response:Response"):
        # Documented limit: a gateway response cannot choose among origins.
        assert "gatewayresponse.header.Access-Control-Allow-Origin" not in gateway.inputs["responseParameters"]
        assert gateway.inputs["responseParameters"]["gatewayresponse.header.Vary"] == "'Origin'"


def test_gateway_responses_carry_cors(default_run: ComponentRun) -> None:
    responses = default_run.of_type("aws:apigateway/response:Response")
    assert sorted(r.inputs["responseType"] for r in responses) == ["DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED"]
    for response in responses:
        assert response.inputs["restApiId"] == "chat-api-id"
        parameters = response.inputs["responseParameters"]
        assert parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert parameters["gatewayresponse.header.Access-Control-Allow-Headers"] == f"'{CORS_ALLOW_HEADERS}'"


def test_lambda_permission_is_scoped_to_post_on_the_path(default_run: ComponentRun) -> None:
    permission = default_run.one("aws:lambda/permission:Permission", suffix="chat-invoke-permission")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["function"] == "chat-fn-0a1b2c3"
    assert permission.inputs["sourceArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:chat-api-id/*/POST/stream"


def test_permission_follows_a_custom_path() -> None:
    run = run_component({"model_id": MODEL, "auth": "none", "path": "chat.v2"})
    assert run.one(PERMISSION, suffix="chat-invoke-permission").inputs["sourceArn"].endswith("/*/POST/chat.v2")
    assert run.one("aws:apigateway/resource:Resource", suffix="chat-resource").inputs["pathPart"] == "chat.v2"
    assert run.outputs["url"].endswith("/prod/chat.v2")


def test_role_trusts_only_lambda(default_run: ComponentRun) -> None:
    role = default_run.one("aws:iam/role:Role", suffix="chat-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert not default_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_logging_policy_is_scoped_to_the_function_log_group(default_run: ComponentRun) -> None:
    logging = default_run.one("aws:iam/rolePolicy:RolePolicy", suffix="-logging")
    document = json.loads(logging.inputs["policy"])
    (statement,) = document["Statement"]
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/chat-0a1b2c3:*"]


def test_log_group_and_function(default_run: ComponentRun) -> None:
    group = default_run.one("aws:cloudwatch/logGroup:LogGroup", suffix="chat-logs")
    assert group.inputs["retentionInDays"] == 30
    assert group.inputs["namePrefix"] == "/aws/lambda/chat-"
    function = default_run.one("aws:lambda/function:Function", suffix="chat-fn")
    inputs = function.inputs
    assert inputs["runtime"] == "python3.13"
    assert inputs["architectures"] == ["arm64"]
    assert inputs["handler"] == HANDLER
    assert inputs["timeout"] == 900
    assert inputs["memorySize"] == 256
    assert inputs["role"] == f"arn:aws:iam::{ACCOUNT}:role/chat-role-0a1b2c3"
    assert inputs["loggingConfig"]["logGroup"] == "/aws/lambda/chat-0a1b2c3"
    assert "reservedConcurrentExecutions" not in inputs
    env = inputs["environment"]["variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == f"/var/task/{WRAPPER_NAME}"
    assert env["BEDROCK_MODEL_ID"] == MODEL
    assert env["MAX_TOKENS_CAP"] == "4096"
    assert env["CORS_ALLOW_ORIGINS"] == "*"


def test_function_code_is_the_deterministic_zip_with_an_executable_wrapper(default_run: ComponentRun) -> None:
    code = default_run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["code"]
    path = Path(code.path)
    assert path.suffix == ".zip" and path.is_file()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        wrapper = archive.getinfo(WRAPPER_NAME)
    assert names == sorted(names)
    assert "bedrock_stream/__init__.py" in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert stat.S_IMODE(wrapper.external_attr >> 16) == 0o755


def test_function_options() -> None:
    run = run_component(
        {
            "model_id": MODEL,
            "auth": "none",
            "memory_size": 1024,
            "architecture": "x86_64",
            "reserved_concurrency": 5,
            "log_retention_days": 7,
            "tracing": True,
            "max_tokens": 512,
            "allowed_origins": ["https://app.example.com"],
        }
    )
    inputs = run.one("aws:lambda/function:Function", suffix="chat-fn").inputs
    assert inputs["memorySize"] == 1024
    assert inputs["architectures"] == ["x86_64"]
    assert inputs["reservedConcurrentExecutions"] == 5
    assert inputs["tracingConfig"] == {"mode": "Active"}
    assert inputs["environment"]["variables"]["MAX_TOKENS_CAP"] == "512"
    assert inputs["environment"]["variables"]["CORS_ALLOW_ORIGINS"] == "https://app.example.com"
    assert run.one("aws:cloudwatch/logGroup:LogGroup", suffix="chat-logs").inputs["retentionInDays"] == 7
    assert run.one("aws:apigateway/stage:Stage").inputs["xrayTracingEnabled"] is True
    xray = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert xray.inputs["policyArn"] == "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"


def test_stage_and_throttling(default_run: ComponentRun) -> None:
    stage = default_run.one("aws:apigateway/stage:Stage")
    assert stage.inputs["stageName"] == "prod"
    assert stage.inputs["deployment"] == "chat-deployment-id"
    assert stage.inputs.get("xrayTracingEnabled") in (False, None)
    method_settings = default_run.one("aws:apigateway/methodSettings:MethodSettings")
    assert method_settings.inputs["methodPath"] == "*/*"
    assert method_settings.inputs["stageName"] == "prod"
    assert method_settings.inputs["settings"]["throttlingRateLimit"] == 10.0
    assert method_settings.inputs["settings"]["throttlingBurstLimit"] == 20


def test_outputs(default_run: ComponentRun) -> None:
    outputs = default_run.outputs
    assert outputs["url"] == f"https://chat-api-id.execute-api.{REGION}.amazonaws.com/prod/stream"
    assert outputs["api_id"] == "chat-api-id"
    assert outputs["stage_name"] == "prod"
    assert outputs["function_name"] == "chat-fn-0a1b2c3"
    assert outputs["function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:chat-fn-0a1b2c3"
    assert outputs["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/chat-role-0a1b2c3"
    assert outputs["log_group_name"] == "/aws/lambda/chat-0a1b2c3"
    assert outputs["api_key"] == STAND_IN_API_KEY
    assert outputs["curl_command"].startswith(f"curl --no-buffer -X POST '{outputs['url']}'")
    assert f"-H 'x-api-key: {STAND_IN_API_KEY}'" in outputs["curl_command"]
    assert default_run.secret_outputs == {"api_key", "curl_command", "client_api_keys"}
    # Without named clients the single key is the client "default" in both maps.
    assert outputs["client_api_keys"] == {"default": STAND_IN_API_KEY}
    assert outputs["client_api_key_ids"] == {"default": "chat-key-id"}


def test_region_account_and_partition_come_from_invokes(default_run: ComponentRun) -> None:
    tokens = {call.token for call in default_run.invokes}
    assert {
        "aws:index/getRegion:getRegion",
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
    } <= tokens
