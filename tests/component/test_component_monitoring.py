"""The dashboard and the alarms, under Pulumi mocks; every custom metric they reference is one the function emits.

The emitted set is not a list copied here: the function's own relay runs in process with the environment the
component gave the function (read from the mock's records), once per client and once per failure kind, and the
EMF documents it writes are parsed. A graph or alarm on a metric, dimension or value the function never writes
(an empty graph, an alarm that never fires) fails the test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import pytest
from bedrock_stream.config import load_config
from bedrock_stream.contract import InvocationContext
from bedrock_stream.relay import Relay
from botocore.exceptions import ClientError

from .conftest import REGION, ComponentRun, run_component

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
NAMESPACE = "StreamingBedrockApi"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:oncall"

Metric = tuple[str, str, frozenset[tuple[str, str]]]


class _Stream:
    def __init__(self) -> None:
        self.started = False

    def start(self, status: int, headers: Any, cookies: Any = ()) -> None:
        self.started = True

    def write(self, data: bytes) -> None:
        pass

    def fail(self, error_type: str, message: str) -> None:
        pass


class _Client:
    def __init__(self, outcome: list[dict[str, Any]] | BaseException) -> None:
        self.outcome = outcome

    def __call__(self) -> _Client:
        return self

    def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return {"stream": iter(self.outcome)}


SUCCESS: list[dict[str, Any]] = [
    {"contentBlockDelta": {"delta": {"text": "hi"}, "contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "end_turn"}},
    {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4, "cacheReadInputTokens": 2,
                            "cacheWriteInputTokens": 1}, "metrics": {"latencyMs": 5}}},
]
THROTTLED = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ConverseStream")


def emitted_metrics(run: ComponentRun, function_name: str | None = None) -> set[Metric]:
    """Run the function's relay with the deployed environment and collect what its EMF documents declare.

    Lambda adds ``AWS_REGION`` and ``AWS_LAMBDA_FUNCTION_NAME`` (the stack's function, unless ``function_name``
    names another stack's)."""
    environment = dict(run.one("aws:lambda/function:Function", suffix="chat-fn").inputs["environment"]["variables"])
    environment["AWS_REGION"] = REGION
    environment["AWS_LAMBDA_FUNCTION_NAME"] = function_name or run.outputs["function_name"]
    config = load_config(environment)
    key_ids: list[str | None] = [*config.client_key_ids] or [None]
    lines: list[str] = []
    for key_id in key_ids:
        outcomes: tuple[list[dict[str, Any]] | BaseException, ...] = (SUCCESS, THROTTLED)
        for outcome in outcomes:
            event = {
                "httpMethod": "POST",
                "body": json.dumps({"prompt": "q"}),
                "requestContext": {"identity": {"apiKeyId": key_id}},
            }
            relay = Relay(config, _Client(outcome).__call__, emit=lines.append)
            relay(event, InvocationContext("r", int(time.time() * 1000) + 60_000), _Stream())
    metrics: set[Metric] = set()
    for line in lines:
        document = json.loads(line)
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, str(document[name])) for name in dimension_set)
                for metric in directive["Metrics"]:
                    metrics.add((directive["Namespace"], metric["Name"], dimensions))
    return metrics


def dashboard_metrics(body: dict[str, Any]) -> set[Metric]:
    found: set[Metric] = set()
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            namespace, name, *rest = row
            pairs = [item for item in rest if not isinstance(item, dict)]
            found.add((namespace, name, frozenset(zip(pairs[::2], pairs[1::2], strict=True))))
    return found


def alarm_metrics(run: ComponentRun) -> set[Metric]:
    return {
        (a.inputs["namespace"], a.inputs["metricName"], frozenset(a.inputs["dimensions"].items()))
        for a in run.of_type(ALARM)
    }


def custom(metrics: Iterable[Metric]) -> set[Metric]:
    return {metric for metric in metrics if metric[0] == NAMESPACE}


def _dashboard(run: ComponentRun) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(run.one(DASHBOARD).inputs["dashboardBody"])
    return body


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"clients": [{"name": "web"}, {"name": "batch"}]},
        {"auth": "iam"},
    ],
    ids=["default-key", "named-clients", "no-keys"],
)
def test_every_custom_metric_referenced_is_one_the_function_emits(args: dict[str, Any]) -> None:
    run = run_component({"model_id": MODEL, **args})
    emitted = custom(emitted_metrics(run))
    referenced = custom(dashboard_metrics(_dashboard(run))) | custom(alarm_metrics(run))
    assert emitted and referenced
    missing = referenced - emitted
    assert not missing, f"referenced but never emitted: {sorted(missing)}"
    # The graphs the issue asks for are all there.
    names = {name for _, name, _ in referenced}
    assert {"TimeToFirstToken", "OutputTokens", "Throttles"} <= names


def test_the_check_catches_a_metric_the_function_does_not_emit() -> None:
    run = run_component({"model_id": MODEL, "clients": [{"name": "web"}]})
    emitted = custom(emitted_metrics(run))
    function = ("FunctionName", run.outputs["function_name"])
    wrong_dimension = (NAMESPACE, "OutputTokens", frozenset({function, ("Client", "nobody")}))
    wrong_name = (NAMESPACE, "OutputToken", frozenset({function, ("Client", "web")}))
    per_model_requests = (NAMESPACE, "Requests", frozenset({function, ("Model", MODEL)}))
    account_wide = (NAMESPACE, "OutputTokens", frozenset({("Client", "web")}))
    for metric in (wrong_dimension, wrong_name, per_model_requests, account_wide):
        assert metric not in emitted
    assert (NAMESPACE, "OutputTokens", frozenset({function, ("Client", "web")})) in emitted


@pytest.mark.parametrize("args", [{}, {"clients": [{"name": "web"}]}], ids=["default-key", "named-clients"])
def test_another_stack_in_the_account_never_feeds_this_stacks_graphs_or_alarms(args: dict[str, Any]) -> None:
    """Same project, model and clients, other function: the namespace is shared, the series are not."""
    run = run_component({"model_id": MODEL, **args})
    referenced = custom(dashboard_metrics(_dashboard(run))) | custom(alarm_metrics(run))
    other_stack = custom(emitted_metrics(run, function_name="chat-fn-9z8y7x6"))
    assert referenced and other_stack
    assert not referenced & other_stack, sorted(referenced & other_stack)


def test_dashboard_covers_traffic_latency_tokens_function_and_bedrock() -> None:
    run = run_component({"model_id": MODEL, "clients": [{"name": "web"}, {"name": "batch"}]})
    dashboard = run.one(DASHBOARD)
    assert dashboard.inputs["dashboardName"] == "streaming-bedrock-api-test-chat"
    metrics = dashboard_metrics(_dashboard(run))
    api = frozenset({("ApiName", "chat-api-0a1b2c3"), ("Stage", "prod")})
    function = frozenset({("FunctionName", "chat-fn-0a1b2c3")})
    model = frozenset({("ModelId", MODEL)})
    assert {("AWS/ApiGateway", m, api) for m in ("Count", "4XXError", "5XXError")} <= metrics
    assert {("AWS/Lambda", m, function) for m in ("Duration", "ConcurrentExecutions", "Throttles")} <= metrics
    assert {("AWS/Bedrock", m, model) for m in ("Invocations", "InvocationThrottles", "InvocationLatency")} <= metrics
    assert {(NAMESPACE, "OutputTokens", function | {("Client", c)}) for c in ("web", "batch")} <= metrics
    rows = [row for widget in _dashboard(run)["widgets"] for row in widget["properties"]["metrics"]]
    ttft = [row for row in rows if row[1] == "TimeToFirstToken"]
    assert sorted(row[-1]["stat"] for row in ttft) == ["p50", "p99"]
    assert run.outputs["dashboard_url"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        "#dashboards/dashboard/streaming-bedrock-api-test-chat"
    )


def test_alarms_have_the_configured_thresholds_and_topic() -> None:
    run = run_component(
        {"model_id": MODEL, "alarm_topic_arn": TOPIC, "alarm_server_error_rate_percent": 2.5,
         "alarm_function_errors": 3, "alarm_bedrock_throttles": 7, "alarm_ttft_p99_ms": 4000}
    )
    alarms = {a.name.removeprefix("chat-alarm-"): a.inputs for a in run.of_type(ALARM)}
    assert set(alarms) == {"server-error-rate", "function-errors", "bedrock-throttles", "ttft-p99"}
    assert alarms["server-error-rate"]["threshold"] == 0.025 and alarms["server-error-rate"]["statistic"] == "Average"
    assert alarms["server-error-rate"]["dimensions"] == {"ApiName": "chat-api-0a1b2c3", "Stage": "prod"}
    assert alarms["function-errors"]["threshold"] == 3
    assert alarms["function-errors"]["dimensions"] == {"FunctionName": "chat-fn-0a1b2c3"}
    assert alarms["bedrock-throttles"]["threshold"] == 7 and alarms["bedrock-throttles"]["metricName"] == "Throttles"
    assert alarms["ttft-p99"]["threshold"] == 4000 and alarms["ttft-p99"]["extendedStatistic"] == "p99"
    for inputs in alarms.values():
        assert inputs["alarmActions"] == [TOPIC] and inputs["okActions"] == [TOPIC]
        assert inputs["treatMissingData"] == "notBreaching"


def test_no_topic_no_actions_and_both_can_be_turned_off() -> None:
    run = run_component({"model_id": MODEL})
    assert run.of_type(ALARM) and all("alarmActions" not in a.inputs for a in run.of_type(ALARM))
    off = run_component({"model_id": MODEL, "dashboard": False, "alarms": False})
    assert not off.of_type(ALARM) and not off.of_type(DASHBOARD)
    assert off.outputs["dashboard_url"] is None
