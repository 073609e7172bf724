"""Stage access logs: one JSON line per request in the API's own log group, and (opt-in) the account-wide
API Gateway CloudWatch role that REST API logging needs.

The fields are the ones that matter for a streaming API, including the variables AWS documents for response
streaming: ``$context.integration.responseTransferMode``, ``$context.integration.timeToAllHeaders`` and
``$context.integration.timeToFirstContent`` ("Troubleshoot issues with response streaming in API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/response-streaming-troubleshoot.html). Every value
is quoted: API Gateway writes ``-`` for a missing value, which would break an unquoted JSON number.

API Gateway writes REST API logs with the role set in the account's API Gateway settings, one per account and
region (``aws.apigateway.Account``). Setting it from a stack would silently take that setting over from whatever
else manages it, and another stack doing the same would fight over it; so the component creates it only with
``api_gateway_cloudwatch_role`` (off by default), and otherwise expects it to be set already.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .function import StackContext
from .settings import Settings

# Field name -> $context variable.
ACCESS_LOG_FIELDS: dict[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "apiKeyId": "$context.identity.apiKeyId",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "responseTransferMode": "$context.integration.responseTransferMode",
    "timeToAllHeaders": "$context.integration.timeToAllHeaders",
    "timeToFirstContent": "$context.integration.timeToFirstContent",
    "errorMessage": "$context.error.message",
    "errorType": "$context.error.responseType",
}
PUSH_TO_CLOUDWATCH_POLICY = "arn:{partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def access_log_format() -> str:
    """The stage's access log format: one JSON object per line."""
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def api_gateway_trust_policy() -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


@dataclass(frozen=True)
class AccessLogs:
    log_group: aws.cloudwatch.LogGroup | None
    stage_settings: aws.apigateway.StageAccessLogSettingsArgs | None
    # What the stage must wait for (the account role, when this stack sets it).
    depends_on: list[pulumi.Resource]


def create_access_logs(name: str, settings: Settings, context: StackContext, parent: pulumi.Resource) -> AccessLogs:
    """The access log group (with ``access_logs``) and the account role (with ``api_gateway_cloudwatch_role``)."""
    opts = pulumi.ResourceOptions(parent=parent)
    depends: list[pulumi.Resource] = []
    if settings.api_gateway_cloudwatch_role:
        role = aws.iam.Role(
            f"{name}-apigateway-cloudwatch",
            assume_role_policy=json.dumps(api_gateway_trust_policy(), sort_keys=True, separators=(",", ":")),
            description="Lets API Gateway write REST API logs to CloudWatch (account-wide setting)",
            opts=opts,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-apigateway-cloudwatch-push",
            role=role.name,
            policy_arn=context.partition.apply(lambda partition: PUSH_TO_CLOUDWATCH_POLICY.format(partition=partition)),
            opts=opts,
        )
        account = aws.apigateway.Account(
            f"{name}-apigateway-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[attachment]),
        )
        depends.append(account)
    if not settings.access_logs:
        return AccessLogs(None, None, depends)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-access-log-group",
        name_prefix=f"/aws/apigateway/{name}-access-",
        retention_in_days=settings.log_retention_days,
        opts=opts,
    )
    stage_settings = aws.apigateway.StageAccessLogSettingsArgs(
        destination_arn=log_group.arn, format=access_log_format()
    )
    return AccessLogs(log_group, stage_settings, depends)
