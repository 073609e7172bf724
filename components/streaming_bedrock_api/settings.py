"""Validated settings shared by the component, the Pulumi program and the local stack.

Pure module: no Pulumi import, so the local stack and the tests use exactly the rules the component applies.
Every check raises :class:`SettingsError` naming the argument, which makes a bad value fail at
``pulumi preview`` (or at ``streaming-bedrock-api local`` start) instead of half-way through a deployment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from .client_specs import DEFAULT_CLIENT, ClientSpec, ClientSpecError, check_within_stage, parse_clients
from .guardrail_spec import GuardrailSpec, GuardrailSpecError, guardrail_environment, parse_guardrail
from .model_limits import output_token_limit
from .regions import region_mismatch

AUTH_MODES = ("api_key", "iam", "cognito", "none")
# PRIVATE would stream too, but needs VPC endpoint ids and a resource policy that the component does not take.
ENDPOINT_TYPES = ("REGIONAL",)
ARCHITECTURES = ("arm64", "x86_64")
MAX_INTEGRATION_TIMEOUT_MS = 900_000
MAX_LAMBDA_TIMEOUT_S = 900
# API Gateway accepts request bodies up to 10 MB, but it hands them to Lambda inside the proxy event, and a
# synchronous invocation (Invoke / InvokeWithResponseStream) carries at most 6 MB = 6,291,456 bytes (Lambda quotas
# page, "Invocation payload (request and response)"). Inside the event the body is a JSON string: a text body's
# quotes, backslashes and newlines are escaped there (each byte can become two: a valid JSON body of only '"',
# '\\' and newlines doubles), and a binary body is base64 (4/3). Headers (up to 10 KB, present twice: headers and
# multiValueHeaders) and requestContext add the rest, for which EVENT_OVERHEAD_BYTES leaves ample room. So the
# largest body that always arrives is (6 MB - overhead) / 2; a larger setting would promise bodies that fail at
# Lambda after API Gateway accepted them. The local gateway enforces LAMBDA_INVOKE_PAYLOAD_BYTES on the event.
API_GATEWAY_PAYLOAD_BYTES = 10 * 1024 * 1024
LAMBDA_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
EVENT_OVERHEAD_BYTES = 128 * 1024
MAX_REQUEST_BYTES_LIMIT = (LAMBDA_INVOKE_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES) // 2
# Values CloudWatch Logs accepts for retentionInDays.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
CORS_ALLOW_HEADERS = "Content-Type,Authorization,X-Api-Key,X-Amz-Date,X-Amz-Security-Token,Accept"
# GET is for the OpenAI-compatible GET /v1/models.
CORS_ALLOW_METHODS = "GET,POST,OPTIONS"
CORS_EXPOSE_HEADERS = "Retry-After"
CORS_MAX_AGE_SECONDS = 600

# Anthropic's smallest extended-thinking budget (Bedrock user guide, "Extended thinking").
MIN_THINKING_BUDGET = 1024

_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
_PATH_PART = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$")
_COGNITO_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/[A-Za-z0-9_-]+$")


class SettingsError(ValueError):
    """An argument has a value the component cannot deploy; the message names the argument."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


@dataclass(frozen=True)
class Settings:
    """Everything the component and the local stack need, validated and with defaults applied."""

    model_id: str
    additional_model_ids: tuple[str, ...] = ()
    auth: str = "api_key"
    cognito_user_pool_arns: tuple[str, ...] = ()
    path: str = "stream"
    stage_name: str = "prod"
    endpoint_type: str = "REGIONAL"
    allowed_origins: tuple[str, ...] = ("*",)
    memory_size: int = 256
    timeout_seconds: int = 900
    architecture: str = "arm64"
    integration_timeout_ms: int = MAX_INTEGRATION_TIMEOUT_MS
    log_retention_days: int = 30
    max_tokens: int = 4096
    max_request_bytes: int = 1024 * 1024
    heartbeat_seconds: float = 10.0
    deadline_margin_ms: int = 3000
    throttle_rate_limit: float = 10.0
    throttle_burst_limit: int = 20
    quota_limit_per_day: int = 10_000
    tracing: bool = False
    reserved_concurrency: int | None = None
    # Named API clients (client_specs.py): each gets its own key and usage plan; empty = one default key.
    clients: tuple[ClientSpec, ...] = ()
    # Stage access logs (access_logs.py) and the account-wide API Gateway CloudWatch role they need.
    access_logs: bool = False
    api_gateway_cloudwatch_role: bool = False
    # One dashboard per stack and alarms (monitoring.py); thresholds, and an optional SNS topic for alarm actions.
    dashboard: bool = True
    alarms: bool = True
    alarm_topic_arn: str | None = None
    alarm_server_error_rate_percent: float = 5.0
    alarm_function_errors: int = 1
    alarm_bedrock_throttles: int = 5
    alarm_ttft_p99_ms: int = 10_000
    # A Bedrock guardrail on every call (guardrail_spec.py), required by the role's IAM conditions.
    guardrail: GuardrailSpec | None = None
    openai_routes: bool = True
    openai_path_prefix: str = ""
    openai_model_alias: str = ""
    thinking_budget_tokens: int = 0

    @property
    def model_ids(self) -> tuple[str, ...]:
        """The configured model first, then the additional ones, without repeats."""
        return tuple(dict.fromkeys((self.model_id, *self.additional_model_ids)))


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Pulumi config key (camelCase, without the project prefix) -> Settings field.
CONFIG_KEYS: dict[str, str] = {_camel(name): name for name in SETTING_NAMES}


def _int(argument: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise SettingsError(argument, f"expected a whole number, got {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise SettingsError(argument, f"expected a whole number, got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise SettingsError(argument, f"expected a whole number, got {value!r}")
    if not low <= number <= high:
        raise SettingsError(argument, f"must be between {low} and {high}, got {number}")
    return number


def _float(argument: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool):
        raise SettingsError(argument, f"expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError(argument, f"expected a number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(argument, f"must be between {low:g} and {high:g}, got {number:g}")
    return number


def _bool(argument: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SettingsError(argument, f"expected true or false, got {value!r}")


def _choice(argument: str, value: Any, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if value not in options:
        raise SettingsError(argument, f"must be one of {', '.join(options)}; got {value!r}")
    return str(value)


def _strings(argument: str, value: Any) -> tuple[str, ...]:
    # Stack config may hold a list or a comma-separated string; both mean the same.
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise SettingsError(argument, f"expected a list of strings, got {value!r}")
    if not all(isinstance(item, str) for item in items):
        raise SettingsError(argument, f"expected a list of strings, got {value!r}")
    return tuple(items)


def _model_id(argument: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(argument, "must be a non-empty Bedrock model id or inference profile id")
    if value.startswith("arn:") or not _MODEL_ID.match(value):
        raise SettingsError(
            argument,
            f"{value!r} is not a model id such as 'anthropic.claude-haiku-4-5-20251001-v1:0' or an inference "
            "profile id such as 'jp.anthropic.claude-haiku-4-5-20251001-v1:0' (ARNs are not accepted)",
        )
    return value


def _origins(value: Any) -> tuple[str, ...]:
    origins = _strings("allowed_origins", value)
    if not origins:
        raise SettingsError("allowed_origins", "needs at least one origin, or '*'")
    if "*" in origins and len(origins) > 1:
        raise SettingsError("allowed_origins", "'*' allows every origin and cannot be combined with others")
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise SettingsError(
                "allowed_origins",
                f"{origin!r} is not an origin like 'https://app.example.com' (scheme and host, no path or slash)",
            )
    return origins


def _max_request_bytes(value: Any) -> int:
    number = _int("max_request_bytes", value, 1, API_GATEWAY_PAYLOAD_BYTES)
    if number > MAX_REQUEST_BYTES_LIMIT:
        raise SettingsError(
            "max_request_bytes",
            f"{number} is more than can reach the function: a synchronous Lambda invocation carries at most "
            f"{LAMBDA_INVOKE_PAYLOAD_BYTES} bytes, and the proxy event holds the body JSON-escaped (up to twice "
            f"its size) plus headers, so the largest body that always fits is {MAX_REQUEST_BYTES_LIMIT} bytes",
        )
    return number


def check_region(settings: Settings, region: str) -> None:
    """Raise SettingsError when an inference-profile prefix cannot be called from the stack's ``region``
    (e.g. 'jp.' from us-east-1); see :mod:`regions` for the source-region lists and their sources."""
    for argument, ids in (("model_id", (settings.model_id,)), ("additional_model_ids", settings.additional_model_ids)):
        for model_id in ids:
            problem = region_mismatch(model_id, region)
            if problem is not None:
                raise SettingsError(argument, problem)


def resolve_settings(values: Mapping[str, Any]) -> Settings:
    """Validate snake_case ``values`` (missing or ``None`` means the default) and return :class:`Settings`."""
    unknown = sorted(set(values) - set(SETTING_NAMES))
    if unknown:
        raise SettingsError(unknown[0], f"unknown argument; known arguments are {', '.join(SETTING_NAMES)}")
    given = {key: value for key, value in values.items() if value is not None}
    defaults = Settings(model_id="unset")

    def get(name: str) -> Any:
        return given.get(name, getattr(defaults, name))

    if "model_id" not in given:
        raise SettingsError("model_id", "is required (for example 'jp.anthropic.claude-haiku-4-5-20251001-v1:0')")
    model_id = _model_id("model_id", given["model_id"])
    extra = _strings("additional_model_ids", get("additional_model_ids"))
    additional = tuple(_model_id("additional_model_ids", item) for item in extra)

    auth = _choice("auth", get("auth"), AUTH_MODES)
    pools = _strings("cognito_user_pool_arns", get("cognito_user_pool_arns"))
    if auth == "cognito" and not pools:
        raise SettingsError("cognito_user_pool_arns", "auth 'cognito' needs at least one user pool ARN")
    if auth != "cognito" and pools:
        raise SettingsError("cognito_user_pool_arns", f"only applies to auth 'cognito', not {auth!r}")
    for pool in pools:
        if not _COGNITO_POOL_ARN.match(pool):
            raise SettingsError("cognito_user_pool_arns", f"{pool!r} is not a Cognito user pool ARN")

    path = get("path")
    if not isinstance(path, str) or not _PATH_PART.match(path):
        raise SettingsError(
            "path", f"{path!r} must be one path segment of letters, digits, '.', '_' or '-' (e.g. 'stream')"
        )
    if path in (".", ".."):
        # HTTP clients remove dot segments from URLs (RFC 3986), so such an endpoint could never be called.
        raise SettingsError("path", f"{path!r} is a dot segment, which clients drop from URLs; use a name")
    stage_name = get("stage_name")
    if not isinstance(stage_name, str) or not _STAGE_NAME.match(stage_name):
        raise SettingsError("stage_name", f"{stage_name!r} must be letters, digits, '_' or '-' (e.g. 'prod')")

    endpoint_type = get("endpoint_type")
    if endpoint_type == "EDGE":
        raise SettingsError("endpoint_type", "EDGE cuts idle streams after 30 seconds; use REGIONAL")
    if endpoint_type == "PRIVATE":
        # Without a resource policy naming VPC endpoints the deployment would fail at AWS, not at preview.
        raise SettingsError(
            "endpoint_type",
            "PRIVATE needs VPC endpoint ids and a resource policy, which the component does not take yet; use REGIONAL",
        )
    endpoint_type = _choice("endpoint_type", endpoint_type, ENDPOINT_TYPES)

    timeout_seconds = _int("timeout_seconds", get("timeout_seconds"), 1, MAX_LAMBDA_TIMEOUT_S)
    # Unset, the integration waits as long as the function may run.
    integration_timeout_ms = _int(
        "integration_timeout_ms",
        given.get("integration_timeout_ms", min(MAX_INTEGRATION_TIMEOUT_MS, timeout_seconds * 1000)),
        50,
        MAX_INTEGRATION_TIMEOUT_MS,
    )
    if integration_timeout_ms > timeout_seconds * 1000:
        raise SettingsError(
            "integration_timeout_ms",
            f"{integration_timeout_ms} ms exceeds the function timeout of {timeout_seconds} s; the stream would "
            "outlive the function",
        )
    deadline_margin_ms = _int("deadline_margin_ms", get("deadline_margin_ms"), 100, 60_000)
    if deadline_margin_ms >= timeout_seconds * 1000:
        raise SettingsError("deadline_margin_ms", f"must be shorter than the function timeout ({timeout_seconds} s)")

    retention = _int("log_retention_days", get("log_retention_days"), 1, 3653)
    if retention not in LOG_RETENTION_DAYS:
        raise SettingsError(
            "log_retention_days", f"{retention} is not a CloudWatch retention; use one of {LOG_RETENTION_DAYS}"
        )

    max_tokens = _int("max_tokens", get("max_tokens"), 1, 128_000)
    limit = output_token_limit(model_id)
    if limit is not None and max_tokens > limit:
        raise SettingsError(
            "max_tokens",
            f"{max_tokens} exceeds the output limit of {model_id!r} ({limit} tokens); requests without max_tokens "
            "ask for this value, and Bedrock would refuse every one of them",
        )

    throttle_rate_limit = _float("throttle_rate_limit", get("throttle_rate_limit"), 0.1, 10_000.0)
    throttle_burst_limit = _int("throttle_burst_limit", get("throttle_burst_limit"), 1, 5_000)
    reserved = get("reserved_concurrency")
    clients = _clients(given.get("clients"), auth, throttle_rate_limit, throttle_burst_limit)
    max_tokens = _int("max_tokens", get("max_tokens"), 1, 128_000)
    openai_routes = _bool("openai_routes", get("openai_routes"))
    prefix = get("openai_path_prefix")
    if not isinstance(prefix, str) or (prefix and (not _PATH_PART.match(prefix) or prefix in (".", ".."))):
        raise SettingsError("openai_path_prefix", f"{prefix!r} must be empty or one path segment (e.g. 'openai')")
    if openai_routes and path == (prefix or "v1"):
        raise SettingsError("path", f"{path!r} is also the first segment of the OpenAI routes; choose another path "
                                    "or set openai_path_prefix")
    alias = get("openai_model_alias")
    if not isinstance(alias, str) or (alias and not _MODEL_ID.match(alias)):
        raise SettingsError("openai_model_alias", f"{alias!r} must be empty or a name like 'default'")
    thinking = _int("thinking_budget_tokens", get("thinking_budget_tokens"), 0, 128_000)
    if thinking and not MIN_THINKING_BUDGET <= thinking < max_tokens:
        raise SettingsError("thinking_budget_tokens", f"must be 0 (off) or at least {MIN_THINKING_BUDGET} and less "
                                                      f"than max_tokens ({max_tokens}), got {thinking}")
    settings = Settings(
        model_id=model_id,
        additional_model_ids=additional,
        auth=auth,
        cognito_user_pool_arns=pools,
        path=path,
        stage_name=stage_name,
        endpoint_type=endpoint_type,
        allowed_origins=_origins(get("allowed_origins")),
        memory_size=_int("memory_size", get("memory_size"), 128, 10_240),
        timeout_seconds=timeout_seconds,
        architecture=_choice("architecture", get("architecture"), ARCHITECTURES),
        integration_timeout_ms=integration_timeout_ms,
        log_retention_days=retention,
        max_tokens=max_tokens,
        max_request_bytes=_max_request_bytes(get("max_request_bytes")),
        # Below API Gateway's 5-minute idle timeout, or the heartbeat would not keep the stream alive.
        heartbeat_seconds=_float("heartbeat_seconds", get("heartbeat_seconds"), 0.5, 240.0),
        deadline_margin_ms=deadline_margin_ms,
        throttle_rate_limit=throttle_rate_limit,
        throttle_burst_limit=throttle_burst_limit,
        quota_limit_per_day=_int("quota_limit_per_day", get("quota_limit_per_day"), 1, 100_000_000),
        tracing=_bool("tracing", get("tracing")),
        reserved_concurrency=None if reserved is None else _int("reserved_concurrency", reserved, 1, 10_000),
        clients=clients,
        access_logs=_bool("access_logs", get("access_logs")),
        api_gateway_cloudwatch_role=_bool("api_gateway_cloudwatch_role", get("api_gateway_cloudwatch_role")),
        dashboard=_bool("dashboard", get("dashboard")),
        alarms=_bool("alarms", get("alarms")),
        alarm_topic_arn=_topic_arn(get("alarm_topic_arn")),
        alarm_server_error_rate_percent=_float(
            "alarm_server_error_rate_percent", get("alarm_server_error_rate_percent"), 0.01, 100.0
        ),
        alarm_function_errors=_int("alarm_function_errors", get("alarm_function_errors"), 1, 1_000_000),
        alarm_bedrock_throttles=_int("alarm_bedrock_throttles", get("alarm_bedrock_throttles"), 1, 1_000_000),
        alarm_ttft_p99_ms=_int("alarm_ttft_p99_ms", get("alarm_ttft_p99_ms"), 1, 900_000),
        guardrail=_guardrail(given.get("guardrail")),
        openai_routes=openai_routes,
        openai_path_prefix=prefix,
        openai_model_alias=alias,
        thinking_budget_tokens=thinking,
    )
    _check_environment_size(settings)
    return settings


def _guardrail(value: Any) -> GuardrailSpec | None:
    try:
        return parse_guardrail(value)
    except GuardrailSpecError as error:
        raise SettingsError("guardrail", str(error)) from None


def _topic_arn(value: Any) -> str | None:
    # The stack config's way to say "no topic" is an empty string.
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _SNS_TOPIC_ARN.match(value):
        raise SettingsError("alarm_topic_arn", f"{value!r} is not an SNS topic ARN (arn:aws:sns:region:account:name)")
    return value


def _clients(value: Any, auth: str, stage_rate: float, stage_burst: int) -> tuple[ClientSpec, ...]:
    try:
        clients = parse_clients(value)
        check_within_stage(clients, stage_rate, stage_burst)
    except ClientSpecError as error:
        raise SettingsError("clients", str(error)) from None
    if clients and auth != "api_key":
        raise SettingsError("clients", f"named clients are API keys, so they need auth 'api_key', not {auth!r}")
    return clients


# Pulumi.yaml defaults must be concrete values, so 0 is the stack config's way to say "not set" for these.
ZERO_MEANS_UNSET = ("integrationTimeoutMs", "reservedConcurrency")


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """Build settings from Pulumi config keys (camelCase, project prefix already removed)."""
    values: dict[str, Any] = {}
    for key, value in config.items():
        if key not in CONFIG_KEYS:
            known = ", ".join(sorted(CONFIG_KEYS))
            raise SettingsError(key, f"unknown config key; known keys are {known}")
        if key in ZERO_MEANS_UNSET and str(value).strip() == "0":
            continue
        values[CONFIG_KEYS[key]] = value
    try:
        return resolve_settings(values)
    except SettingsError as error:
        # Report the name the user typed in the stack file, not the Python field name.
        key = _camel(error.argument)
        raise SettingsError(key, str(error).split(": ", 1)[1]) from None


def function_environment(settings: Settings) -> dict[str, str]:
    """The Lambda environment the function reads; the local stack sets the same variables."""
    return {
        "AWS_LAMBDA_EXEC_WRAPPER": "/var/task/exec-wrapper",
        "BEDROCK_MODEL_ID": settings.model_id,
        "MAX_TOKENS_CAP": str(settings.max_tokens),
        "MAX_REQUEST_BYTES": str(settings.max_request_bytes),
        "CORS_ALLOW_ORIGINS": ",".join(settings.allowed_origins),
        "HEARTBEAT_SECONDS": f"{settings.heartbeat_seconds:g}",
        "DEADLINE_MARGIN_MS": str(settings.deadline_margin_ms),
        "METRICS_NAMESPACE": "StreamingBedrockApi",
        **guardrail_environment(settings.guardrail),
        **openai_environment(settings),
    }


# Lambda allows 4 KB of environment variables per function, all together (Lambda quotas,
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); counted here as the JSON of the map,
# which is at least as large as any other way of counting it. API key ids are 10 characters.
LAMBDA_ENVIRONMENT_BYTES = 4096


def deployed_environment_bytes(settings: Settings) -> int:
    """The size of the function's environment on AWS, with what is known only after deploy at its longest: the
    key-id map (one id per client) and the guardrail's ARN (function.py sends the ARN)."""
    environment = function_environment(settings)
    if settings.guardrail is not None:
        environment["GUARDRAIL_IDENTIFIER"] = settings.guardrail.arn("x" * 20, "0" * 12, "aws-us-gov")
    if settings.auth == "api_key":
        names = [spec.name for spec in settings.clients] or [DEFAULT_CLIENT]
        environment["CLIENT_KEY_IDS"] = json.dumps({f"{i:010d}": n for i, n in enumerate(names)})
    return len(json.dumps(environment).encode())


def _check_environment_size(settings: Settings) -> None:
    size = deployed_environment_bytes(settings)
    if size > LAMBDA_ENVIRONMENT_BYTES:
        raise SettingsError(
            "clients" if settings.clients else "allowed_origins",
            f"the function's environment would be about {size} bytes, over Lambda's {LAMBDA_ENVIRONMENT_BYTES} in "
            "total (the key-id map holds every client's name): use fewer or shorter client names or origins",
        )


def openai_environment(settings: Settings) -> dict[str, str]:
    """Variables of the OpenAI-compatible routes and extended thinking (left out when unused)."""
    env = {"OPENAI_MODEL_IDS": ",".join(settings.model_ids)} if settings.openai_routes else {}
    if settings.openai_routes and settings.openai_model_alias:
        env["OPENAI_MODEL_ALIAS"] = settings.openai_model_alias
    if settings.thinking_budget_tokens:
        env["THINKING_BUDGET_TOKENS"] = str(settings.thinking_budget_tokens)
    return env


def openai_resource_paths(settings: Settings) -> tuple[str, str]:
    """The chat-completions and models resource paths (``/v1/...`` after the optional prefix)."""
    base = f"/{settings.openai_path_prefix}/v1" if settings.openai_path_prefix else "/v1"
    return f"{base}/chat/completions", f"{base}/models"


def allowed_origin(settings: Settings, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for a request from ``origin``, or None when it is not allowed."""
    if settings.allowed_origins == ("*",):
        return "*"
    if origin is not None and origin in settings.allowed_origins:
        return origin
    return None


def cors_headers(settings: Settings, origin: str | None) -> dict[str, str]:
    """CORS headers for a response (preflight or gateway error) to a request carrying ``origin``."""
    allow = allowed_origin(settings, origin)
    headers: dict[str, str] = {}
    if allow is not None:
        headers["Access-Control-Allow-Origin"] = allow
        headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
        headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
    if allow != "*":
        headers["Vary"] = "Origin"
    return headers
