"""``StreamingBedrockApi``: API Gateway REST response streaming in front of a Python Lambda that relays Bedrock.

The component validates its arguments into :class:`Settings` first (a bad value fails at ``pulumi preview`` with
a message naming the argument), then creates the function side (:mod:`function`) and the API side (:mod:`api`).
It is usable from Python directly and, through ``components/__main__.py``, from any Pulumi language.
"""

# No ``from __future__ import annotations``: the provider's schema analyzer reads these annotations at runtime.

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NotRequired, TypedDict

import pulumi

from . import clients
from .access_logs import create_access_logs
from .api import create_api
from .function import create_function, stack_context
from .monitoring import create_monitoring
from .settings import SETTING_NAMES, Settings, SettingsError, check_region, resolve_settings

TYPE_TOKEN = "streaming-bedrock-api:index:StreamingBedrockApi"
OUTPUT_NAMES = (
    "url",
    "api_id",
    "stage_name",
    "function_name",
    "function_arn",
    "role_arn",
    "log_group_name",
    "log_retention_days",
    "api_key",
    "curl_command",
    "client_api_keys",
    "client_api_key_ids",
    "access_log_group_name",
    "dashboard_url",
    "openai_base_url",
)
SAMPLE_BODY = '{"prompt":"Write a haiku about streaming."}'


class ClientArgs(TypedDict):
    """One named API client: its own API key and usage plan. Limits left out are the stack's."""

    name: str
    """Client name (1-64 letters, digits, '.', '_', '-'): names its resources, metrics and Bedrock requestMetadata."""
    rate_limit: NotRequired[float]
    """Steady-state requests per second of this client's key (default: throttle_rate_limit)."""
    burst_limit: NotRequired[int]
    """Burst of this client's key (default: throttle_burst_limit)."""
    quota_per_day: NotRequired[int]
    """Requests per day of this client's key (default: quota_limit_per_day)."""


class GuardrailArgs(TypedDict):
    """A Bedrock guardrail applied to every model call; the function's role cannot call the model without it."""

    id: str
    """Guardrail id (lowercase letters and digits) or ARN, in the stack's region."""
    version: str
    """Guardrail version: a number such as '1', or 'DRAFT'."""
    stream_processing_mode: NotRequired[str]
    """'sync' (default: output is checked before it is streamed) or 'async' (streamed first, checked alongside;
    cannot mask PII)."""
    trace: NotRequired[str]
    """'disabled' (default), 'enabled' or 'enabled_full': the guardrail trace, sent to SSE clients."""


class StreamingBedrockApiArgs(TypedDict):
    """Arguments of :class:`StreamingBedrockApi`: plain values, not ``pulumi.Input`` s.

    The component validates them together before it registers anything (e.g. the integration timeout against
    the function timeout, ``max_tokens`` against the model's output limit) and several decide which resources
    exist (auth, tracing, reserved concurrency), so each must be known at preview. An ``Output`` is refused with
    a message naming the argument; the multi-language schema marks every input ``plain`` so TypeScript, Go and
    YAML programs are held to the same rule by their type checkers."""

    model_id: str
    """Bedrock model id or inference profile id, e.g. 'jp.anthropic.claude-haiku-4-5-20251001-v1:0'."""
    additional_model_ids: NotRequired[list[str]]
    """More model or profile ids the function may call (IAM only; the function uses model_id)."""
    auth: NotRequired[str]
    """Client authentication: 'api_key' (default), 'iam' (SigV4), 'cognito' or 'none' (open to the internet)."""
    cognito_user_pool_arns: NotRequired[list[str]]
    """Cognito user pool ARNs, required with auth 'cognito'."""
    path: NotRequired[str]
    """Resource path segment of the streaming endpoint (default 'stream')."""
    stage_name: NotRequired[str]
    """API Gateway stage name (default 'prod')."""
    endpoint_type: NotRequired[str]
    """'REGIONAL' (default, the only value for now): EDGE cuts idle streams after 30 s; PRIVATE is not supported."""
    allowed_origins: NotRequired[list[str]]
    """CORS origins allowed to call the API, or ['*'] (default)."""
    memory_size: NotRequired[int]
    """Function memory in MB (default 256)."""
    timeout_seconds: NotRequired[int]
    """Function timeout in seconds, at most 900 (default 900)."""
    architecture: NotRequired[str]
    """'arm64' (default) or 'x86_64'."""
    integration_timeout_ms: NotRequired[int]
    """Integration timeout in ms, at most 900000 and at most the function timeout (default: the function timeout)."""
    log_retention_days: NotRequired[int]
    """CloudWatch Logs retention of the function's log group (default 30)."""
    max_tokens: NotRequired[int]
    """Largest max_tokens a request may ask for, and the default (default 4096)."""
    max_request_bytes: NotRequired[int]
    """Largest decoded request body in bytes (default 1048576; at most 3080192, what always fits the 6 MB Lambda
    invocation payload)."""
    heartbeat_seconds: NotRequired[float]
    """Seconds of silence after which an SSE heartbeat comment is sent (default 10)."""
    deadline_margin_ms: NotRequired[int]
    """The function stops this long before its deadline (default 3000)."""
    throttle_rate_limit: NotRequired[float]
    """Stage (and usage plan) steady-state requests per second (default 10)."""
    throttle_burst_limit: NotRequired[int]
    """Stage (and usage plan) burst limit (default 20)."""
    quota_limit_per_day: NotRequired[int]
    """Requests per day per API key with auth 'api_key' (default 10000)."""
    tracing: NotRequired[bool]
    """Enable X-Ray tracing on the stage and the function (default false)."""
    reserved_concurrency: NotRequired[int]
    """Reserved concurrent executions of the function (default: unreserved)."""
    access_logs: NotRequired[bool]
    """JSON access logs of the stage in their own log group (default false; needs the account's API Gateway
    CloudWatch role, see api_gateway_cloudwatch_role)."""
    api_gateway_cloudwatch_role: NotRequired[bool]
    """Create the account-wide API Gateway CloudWatch role (one per account and region; default false)."""
    dashboard: NotRequired[bool]
    """A CloudWatch dashboard for this stack (default true)."""
    alarms: NotRequired[bool]
    """CloudWatch alarms: 5XX rate, function errors, Bedrock throttles, TTFT p99 (default true)."""
    alarm_topic_arn: NotRequired[str]
    """SNS topic ARN the alarms notify (default: none)."""
    alarm_server_error_rate_percent: NotRequired[float]
    """Alarm when more than this percentage of requests get a 5XX in 5 minutes (default 5)."""
    alarm_function_errors: NotRequired[int]
    """Alarm at this many function errors in 5 minutes (default 1)."""
    alarm_bedrock_throttles: NotRequired[int]
    """Alarm at this many Bedrock throttles in 5 minutes (default 5)."""
    alarm_ttft_p99_ms: NotRequired[int]
    """Alarm when the time to first token p99 exceeds this many ms for 10 minutes (default 10000)."""
    guardrail: NotRequired[GuardrailArgs]
    """A Bedrock guardrail on every call, required through the role's IAM conditions (default: none)."""
    clients: NotRequired[list[ClientArgs]]
    """Named API clients (auth 'api_key'), each with its own key and usage plan; default: one unnamed key."""
    openai_routes: NotRequired[bool]
    """Serve the OpenAI-compatible POST /v1/chat/completions and GET /v1/models on the same function (default true)."""
    openai_path_prefix: NotRequired[str]
    """One path segment in front of the OpenAI routes, e.g. 'openai' for /openai/v1/... (default: none)."""
    openai_model_alias: NotRequired[str]
    """A model name OpenAI clients may send for model_id, e.g. 'default' (default: none; the ids always work)."""
    thinking_budget_tokens: NotRequired[int]
    """Extended thinking budget for every request, at least 1024 and below max_tokens (default 0: off)."""


def _plain(argument: str, value: Any) -> Any:
    """Reject outputs: the settings decide which resources exist, so they must be known before deployment."""
    if isinstance(value, pulumi.Output) or (
        isinstance(value, (list, tuple)) and any(isinstance(item, pulumi.Output) for item in value)
    ):
        raise SettingsError(argument, "must be a plain value known at preview time, not an output of a resource")
    if isinstance(value, list):
        return tuple(value)
    return value


def settings_from_args(args: Mapping[str, Any] | None) -> Settings:
    """Validate component arguments (a TypedDict, or the plain dict the multi-language host passes)."""
    values = dict(args or {})
    unknown = sorted(set(values) - set(SETTING_NAMES))
    if unknown:
        raise SettingsError(unknown[0], f"unknown argument; known arguments are {', '.join(SETTING_NAMES)}")
    return resolve_settings({name: _plain(name, values.get(name)) for name in SETTING_NAMES if name in values})


def _checked_region(settings: Settings, region: str) -> str:
    check_region(settings, region)
    return region


def curl_command(url: str, settings: Settings, region: str, api_key: str | None) -> str:
    """A ready ``curl --no-buffer`` call of the endpoint for the configured auth mode."""
    parts = [f"curl --no-buffer -X POST '{url}'", "-H 'content-type: application/json'"]
    if settings.auth == "api_key" and api_key is not None:
        parts.append(f"-H 'x-api-key: {api_key}'")
    elif settings.auth == "iam":
        parts.append(f"--aws-sigv4 'aws:amz:{region}:execute-api'")
        parts.append('--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"')
        parts.append('-H "x-amz-security-token: $AWS_SESSION_TOKEN"')
    elif settings.auth == "cognito":
        parts.append('-H "Authorization: $ID_TOKEN"')
    parts.append(f"-d '{SAMPLE_BODY}'")
    return " ".join(parts)


class StreamingBedrockApi(pulumi.ComponentResource):
    """API Gateway REST API whose Lambda proxy integration streams (responseTransferMode STREAM) Amazon Bedrock
    ConverseStream output from a Python function, with least-privilege IAM, CORS and auth."""

    url: pulumi.Output[str]
    """Invoke URL of the streaming endpoint (POST)."""
    api_id: pulumi.Output[str]
    """Id of the REST API."""
    stage_name: pulumi.Output[str]
    """Name of the deployed stage."""
    function_name: pulumi.Output[str]
    """Name of the Lambda function."""
    function_arn: pulumi.Output[str]
    """ARN of the Lambda function."""
    role_arn: pulumi.Output[str]
    """ARN of the function's execution role."""
    log_group_name: pulumi.Output[str]
    """CloudWatch log group of the function."""
    log_retention_days: pulumi.Output[int]
    """Retention of the function's log group, in days (what `streaming-bedrock-api verify` expects to find)."""
    api_key: pulumi.Output[str | None]
    """The API key value (secret) with auth 'api_key'; otherwise null."""
    curl_command: pulumi.Output[str]
    """A curl --no-buffer command that calls the endpoint (secret when it contains the API key)."""
    client_api_keys: pulumi.Output[dict[str, str]]
    """Client name -> API key value (secret); the single key is 'default' without clients; empty without keys."""
    client_api_key_ids: pulumi.Output[dict[str, str]]
    """Client name -> API key id (what the function and access logs see as apiKeyId)."""
    access_log_group_name: pulumi.Output[str | None]
    """The stage's access log group with access_logs; otherwise null."""
    dashboard_url: pulumi.Output[str | None]
    """Console URL of the stack's CloudWatch dashboard; null without dashboard."""
    openai_base_url: pulumi.Output[str | None]
    """base_url for OpenAI clients (ends in /v1), or null when the OpenAI routes are off."""

    def __init__(
        self, name: str, args: StreamingBedrockApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validate before registering anything, so a bad argument leaves no half-made component behind.
        settings = settings_from_args(args)
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self.settings = settings

        context = stack_context(self)
        # The region is known at preview (a provider invoke): a 'jp.' profile in us-east-1 fails here, not later.
        context = replace(context, region=context.region.apply(lambda region: _checked_region(settings, region)))
        # Keys first: the function meters by their ids, which exist only once the keys do.
        keys = clients.create_keys(name, settings, self)
        environment = {clients.KEY_IDS_ENV: clients.key_ids_json(keys)} if keys else None
        functions = create_function(name, settings, context, self, environment)
        access_logs = create_access_logs(name, settings, context, self)
        api = create_api(name, settings, functions.function, self, keys, access_logs)
        monitoring = create_monitoring(name, settings, context, api.rest_api, api.stage, functions.function, self)

        self.url = api.stage.invoke_url.apply(lambda base: f"{base.rstrip('/')}/{settings.path}")
        self.api_id = api.rest_api.id
        self.stage_name = api.stage.stage_name
        self.function_name = functions.function.name
        self.function_arn = functions.function.arn
        self.role_arn = functions.role.arn
        self.log_group_name = functions.log_group.name
        self.log_retention_days = pulumi.Output.from_input(settings.log_retention_days)
        if api.api_key is not None:
            self.api_key = pulumi.Output.secret(api.api_key.value)
        else:
            self.api_key = pulumi.Output.from_input(None)
        self.client_api_keys = clients.key_values(keys)
        self.client_api_key_ids = clients.key_ids(keys)
        # An if statement, not a conditional expression: mypy 1.19 (the floor) types the None branch by the other.
        if access_logs.log_group is not None:
            self.access_log_group_name = access_logs.log_group.name
        else:
            self.access_log_group_name = pulumi.Output.from_input(None)
        self.dashboard_url = monitoring.dashboard_url
        # With named clients the command uses the first client's key.
        sample_key: pulumi.Output[str | None] = self.api_key
        if keys and settings.clients:
            first_key: pulumi.Output[str] = pulumi.Output.secret(keys[0].key.value)
            sample_key = first_key.apply(lambda value: value)
        # Output.all keeps the secret flag of the key, so the command is a secret exactly when it holds the key.
        self.curl_command = pulumi.Output.all(self.url, context.region, sample_key).apply(
            lambda values: curl_command(values[0], settings, values[1], values[2])
        )

        prefix = f"/{settings.openai_path_prefix}" if settings.openai_path_prefix else ""
        self.openai_base_url = api.stage.invoke_url.apply(
            lambda base: f"{base.rstrip('/')}{prefix}/v1" if settings.openai_routes else None
        )

        self.register_outputs({name: getattr(self, name) for name in OUTPUT_NAMES})
