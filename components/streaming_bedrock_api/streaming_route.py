"""One streaming route: a method, its STREAM proxy integration to the function, and the invoke permission.

The native route and the OpenAI routes are built the same way; only their names, path and authorizer differ.
Names are passed in whole so existing stacks keep their resource names (a rename would replace the resource).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import api_config
from .settings import Settings


@dataclass(frozen=True)
class RouteNames:
    """Pulumi names of the route's three resources."""

    method: str
    integration: str
    permission: str


@dataclass(frozen=True)
class StreamingRoute:
    method: aws.apigateway.Method
    integration: aws.apigateway.Integration


def create_streaming_route(
    names: RouteNames,
    settings: Settings,
    rest_api: aws.apigateway.RestApi,
    resource: aws.apigateway.Resource,
    http_method: str,
    path: str,
    function: aws.lambda_.Function,
    authorizer_id: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> StreamingRoute:
    """``http_method`` on ``resource`` (whose full path is ``path``, e.g. ``/stream``) streaming from ``function``."""
    method = aws.apigateway.Method(
        names.method,
        rest_api=rest_api.id,
        resource_id=resource.id,
        http_method=http_method,
        authorization=api_config.method_authorization(settings),
        authorizer_id=authorizer_id,
        api_key_required=api_config.api_key_required(settings),
        opts=opts,
    )
    integration = aws.apigateway.Integration(
        names.integration,
        rest_api=rest_api.id,
        resource_id=resource.id,
        http_method=method.http_method,
        type="AWS_PROXY",
        integration_http_method="POST",
        # The response-streaming URI; invoke_arn with STREAM is rejected (terraform-provider-aws#45649).
        uri=function.response_streaming_invoke_arn,
        response_transfer_mode=api_config.TRANSFER_MODE,
        timeout_milliseconds=settings.integration_timeout_ms,
        opts=opts,
    )
    aws.lambda_.Permission(
        names.permission,
        action="lambda:InvokeFunction",
        function=function.name,
        principal="apigateway.amazonaws.com",
        # Any stage, this method and this route only.
        source_arn=rest_api.execution_arn.apply(lambda arn: f"{arn}/*/{http_method}{path}"),
        opts=opts,
    )
    return StreamingRoute(method, integration)
