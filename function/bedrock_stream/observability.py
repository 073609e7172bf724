"""One structured log line and one CloudWatch EMF metrics line per invocation (pure).

Neither line ever contains prompt or answer text: only ids, sizes, timings and codes.

Every metric carries the dimension ``FunctionName`` (the function's own name, which Lambda sets in
``AWS_LAMBDA_FUNCTION_NAME``; Lambda developer guide, "Defined runtime environment variables",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html) next to ``Model``
or ``Client``: the namespace is shared by every stack in the account, and without it two stacks would add up on
each other's dashboards and alarms. Outside Lambda, without a name, the dimension is left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass


@dataclass
class InvocationRecord:
    request_id: str
    model: str
    status: int = 0
    output_format: str = "text"
    ttft_ms: float | None = None
    duration_ms: float = 0.0
    input_tokens: int | None = None
    output_tokens: int | None = None
    stop_reason: str | None = None
    deltas: int = 0
    disconnected: bool = False
    timed_out: bool = False
    error_code: str | None = None
    bedrock_error: str | None = None
    # The caller's client name (metering.py); None without an API key.
    client: str | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None


def log_line(record: InvocationRecord) -> str:
    fields = {"message": "invocation", **asdict(record)}
    for key in ("ttft_ms", "duration_ms"):
        if isinstance(fields[key], float):
            fields[key] = round(fields[key], 3)
    return json.dumps(fields, separators=(",", ":"))


FUNCTION_DIMENSION = "FunctionName"


def emf_document(
    namespace: str,
    timestamp_ms: int,
    dimension: tuple[str, str],
    function_name: str,
    request_id: str,
    values: Mapping[str, tuple[float, str]],
) -> str:
    """One EMF document: ``values`` (name -> value, unit) under one dimension set, ``dimension`` (name, value)
    within this function (just ``dimension`` without a function name)."""
    name, value = dimension
    dimensions = {FUNCTION_DIMENSION: function_name, name: value} if function_name else {name: value}
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": metric, "Unit": unit} for metric, (_, unit) in values.items()],
                }
            ],
        },
        **dimensions,
        "RequestId": request_id,
        **{metric: number for metric, (number, _) in values.items()},
    }
    return json.dumps(document, separators=(",", ":"))


def emf_line(record: InvocationRecord, namespace: str, timestamp_ms: int, function_name: str = "") -> str:
    """A CloudWatch Embedded Metric Format document, dimensioned by function and model."""
    values: dict[str, tuple[float, str]] = {
        "Invocations": (1, "Count"),
        "ServerErrors": (1 if record.status >= 500 else 0, "Count"),
        "ClientErrors": (1 if 400 <= record.status < 500 else 0, "Count"),
        "Throttles": (1 if record.status == 429 or record.error_code == "throttled" else 0, "Count"),
        "Disconnects": (1 if record.disconnected else 0, "Count"),
        "Timeouts": (1 if record.timed_out else 0, "Count"),
        "MidStreamErrors": (1 if record.status < 400 and record.error_code else 0, "Count"),
        "Duration": (round(record.duration_ms, 3), "Milliseconds"),
    }
    if record.ttft_ms is not None:
        values["TimeToFirstToken"] = (round(record.ttft_ms, 3), "Milliseconds")
    if record.input_tokens is not None:
        values["InputTokens"] = (record.input_tokens, "Count")
    if record.output_tokens is not None:
        values["OutputTokens"] = (record.output_tokens, "Count")
    return emf_document(namespace, timestamp_ms, ("Model", record.model), function_name, record.request_id, values)
