"""One structured log line and one CloudWatch EMF metrics line per invocation (pure).

Neither line ever contains prompt or answer text: only ids, sizes, timings and codes.
"""

from __future__ import annotations

import json
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


def emf_line(record: InvocationRecord, namespace: str, timestamp_ms: int) -> str:
    """A CloudWatch Embedded Metric Format document, dimensioned by model."""
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
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["Model"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                }
            ],
        },
        "Model": record.model,
        "RequestId": record.request_id,
    }
    document.update({name: value for name, (value, _) in values.items()})
    return json.dumps(document, separators=(",", ":"))
