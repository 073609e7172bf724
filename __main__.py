"""The Pulumi program: read the typed stack config (declared in Pulumi.yaml) and deploy one StreamingBedrockApi."""

from typing import Any

import pulumi
from streaming_bedrock_api import StreamingBedrockApi, StreamingBedrockApiArgs
from streaming_bedrock_api.client_specs import client_args
from streaming_bedrock_api.component import OUTPUT_NAMES
from streaming_bedrock_api.guardrail_spec import guardrail_args
from streaming_bedrock_api.settings import SettingsError, settings_from_config


def read_config(config: pulumi.Config) -> dict[str, Any]:
    """Typed config values by camelCase key; unset keys are left out (the component applies its defaults)."""
    values: dict[str, Any] = {
        "modelId": config.get("modelId"),
        "additionalModelIds": config.get_object("additionalModelIds"),
        "auth": config.get("auth"),
        "cognitoUserPoolArns": config.get_object("cognitoUserPoolArns"),
        "path": config.get("path"),
        "stageName": config.get("stageName"),
        "endpointType": config.get("endpointType"),
        "allowedOrigins": config.get_object("allowedOrigins"),
        "memorySize": config.get_int("memorySize"),
        "timeoutSeconds": config.get_int("timeoutSeconds"),
        "architecture": config.get("architecture"),
        "integrationTimeoutMs": config.get_int("integrationTimeoutMs"),
        "logRetentionDays": config.get_int("logRetentionDays"),
        "maxTokens": config.get_int("maxTokens"),
        "maxRequestBytes": config.get_int("maxRequestBytes"),
        "heartbeatSeconds": config.get_float("heartbeatSeconds"),
        "deadlineMarginMs": config.get_int("deadlineMarginMs"),
        "throttleRateLimit": config.get_float("throttleRateLimit"),
        "throttleBurstLimit": config.get_int("throttleBurstLimit"),
        "quotaLimitPerDay": config.get_int("quotaLimitPerDay"),
        "tracing": config.get_bool("tracing"),
        "reservedConcurrency": config.get_int("reservedConcurrency"),
        "accessLogs": config.get_bool("accessLogs"),
        "apiGatewayCloudwatchRole": config.get_bool("apiGatewayCloudwatchRole"),
        "dashboard": config.get_bool("dashboard"),
        "alarms": config.get_bool("alarms"),
        "alarmTopicArn": config.get("alarmTopicArn"),
        "alarmServerErrorRatePercent": config.get_float("alarmServerErrorRatePercent"),
        "alarmFunctionErrors": config.get_int("alarmFunctionErrors"),
        "alarmBedrockThrottles": config.get_int("alarmBedrockThrottles"),
        "alarmTtftP99Ms": config.get_int("alarmTtftP99Ms"),
        # Objects: Pulumi.yaml cannot type them (pulumi/pulumi#11321), the settings validate them.
        "clients": config.get_object("clients"),
        "guardrail": config.get_object("guardrail"),
        "openaiRoutes": config.get_bool("openaiRoutes"),
        "openaiPathPrefix": config.get("openaiPathPrefix"),
        "openaiModelAlias": config.get("openaiModelAlias"),
        "thinkingBudgetTokens": config.get_int("thinkingBudgetTokens"),
    }
    return {key: value for key, value in values.items() if value is not None}


def component_args(config: pulumi.Config) -> StreamingBedrockApiArgs:
    """Validate the config (errors name the stack-file key) and turn it into component arguments."""
    settings = settings_from_config(read_config(config))
    args = {name: list(value) if isinstance(value, tuple) else value for name, value in vars(settings).items()}
    args["clients"] = [client_args(spec) for spec in settings.clients]
    args["guardrail"] = guardrail_args(settings.guardrail)
    return args  # type: ignore[return-value]


def main() -> StreamingBedrockApi:
    try:
        args = component_args(pulumi.Config())
    except SettingsError as error:
        # Stop the preview with the config key and the reason, not a traceback.
        raise pulumi.RunError(f"invalid stack config streaming-bedrock-api:{error}") from None
    api = StreamingBedrockApi("streaming-bedrock", args)
    for name in OUTPUT_NAMES:
        pulumi.export(name, getattr(api, name))
    return api


stack_api = main()
