"""Stage access logs and the opt-in account-wide API Gateway CloudWatch role, under Pulumi mocks."""

from __future__ import annotations

import json

from streaming_bedrock_api.access_logs import ACCESS_LOG_FIELDS

from .conftest import ACCOUNT, REGION, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
STAGE = "aws:apigateway/stage:Stage"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ACCOUNT_SETTINGS = "aws:apigateway/account:Account"


def test_access_logs_go_to_their_own_log_group_as_json_with_the_streaming_fields() -> None:
    run = run_component({"model_id": MODEL, "access_logs": True, "log_retention_days": 90})
    group = run.one(LOG_GROUP, suffix="-access-log-group")
    assert group.inputs["retentionInDays"] == 90
    assert group.inputs["namePrefix"] == "/aws/apigateway/chat-access-"
    settings = run.one(STAGE).inputs["accessLogSettings"]
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/apigateway/chat-access-0a1b2c3"
    assert settings["destinationArn"] == group_arn
    fields = json.loads(settings["format"])
    assert fields == ACCESS_LOG_FIELDS
    for variable in (
        "$context.requestId", "$context.identity.apiKeyId", "$context.status", "$context.integration.status",
        "$context.integration.responseTransferMode", "$context.responseLatency", "$context.integration.latency",
        "$context.integration.timeToAllHeaders", "$context.integration.timeToFirstContent",
        "$context.identity.sourceIp", "$context.httpMethod", "$context.path",
    ):
        assert variable in fields.values(), variable
    # The function's log group is a different one.
    assert run.one(LOG_GROUP, suffix="chat-logs").inputs["namePrefix"] == "/aws/lambda/chat-"
    assert run.outputs["access_log_group_name"] == "/aws/apigateway/chat-access-0a1b2c3"
    # Not asked for: the account setting is left alone.
    assert not run.of_type(ACCOUNT_SETTINGS)


# $context variables the API Gateway developer guide documents for REST API access logs ("Variables for access
# logging for API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html)
# and for response streaming ("Troubleshoot issues with response streaming in API Gateway",
# https://docs.aws.amazon.com/apigateway/latest/developerguide/response-streaming-troubleshoot.html). Only the ones
# this stack might log are listed; a misspelt variable is logged as a literal, silently, so it must fail here.
DOCUMENTED_VARIABLES = frozenset({
    "$context.requestId", "$context.extendedRequestId", "$context.identity.apiKeyId", "$context.identity.sourceIp",
    "$context.identity.userAgent", "$context.identity.caller", "$context.httpMethod", "$context.path",
    "$context.resourcePath", "$context.protocol", "$context.requestTime", "$context.requestTimeEpoch",
    "$context.status", "$context.responseLength", "$context.responseLatency", "$context.integration.status",
    "$context.integration.integrationStatus", "$context.integration.latency", "$context.integration.error",
    "$context.integrationLatency", "$context.integration.responseTransferMode",
    "$context.integration.timeToAllHeaders", "$context.integration.timeToFirstContent", "$context.error.message",
    "$context.error.messageString", "$context.error.responseType", "$context.stage", "$context.apiId",
    "$context.domainName", "$context.wafResponseCode", "$context.authorizer.error", "$context.authorize.status",
})


def test_every_logged_variable_is_one_api_gateway_documents() -> None:
    undocumented = sorted(set(ACCESS_LOG_FIELDS.values()) - DOCUMENTED_VARIABLES)
    assert not undocumented, undocumented
    assert "$context.requestId" in ACCESS_LOG_FIELDS.values()  # API Gateway requires requestId or extendedRequestId


def test_off_by_default() -> None:
    run = run_component({"model_id": MODEL})
    assert "accessLogSettings" not in run.one(STAGE).inputs
    assert not run.of_type(ACCOUNT_SETTINGS)
    assert run.outputs["access_log_group_name"] is None


def test_the_account_role_is_an_explicit_opt_in_and_the_stage_waits_for_it() -> None:
    run = run_component({"model_id": MODEL, "access_logs": True, "api_gateway_cloudwatch_role": True})
    role = run.one("aws:iam/role:Role", suffix="-apigateway-cloudwatch")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", suffix="-apigateway-cloudwatch-push")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    account = run.one(ACCOUNT_SETTINGS)
    assert account.inputs["cloudwatchRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/chat-apigateway-cloudwatch-0a1b2c3"
    assert account.urn in run.one(STAGE).dependencies
