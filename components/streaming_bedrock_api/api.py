"""The API Gateway half of the component: REST API, streaming POST, CORS preflight, auth, deployment and stage.

Shapes come from :mod:`api_config` (pure), so the Deployment's ``triggers`` hash exactly what is built here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import api_config
from .access_logs import AccessLogs
from .authorizer import create_authorizers
from .clients import ClientKey, create_usage_plans
from .openai_api import create_openai_routes
from .settings import Settings
from .streaming_route import RouteNames, create_streaming_route

AUTH_TAG = "streaming-bedrock-api:auth"


@dataclass(frozen=True)
class ApiResources:
    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    api_key: aws.apigateway.ApiKey | None


def _authorizer(
    name: str, settings: Settings, rest_api: aws.apigateway.RestApi, opts: pulumi.ResourceOptions
) -> aws.apigateway.Authorizer | None:
    if settings.auth != "cognito":
        return None
    return aws.apigateway.Authorizer(
        f"{name}-cognito",
        rest_api=rest_api.id,
        type="COGNITO_USER_POOLS",
        provider_arns=list(settings.cognito_user_pool_arns),
        identity_source=api_config.COGNITO_IDENTITY_SOURCE,
        opts=opts,
    )


def _preflight(
    name: str,
    settings: Settings,
    rest_api: aws.apigateway.RestApi,
    resource: aws.apigateway.Resource,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """OPTIONS answered by API Gateway itself (MOCK): no function invocation, no auth, just CORS headers."""
    method = aws.apigateway.Method(
        f"{name}-options",
        rest_api=rest_api.id,
        resource_id=resource.id,
        http_method="OPTIONS",
        authorization="NONE",
        api_key_required=False,
        opts=opts,
    )
    integration = aws.apigateway.Integration(
        f"{name}-options-integration",
        rest_api=rest_api.id,
        resource_id=resource.id,
        http_method=method.http_method,
        type="MOCK",
        request_templates={"application/json": api_config.PREFLIGHT_REQUEST_TEMPLATE},
        opts=opts,
    )
    method_response = aws.apigateway.MethodResponse(
        f"{name}-options-200",
        rest_api=rest_api.id,
        resource_id=resource.id,
        http_method=method.http_method,
        status_code="200",
        response_parameters=api_config.preflight_method_response_parameters(settings),
        opts=opts,
    )
    template = api_config.preflight_response_template(settings)
    integration_response = aws.apigateway.IntegrationResponse(
        f"{name}-options-integration-200",
        rest_api=rest_api.id,
        resource_id=resource.id,
        http_method=method.http_method,
        status_code=method_response.status_code,
        response_parameters=api_config.preflight_response_parameters(settings),
        response_templates={"application/json": template} if template else None,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[integration])),
    )
    return [method, integration, method_response, integration_response]


def _gateway_responses(
    name: str, settings: Settings, rest_api: aws.apigateway.RestApi, opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """CORS headers on the gateway's own errors, or browsers hide a 401/403/429 behind a CORS failure."""
    parameters = api_config.gateway_response_parameters(settings)
    return [
        aws.apigateway.Response(
            f"{name}-{kind.lower().replace('_', '-')}",
            rest_api_id=rest_api.id,
            response_type=kind,
            response_parameters=parameters,
            response_templates=api_config.gateway_response_templates(kind),
            opts=opts,
        )
        for kind in api_config.GATEWAY_RESPONSE_TYPES
    ]


def create_api(
    name: str,
    settings: Settings,
    function: aws.lambda_.Function,
    parent: pulumi.Resource,
    keys: list[ClientKey] | None = None,
    access_logs: AccessLogs | None = None,
) -> ApiResources:
    """Create the REST API around ``function`` and deploy it to the configured stage; ``keys`` (auth 'api_key',
    from :func:`clients.create_keys`) get their usage plans on that stage."""
    opts = pulumi.ResourceOptions(parent=parent)
    rest_api = aws.apigateway.RestApi(
        f"{name}-api",
        description="Streams Amazon Bedrock answers (API Gateway response streaming)",
        endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types=settings.endpoint_type),
        # Declares the auth mode on the API itself, so policies can tell a deliberate "none" from an accident.
        tags={AUTH_TAG: settings.auth},
        # With auth api_key the key comes from the authorizer, so Bearer keys count against usage plans too.
        api_key_source=api_config.api_key_source(settings),
        opts=opts,
    )
    resource = aws.apigateway.Resource(
        f"{name}-resource",
        rest_api=rest_api.id,
        parent_id=rest_api.root_resource_id,
        path_part=settings.path,
        opts=opts,
    )
    authorizer = _authorizer(name, settings, rest_api, opts)
    key_authorizers = create_authorizers(name, settings, rest_api, parent) if settings.auth == "api_key" else None
    if key_authorizers is not None:
        authorizer = key_authorizers.native
    route = create_streaming_route(
        RouteNames(f"{name}-post", f"{name}-post-integration", f"{name}-invoke-permission"),
        settings, rest_api, resource, "POST", f"/{settings.path}", function,
        authorizer.id if authorizer is not None else None, opts,
    )
    preflight = _preflight(name, settings, rest_api, resource, opts)
    responses = _gateway_responses(name, settings, rest_api, opts)
    openai_authorizer = key_authorizers.openai if key_authorizers is not None else authorizer
    openai = create_openai_routes(name, settings, rest_api, function,
                                  openai_authorizer.id if openai_authorizer is not None else None, _preflight, opts)

    deployment = aws.apigateway.Deployment(
        f"{name}-deployment",
        rest_api=rest_api.id,
        description="StreamingBedrockApi configuration snapshot",
        # The configuration hash covers in-place updates; the function's ARN covers a replaced function, whose
        # new name changes the integration URI that the old snapshot would still point at.
        triggers={**api_config.deployment_triggers(settings), "function": function.response_streaming_invoke_arn},
        # A deployment snapshots what exists when it is created: everything it serves must exist first.
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=[route.method, route.integration, *preflight, *responses, *openai]
        ),
    )
    stage = aws.apigateway.Stage(
        f"{name}-stage",
        rest_api=rest_api.id,
        deployment=deployment.id,
        stage_name=settings.stage_name,
        xray_tracing_enabled=settings.tracing,
        access_log_settings=access_logs.stage_settings if access_logs is not None else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=access_logs.depends_on if access_logs else None),
    )
    aws.apigateway.MethodSettings(
        f"{name}-method-settings",
        rest_api=rest_api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings=aws.apigateway.MethodSettingsSettingsArgs(
            throttling_rate_limit=settings.throttle_rate_limit,
            throttling_burst_limit=settings.throttle_burst_limit,
        ),
        opts=opts,
    )
    create_usage_plans(list(keys or []), rest_api, stage, parent)
    # The single default key (no named clients) is the api_key output.
    api_key = keys[0].key if keys and not settings.clients else None
    return ApiResources(rest_api=rest_api, stage=stage, api_key=api_key)
