"""verify's configuration checks against the component's own resources, replayed into moto: a clean stack passes
every check; each single fault fails exactly the check that names it, with what to do."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.component.conftest import ACCOUNT

from .bedrock_control import HAIKU, tokyo_catalog
from .conftest import READ_ONLY_PREFIXES, MotoStack, run_verify

MakeStack = Callable[..., MotoStack]
CONFIG_CHECKS = {
    "api.endpoint-type",
    "api.integration-type",
    "api.transfer-mode",
    "api.streaming-uri",
    "api.integration-timeout",
    "api.cors-preflight",
    "api.cors-gateway-responses",
    "api.deployment",
    "api.throttling",
    "lambda.state",
    "lambda.runtime",
    "lambda.exec-wrapper",
    "lambda.timeout",
    "lambda.invoke-permission",
    "iam.bedrock-scoped",
    "iam.bedrock-model",
    "logs.retention",
    "bedrock.region",
    "bedrock.model",
    "bedrock.access",
}


@pytest.mark.parametrize(
    "args",
    [
        {},
        {
            "auth": "iam",
            "path": "chat",
            "stage_name": "v1",
            "timeout_seconds": 300,
            "architecture": "x86_64",
            "access_logs": True,
            "api_gateway_cloudwatch_role": True,
            "tracing": True,
        },
        {"model_id": f"global.{HAIKU}", "allowed_origins": ["https://a.example", "https://b.example"]},
    ],
    ids=["defaults", "iam-custom-path", "global-several-origins"],
)
def test_a_clean_stack_passes_every_check_with_reads_only(
    make_stack: MakeStack, capsys: pytest.CaptureFixture[str], args: dict[str, object]
) -> None:
    stack = make_stack(args)
    result = run_verify(stack.args(), capsys)
    assert result.code == 0, result.stdout
    assert result.report is not None and result.report["ok"] is True
    assert {check["name"] for check in result.report["checks"]} == CONFIG_CHECKS
    assert result.failed() == {}
    assert "live probe (--no-invoke)" in result.report["skipped"]
    # Read-only: every AWS call verify made is a Get/List/Describe, and it made the Bedrock reads.
    assert stack.operations and all(name.startswith(READ_ONLY_PREFIXES) for name in stack.operations), stack.operations
    assert {"GetExport", "GetFunctionConfiguration", "GetPolicy", "GetFoundationModelAvailability"} <= set(
        stack.operations
    )
    assert all(method == "GET" for method, _ in stack.catalog.requests)


def test_the_table_says_each_check_and_the_summary(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    result = run_verify([a for a in stack.args() if a != "--json"], capsys)
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert sum(line.startswith("✓ ") for line in lines) == len(CONFIG_CHECKS)
    assert lines[-1] == f"all {len(CONFIG_CHECKS)} checks passed"
    assert "reading API Gateway" in result.stderr  # progress goes to stderr, the report to stdout


def _only(result_failed: dict[str, dict[str, object]], name: str) -> dict[str, object]:
    assert set(result_failed) == {name}, json.dumps(result_failed, indent=1)
    return result_failed[name]


def _integration(stack: MotoStack, **changes: object) -> None:
    """Re-put the POST integration with some values changed (moto has no update_integration)."""
    client = stack.clients["apigateway"]
    api = stack.outputs["api_id"]
    resource = next(r for r in client.get_resources(restApiId=api)["items"] if r["path"] == "/stream")
    current = client.get_integration(restApiId=api, resourceId=resource["id"], httpMethod="POST")
    values = {
        "type": current["type"],
        "integrationHttpMethod": current["httpMethod"],
        "uri": current["uri"],
        "timeoutInMillis": current["timeoutInMillis"],
        "responseTransferMode": current["responseTransferMode"],
        **changes,
    }
    client.put_integration(restApiId=api, resourceId=resource["id"], httpMethod="POST", **values)


def test_buffered_transfer_mode(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    _integration(stack, responseTransferMode="BUFFERED")
    stack.redeploy()
    result = run_verify(stack.args(), capsys)
    assert result.code == 1
    check = _only(result.failed(), "api.transfer-mode")
    assert check["found"] == "BUFFERED" and check["expected"] == "STREAM"
    assert "responseTransferMode STREAM" in str(check["fix"]) and "redeploy" in str(check["fix"])


def test_buffered_invocation_uri(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    function_arn = stack.outputs["function_arn"]
    buffered = f"arn:aws:apigateway:ap-northeast-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    _integration(stack, uri=buffered)
    stack.redeploy()
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "api.streaming-uri")
    assert result.code == 1
    assert check["found"] == buffered
    assert str(check["expected"]).endswith(f"/2021-11-15/functions/{function_arn}/response-streaming-invocations")
    assert "response_streaming_invoke_arn" in str(check["fix"])


def test_edge_endpoint(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    stack.clients["apigateway"].update_rest_api(
        restApiId=stack.outputs["api_id"],
        patchOperations=[{"op": "replace", "path": "/endpointConfiguration/types/REGIONAL", "value": "EDGE"}],
    )
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "api.endpoint-type")
    assert result.code == 1 and check["found"] == "EDGE"
    assert "30 s" in str(check["fix"]) and "REGIONAL" in str(check["fix"])


def test_the_table_shows_expected_and_fix_under_a_failure(
    make_stack: MakeStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = make_stack()
    stack.clients["apigateway"].update_rest_api(
        restApiId=stack.outputs["api_id"],
        patchOperations=[{"op": "replace", "path": "/endpointConfiguration/types/REGIONAL", "value": "EDGE"}],
    )
    result = run_verify([a for a in stack.args() if a != "--json"], capsys)
    assert result.code == 1
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("✗ api.endpoint-type"))
    assert lines[at].endswith("EDGE")
    assert lines[at + 1].strip().startswith("expected: REGIONAL") and lines[at + 2].strip().startswith("fix: EDGE")
    assert lines[-1] == f"1 of {len(CONFIG_CHECKS)} checks failed"


def test_function_timeout_shorter_than_the_integration(
    make_stack: MakeStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = make_stack()
    stack.clients["lambda"].update_function_configuration(FunctionName=stack.outputs["function_name"], Timeout=60)
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "lambda.timeout")
    assert result.code == 1 and check["found"] == "60 s" and "900000 ms" in str(check["expected"])
    assert "timeoutSeconds" in str(check["fix"])


def test_missing_invoke_permission(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    stack.clients["lambda"].remove_permission(
        FunctionName=stack.outputs["function_name"], StatementId="chat-invoke-permission"
    )
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "lambda.invoke-permission")
    assert result.code == 1
    api = stack.outputs["api_id"]
    assert f"arn:aws:execute-api:ap-northeast-1:{ACCOUNT}:{api}/prod/POST/stream" in str(check["expected"])


def test_permission_for_another_api_does_not_count(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    function = stack.outputs["function_name"]
    stack.clients["lambda"].remove_permission(FunctionName=function, StatementId="chat-invoke-permission")
    stack.clients["lambda"].add_permission(
        FunctionName=function,
        StatementId="other-api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:ap-northeast-1:{ACCOUNT}:otherapi99/*/POST/stream",
    )
    result = run_verify(stack.args(), capsys)
    _only(result.failed(), "lambda.invoke-permission")


def test_wildcard_bedrock_policy(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    role = stack.outputs["role_arn"].rsplit("/", 1)[-1]
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}
    stack.clients["iam"].put_role_policy(RoleName=role, PolicyName="too-wide", PolicyDocument=json.dumps(wide))
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "iam.bedrock-scoped")
    assert result.code == 1 and "inline policy too-wide: Action bedrock:*" in str(check["found"])


def test_invoke_on_any_resource_is_a_wildcard_too(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    role = stack.outputs["role_arn"].rsplit("/", 1)[-1]
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["bedrock:InvokeModelWithResponseStream"], "Resource": "*"}],
    }
    arn = stack.clients["iam"].create_policy(PolicyName="any-model", PolicyDocument=json.dumps(document))["Policy"][
        "Arn"
    ]
    stack.clients["iam"].attach_role_policy(RoleName=role, PolicyArn=arn)
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "iam.bedrock-scoped")
    assert "managed policy any-model" in str(check["found"]) and "Resource '*'" in str(check["found"])


def test_unknown_model_id(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = "jp.anthropic.claude-haiku-9-9-20990101-v1:0"
    stack = make_stack({"model_id": unknown})
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "bedrock.model")
    assert result.code == 1
    assert str(check["found"]).startswith("ResourceNotFoundException")
    assert "list-inference-profiles" in str(check["fix"]) and "ap-northeast-1" in str(check["fix"])


def test_profile_of_another_geography(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    # The component refuses a us. profile in Tokyo at preview; verify catches the same drift after deployment
    # (the function's model changed by hand): Bedrock does not know it there, the role does not allow it.
    stack = make_stack()
    profile = f"us.{HAIKU}"
    function = stack.outputs["function_name"]
    variables = stack.clients["lambda"].get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    stack.clients["lambda"].update_function_configuration(
        FunctionName=function, Environment={"Variables": {**variables, "BEDROCK_MODEL_ID": profile}}
    )
    result = run_verify(stack.args(), capsys)
    assert set(result.failed()) == {"bedrock.region", "bedrock.model", "iam.bedrock-model"}
    assert "us-east-1" in str(result.check("bedrock.region")["fix"])
    assert f"jp.{HAIKU}" in str(result.check("bedrock.region")["fix"])


def test_anthropic_first_time_use_form_is_the_remedy(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tokyo_catalog(ACCOUNT)
    catalog.availability[HAIKU] = {
        "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": "NOT_AVAILABLE",
        "agreementAvailability": {"status": "NOT_AVAILABLE"},
        "regionAvailability": "AVAILABLE",
    }
    stack = make_stack(catalog=catalog)
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "bedrock.access")
    assert "first-time-use form" in str(check["fix"])


def test_stale_deployment(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    _integration(stack, timeoutInMillis=600000)  # changed, and the stage not redeployed
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "api.deployment")
    assert result.code == 1
    assert "stale" in str(check["found"]) and "timeoutInMillis 900000 (now 600000)" in str(check["found"])
    assert "create-deployment" in str(check["fix"])


def test_a_stale_deployment_that_still_buffers(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    # The classic: STREAM set on the integration, the stage still serving the BUFFERED snapshot.
    stack = make_stack()
    _integration(stack, responseTransferMode="BUFFERED")
    stack.redeploy()
    _integration(stack, responseTransferMode="STREAM")
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "api.deployment")
    assert "responseTransferMode BUFFERED (now STREAM)" in str(check["found"])


def test_unthrottled_stage_and_wrong_retention(make_stack: MakeStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack = make_stack()
    stack.clients["logs"].put_retention_policy(logGroupName=stack.outputs["log_group_name"], retentionInDays=7)
    result = run_verify(stack.args(), capsys)
    check = _only(result.failed(), "logs.retention")
    assert check["found"] == "7 days" and "logRetentionDays 30" in str(check["fix"])
