"""The OpenAI-compatible routes on the REST API: ``POST {prefix}/v1/chat/completions`` and ``GET {prefix}/v1/models``.

Both go to the same function through the same STREAM proxy integration as the native route. ``GET /v1/models`` is
answered by the function at once, without Bedrock; it needs STREAM too: the function's runtime always answers in
the streaming format (metadata, 8 NUL bytes, payload), which only a STREAM integration understands (a BUFFERED
one would call ``Invoke`` and hand that raw prelude to the client). Each route gets the CORS preflight mock and
the stage's throttling like the native route; the function tells the routes apart by the event's ``resource``.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from . import api_config
from .settings import Settings
from .streaming_route import RouteNames, create_streaming_route

Preflight = Callable[[str, Settings, aws.apigateway.RestApi, aws.apigateway.Resource, pulumi.ResourceOptions],
                     list[pulumi.Resource]]


def _resource_chain(name: str, rest_api: aws.apigateway.RestApi, path: str,
                    known: dict[str, aws.apigateway.Resource], opts: pulumi.ResourceOptions
                    ) -> aws.apigateway.Resource:
    """The Resource for ``path`` (``/a/b/c``), creating each missing segment once."""
    parent_id: pulumi.Input[str] = rest_api.root_resource_id
    resource: aws.apigateway.Resource | None = None
    prefix = ""
    for part in path.strip("/").split("/"):
        prefix += "/" + part
        resource = known.get(prefix)
        if resource is None:
            resource = aws.apigateway.Resource(
                f"{name}-openai{prefix.replace('/', '-')}", rest_api=rest_api.id, parent_id=parent_id,
                path_part=part, opts=opts)
            known[prefix] = resource
        parent_id = resource.id
    assert resource is not None
    return resource


def create_openai_routes(
    name: str,
    settings: Settings,
    rest_api: aws.apigateway.RestApi,
    function: aws.lambda_.Function,
    authorizer_id: pulumi.Input[str] | None,
    preflight: Preflight,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """Methods, integrations, preflights and the invoke permission; what the deployment must wait for."""
    created: list[pulumi.Resource] = []
    known: dict[str, aws.apigateway.Resource] = {}
    for method_name, path in api_config.openai_routes(settings).items():
        kind = "completions" if method_name == "POST" else "models"
        resource = _resource_chain(name, rest_api, path, known, opts)
        names = RouteNames(f"{name}-openai-{kind}", f"{name}-openai-{kind}-integration",
                           f"{name}-openai-{kind}-permission")
        route = create_streaming_route(names, settings, rest_api, resource, method_name, path, function,
                                       authorizer_id, opts)
        created += [route.method, route.integration,
                    *preflight(f"{name}-openai-{kind}", settings, rest_api, resource, opts)]
    return created
