"""API keys and usage plans, one pair per named client (or the single default key without ``clients``).

Keys are created before the function, because the function's environment carries the map
``{api key id: client name}`` it meters by (``CLIENT_KEY_IDS``); the usage plans come after the stage they bind
to. Nothing here depends on a client's position in the list: every resource name is derived from the client's
name, so adding, changing or removing one client leaves every other client's resources alone.

One usage plan per client rather than one shared plan per distinct set of limits: a client whose limits change
then only gets an updated plan of its own, instead of its key moving between shared plans (a delete and create of
its plan key, a short window without a plan). API Gateway applies a plan's throttle and quota to each key on it
separately, so both layouts enforce the same limits; the cost is one plan per client against the account's
usage-plan quota (300 per region by default, adjustable; API Gateway quotas page).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .client_specs import DEFAULT_CLIENT, ClientLimits, client_limits, resource_slug
from .settings import Settings

CLIENT_TAG = "streaming-bedrock-api:client"
KEY_IDS_ENV = "CLIENT_KEY_IDS"


@dataclass(frozen=True)
class ClientKey:
    """One client's API key, the prefix of its resource names and its limits."""

    client: str
    prefix: str
    key: aws.apigateway.ApiKey
    limits: ClientLimits


def _limits(settings: Settings) -> dict[str, ClientLimits]:
    defaults = (settings.throttle_rate_limit, settings.throttle_burst_limit, settings.quota_limit_per_day)
    if not settings.clients:
        return {DEFAULT_CLIENT: ClientLimits(*defaults)}
    return {spec.name: client_limits(spec, *defaults) for spec in settings.clients}


def create_keys(name: str, settings: Settings, parent: pulumi.Resource) -> list[ClientKey]:
    """The API keys (none unless auth is 'api_key'); the default key keeps its historical resource names."""
    if settings.auth != "api_key":
        return []
    opts = pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["value"])
    keys: list[ClientKey] = []
    for client, limits in _limits(settings).items():
        prefix = name if not settings.clients else f"{name}-client-{resource_slug(client)}"
        key = aws.apigateway.ApiKey(
            f"{prefix}-key",
            enabled=True,
            description=(
                "StreamingBedrockApi client key" if not settings.clients else f"StreamingBedrockApi key of {client}"
            ),
            tags={CLIENT_TAG: client} if settings.clients else None,
            opts=opts,
        )
        keys.append(ClientKey(client, prefix, key, limits))
    return keys


def create_usage_plans(
    keys: list[ClientKey],
    rest_api: aws.apigateway.RestApi,
    stage: aws.apigateway.Stage,
    parent: pulumi.Resource,
) -> None:
    """Each key on its own usage plan (throttle and daily quota) bound to the stage."""
    opts = pulumi.ResourceOptions(parent=parent)
    for client in keys:
        plan = aws.apigateway.UsagePlan(
            f"{client.prefix}-usage-plan",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=rest_api.id, stage=stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=client.limits.rate_limit, burst_limit=client.limits.burst_limit
            ),
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(
                limit=client.limits.quota_per_day, period="DAY"
            ),
            opts=opts,
        )
        aws.apigateway.UsagePlanKey(
            f"{client.prefix}-usage-plan-key",
            key_id=client.key.id,
            key_type="API_KEY",
            usage_plan_id=plan.id,
            opts=opts,
        )


def key_ids_json(keys: list[ClientKey]) -> pulumi.Output[str]:
    """``{"<api key id>": "<client name>"}`` as canonical JSON, for the function's environment."""
    pairs = [pulumi.Output.all(client.key.id, client.client) for client in keys]
    return pulumi.Output.all(*pairs).apply(
        lambda resolved: json.dumps(dict(sorted((str(k), str(c)) for k, c in resolved)), separators=(",", ":"))
    )


def key_values(keys: list[ClientKey]) -> pulumi.Output[dict[str, str]]:
    """Client name -> key value (a secret output)."""
    if not keys:
        return pulumi.Output.from_input({})
    return pulumi.Output.secret(pulumi.Output.all(**{client.client: client.key.value for client in keys}))


def key_ids(keys: list[ClientKey]) -> pulumi.Output[dict[str, str]]:
    """Client name -> key id."""
    if not keys:
        return pulumi.Output.from_input({})
    return pulumi.Output.all(**{client.client: client.key.id for client in keys})
