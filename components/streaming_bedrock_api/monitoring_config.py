"""What the stack's dashboard shows and what its alarms watch, as pure data (no Pulumi import).

The custom metrics (namespace ``StreamingBedrockApi``) are the ones the function writes as EMF: per model
(``observability.emf_line``, dimensions ``FunctionName`` + ``Model``) and per client (``metering.client_emf_line``,
dimensions ``FunctionName`` + ``Client``). ``FunctionName`` is this stack's function, so two stacks in one account
never read each other's numbers. ``tests/component/test_component_monitoring.py`` runs the function's relay and
checks that every custom metric referenced here is one it actually emits, with the same namespace, name and
dimensions.

AWS metrics: API Gateway REST APIs report ``Count``, ``4XXError``, ``5XXError`` by ``ApiName`` and ``Stage``;
Lambda ``Duration``, ``ConcurrentExecutions``, ``Throttles``, ``Errors`` by ``FunctionName``; Bedrock
``Invocations``, ``InvocationThrottles``, ``InvocationLatency`` by ``ModelId`` (CloudWatch metrics pages of the
API Gateway, Lambda and Bedrock guides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .client_specs import DEFAULT_CLIENT
from .settings import Settings, function_environment

PERIOD_S = 300
API_NAMESPACE = "AWS/ApiGateway"
LAMBDA_NAMESPACE = "AWS/Lambda"
BEDROCK_NAMESPACE = "AWS/Bedrock"


@dataclass(frozen=True)
class MonitoredNames:
    """Names of the deployed resources, known once they exist."""

    region: str
    api_name: str
    stage: str
    function_name: str


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm on one metric."""

    key: str
    description: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    threshold: float
    comparison: str
    statistic: str | None = None
    extended_statistic: str | None = None
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    period: int = PERIOD_S


def metrics_namespace(settings: Settings) -> str:
    """The namespace the function writes its EMF metrics to (the same variable the function reads)."""
    return function_environment(settings)["METRICS_NAMESPACE"]


def metered_clients(settings: Settings) -> tuple[str, ...]:
    """The client names the function meters: the named clients, the default key's, or none without API keys."""
    if settings.auth != "api_key":
        return ()
    return tuple(spec.name for spec in settings.clients) or (DEFAULT_CLIENT,)


def dashboard_name(project: str, stack: str, name: str) -> str:
    """A dashboard name unique per stack (CloudWatch allows letters, digits, '-' and '_', up to 255)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{project}-{stack}-{name}")[:255]


def dashboard_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


def _widget(title: str, metrics: list[list[Any]], x: int, y: int, region: str, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"title": title, "region": region, "view": "timeSeries", "metrics": metrics}
    properties.update(extra)
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties}


def dashboard_body(settings: Settings, names: MonitoredNames) -> dict[str, Any]:
    """The dashboard's widgets: traffic and errors, TTFT, tokens per client, the function, Bedrock itself."""
    namespace = metrics_namespace(settings)
    api = ["ApiName", names.api_name, "Stage", names.stage]
    function = ["FunctionName", names.function_name]
    model = settings.model_id
    by_model = [*function, "Model", model]
    clients = metered_clients(settings)
    if clients:
        tokens = [[namespace, "OutputTokens", *function, "Client", client, {"label": client}] for client in clients]
    else:
        tokens = [[namespace, "OutputTokens", *by_model, {"label": model}]]
    region = names.region
    widgets = [
        _widget("Requests and errors (API Gateway)", [
            [API_NAMESPACE, "Count", *api, {"label": "requests"}],
            [API_NAMESPACE, "4XXError", *api, {"label": "4XX"}],
            [API_NAMESPACE, "5XXError", *api, {"label": "5XX"}],
        ], 0, 0, region, stat="Sum", period=60),
        _widget("Time to first token (ms)", [
            [namespace, "TimeToFirstToken", *by_model, {"stat": "p50", "label": "p50"}],
            [namespace, "TimeToFirstToken", *by_model, {"stat": "p99", "label": "p99"}],
        ], 12, 0, region, period=60),
        _widget("Output tokens per minute, per client", tokens, 0, 6, region, stat="Sum", period=60),
        _widget("Function duration, concurrency, throttles", [
            [LAMBDA_NAMESPACE, "Duration", *function, {"stat": "p99", "label": "duration p99 (ms)"}],
            [LAMBDA_NAMESPACE, "ConcurrentExecutions", *function, {"stat": "Maximum", "yAxis": "right"}],
            [LAMBDA_NAMESPACE, "Throttles", *function, {"stat": "Sum", "yAxis": "right"}],
        ], 12, 6, region, period=60),
        _widget(f"Bedrock: {model}", [
            [BEDROCK_NAMESPACE, "Invocations", "ModelId", model, {"stat": "Sum"}],
            [BEDROCK_NAMESPACE, "InvocationThrottles", "ModelId", model, {"stat": "Sum"}],
            [BEDROCK_NAMESPACE, "InvocationLatency", "ModelId", model, {"stat": "p99", "yAxis": "right"}],
        ], 0, 12, region, period=60),
    ]
    return {"widgets": widgets}


def alarm_specs(settings: Settings, names: MonitoredNames) -> list[AlarmSpec]:
    """The four alarms, with the stack's thresholds."""
    namespace = metrics_namespace(settings)
    api = {"ApiName": names.api_name, "Stage": names.stage}
    by_model = {"FunctionName": names.function_name, "Model": settings.model_id}
    return [
        AlarmSpec(
            "server-error-rate",
            f"More than {settings.alarm_server_error_rate_percent:g}% of requests got a 5XX in 5 minutes",
            API_NAMESPACE, "5XXError", api,
            # The Average of 5XXError is the 5XX rate (errors / Count), no metric math needed ("Amazon API Gateway
            # dimensions and metrics", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
            threshold=settings.alarm_server_error_rate_percent / 100, comparison="GreaterThanThreshold",
            statistic="Average",
        ),
        AlarmSpec(
            "function-errors",
            f"The function failed at least {settings.alarm_function_errors} times in 5 minutes",
            LAMBDA_NAMESPACE, "Errors", {"FunctionName": names.function_name},
            threshold=settings.alarm_function_errors, comparison="GreaterThanOrEqualToThreshold", statistic="Sum",
        ),
        AlarmSpec(
            "bedrock-throttles",
            f"Bedrock throttled at least {settings.alarm_bedrock_throttles} requests in 5 minutes",
            namespace, "Throttles", by_model,
            threshold=settings.alarm_bedrock_throttles, comparison="GreaterThanOrEqualToThreshold",
            statistic="Sum",
        ),
        AlarmSpec(
            "ttft-p99",
            f"Time to first token p99 above {settings.alarm_ttft_p99_ms} ms for 10 minutes",
            namespace, "TimeToFirstToken", by_model,
            threshold=settings.alarm_ttft_p99_ms, comparison="GreaterThanThreshold", extended_statistic="p99",
            evaluation_periods=2, datapoints_to_alarm=2,
        ),
    ]
