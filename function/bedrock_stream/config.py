"""Function configuration read from the environment (names shared with the Pulumi component).

Parsed once at init; a bad value is an init error (the runtime reports it to ``/init/error``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from bedrock_stream.guardrail import GuardrailConfig, load_guardrail
from bedrock_stream.metering import KEY_IDS_ENV, parse_key_ids
from bedrock_stream.thinking import MIN_BUDGET_TOKENS

DEFAULT_MAX_TOKENS_CAP = 4096
DEFAULT_MAX_REQUEST_BYTES = 1_048_576
DEFAULT_HEARTBEAT_SECONDS = 10.0
DEFAULT_DEADLINE_MARGIN_MS = 3000
DEFAULT_METRICS_NAMESPACE = "StreamingBedrockApi"


class ConfigError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class FunctionConfig:
    model_id: str
    max_tokens_cap: int = DEFAULT_MAX_TOKENS_CAP
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    allowed_origins: tuple[str, ...] = ("*",)
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    # API key id -> client name (metering.py), from CLIENT_KEY_IDS.
    client_key_ids: Mapping[str, str] = field(default_factory=dict)
    # The Bedrock guardrail on every call (guardrail.py), from GUARDRAIL_*.
    guardrail: GuardrailConfig | None = None
    # The function's own name (Lambda sets AWS_LAMBDA_FUNCTION_NAME): the FunctionName dimension of every metric,
    # so two stacks in one account never share a series (observability.py).
    function_name: str = ""
    # OpenAI-compatible routes: the model ids a client may name (empty: model_id alone) and an alias for model_id.
    openai_model_ids: tuple[str, ...] = ()
    openai_model_alias: str | None = None
    # Extended thinking on every request with this budget (None: off).
    thinking_budget_tokens: int | None = None


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return value


def load_config(env: Mapping[str, str]) -> FunctionConfig:
    """Build the configuration from environment variables; raise ConfigError naming the bad one."""
    model_id = env.get("BEDROCK_MODEL_ID", "").strip()
    if not model_id:
        raise ConfigError("BEDROCK_MODEL_ID is not set")
    if not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        raise ConfigError("AWS_REGION is not set (Lambda sets it; set it when running locally)")
    origins = tuple(o.strip() for o in env.get("CORS_ALLOW_ORIGINS", "*").split(",") if o.strip())
    try:
        client_key_ids = parse_key_ids(env.get(KEY_IDS_ENV, ""))
        guardrail = load_guardrail(env)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return FunctionConfig(
        model_id=model_id,
        max_tokens_cap=_int(env, "MAX_TOKENS_CAP", DEFAULT_MAX_TOKENS_CAP, 1),
        max_request_bytes=_int(env, "MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES, 1),
        allowed_origins=origins or ("*",),
        heartbeat_seconds=_float(env, "HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS),
        deadline_margin_ms=_int(env, "DEADLINE_MARGIN_MS", DEFAULT_DEADLINE_MARGIN_MS, 0),
        metrics_namespace=env.get("METRICS_NAMESPACE", "").strip() or DEFAULT_METRICS_NAMESPACE,
        client_key_ids=client_key_ids,
        guardrail=guardrail,
        function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "").strip(),
        openai_model_ids=tuple(m.strip() for m in env.get("OPENAI_MODEL_IDS", "").split(",") if m.strip()),
        openai_model_alias=env.get("OPENAI_MODEL_ALIAS", "").strip() or None,
        thinking_budget_tokens=_thinking_budget(env),
    )


def _thinking_budget(env: Mapping[str, str]) -> int | None:
    budget = _int(env, "THINKING_BUDGET_TOKENS", 0, 0)
    if budget == 0:
        return None
    if budget < MIN_BUDGET_TOKENS:
        raise ConfigError(f"THINKING_BUDGET_TOKENS must be 0 (off) or >= {MIN_BUDGET_TOKENS}, got {budget}")
    return budget
