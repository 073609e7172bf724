"""The live probe's analysis (pure): did the answer stream, is the SSE variant in order, does the preflight allow
the origin.

Verdict rule: a streamed answer arrives spread over the generation, a buffered one in a burst at the end (what a
BUFFERED integration, or a buffering proxy in between, produces). The probe asks for a long enough answer. It
*streamed* when half of its bytes had arrived at least ``MIN_SPREAD_S``, and at least ``MIN_SPREAD_SHARE`` of the
time from the request to the last byte, before the last byte. Byte-weighted, so a few early bytes (a prefix some
proxy flushes) followed by the whole answer at the end still count as *buffered*.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .results import CheckResult, failed, passed

MIN_SPREAD_S = 0.1
MIN_SPREAD_SHARE = 0.1
PROBE_PROMPT = "Count from 1 to 40, one number per line, nothing else."
PROBE_MAX_TOKENS = 200


@dataclass(frozen=True)
class Arrival:
    """One read of the response body: when (seconds after the request was sent) and how many bytes."""

    at: float
    size: int


@dataclass(frozen=True)
class Timing:
    first_byte_s: float | None
    chunks: int
    bytes: int
    total_s: float
    spread_s: float
    half_bytes_before_end_s: float
    max_gap_s: float
    median_gap_s: float
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def analyse(arrivals: Sequence[Arrival], ended_at: float) -> Timing:
    """Figures and verdict for one response body that ended ``ended_at`` seconds after the request."""
    body = [a for a in arrivals if a.size > 0]
    if not body:
        return Timing(None, 0, 0, ended_at, 0.0, 0.0, 0.0, 0.0, "empty")
    times = [a.at for a in body]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    total = sum(a.size for a in body)
    running = itertools.accumulate(a.size for a in body)
    half_at = next(a.at for a, seen in zip(body, running, strict=True) if 2 * seen >= total)
    before_end = times[-1] - half_at
    streamed = before_end >= MIN_SPREAD_S and before_end >= MIN_SPREAD_SHARE * times[-1]
    return Timing(
        first_byte_s=times[0],
        chunks=len(body),
        bytes=total,
        total_s=ended_at,
        spread_s=times[-1] - times[0],
        half_bytes_before_end_s=before_end,
        max_gap_s=max(gaps, default=0.0),
        median_gap_s=statistics.median(gaps) if gaps else 0.0,
        verdict="streamed" if streamed else "buffered",
    )


def describe(timing: Timing) -> str:
    if timing.first_byte_s is None:
        return f"no body after {timing.total_s:.2f} s"
    return (
        f"{timing.verdict}: first byte {timing.first_byte_s * 1000:.0f} ms, {timing.chunks} chunks, "
        f"{timing.bytes} bytes over {timing.spread_s:.2f} s (max gap {timing.max_gap_s * 1000:.0f} ms), "
        f"total {timing.total_s:.2f} s"
    )


def check_stream(status: int, timing: Timing, complete: bool, error_body: str = "") -> CheckResult:
    name = "probe.streams"
    expected = "200, bytes spread over the generation (streamed)"
    if status != 200:
        return failed(
            name,
            expected,
            f"HTTP {status} {error_body[:200]}".strip(),
            "see the status table in function/README.md; 403 means the key or signature was refused",
        )
    if not complete:
        return failed(name, expected, describe(timing) + ", cut before its end", "see the function's log group")
    if timing.verdict == "streamed":
        return passed(name, expected, describe(timing))
    return failed(
        name,
        expected,
        describe(timing),
        "the answer arrived in one burst: check api.transfer-mode and api.deployment above, and any proxy or CDN "
        "between you and the API (it must not buffer)",
    )


def sse_events(body: bytes) -> list[tuple[str, Any]]:
    """(event, parsed data) per SSE event; comments (heartbeats) dropped; undecodable data kept as text."""
    events: list[tuple[str, Any]] = []
    for block in body.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            if key == "event":
                name = value.removeprefix(" ")
            elif key == "data":
                data.append(value.removeprefix(" "))
        if data:
            text = "\n".join(data)
            try:
                events.append((name, json.loads(text)))
            except ValueError:
                events.append((name, text))
    return events


def check_sse(status: int, content_type: str, body: bytes, complete: bool) -> CheckResult:
    """The SSE variant: one or more ``delta``, then ``usage``, then ``done``, nothing after it, no ``error``."""
    name = "probe.sse-order"
    expected = "text/event-stream: delta..., usage, done"
    if status != 200 or not content_type.startswith("text/event-stream"):
        return failed(name, expected, f"HTTP {status}, {content_type or 'no content type'}", "see probe.streams")
    names = [event for event, _ in sse_events(body)]
    errors = [data for event, data in sse_events(body) if event == "error"]
    deltas = 0
    while deltas < len(names) and names[deltas] == "delta":
        deltas += 1
    in_order = deltas >= 1 and names[deltas:] == ["usage", "done"]
    if in_order and complete:
        return passed(name, expected, f"{deltas} delta, usage, done")
    found = " ".join(names[:3] + (["..."] if len(names) > 6 else []) + names[max(3, len(names) - 3) :]) or "no events"
    if errors:
        found += f"; error {errors[0]}"
    return failed(name, expected, found + ("" if complete else " (cut)"), "see the function's log group for the cause")


def check_preflight(
    status: int, headers: Mapping[str, str], origin: str, request_headers: Sequence[str]
) -> CheckResult:
    """A browser's preflight from ``origin`` for a POST with ``request_headers`` (``headers`` keys lower-case)."""
    name = "probe.cors-preflight"
    expected = f"2xx allowing {origin}, POST and {', '.join(request_headers)}"
    allow_origin = headers.get("access-control-allow-origin", "")
    methods = {m.strip().upper() for m in headers.get("access-control-allow-methods", "").split(",")}
    allowed = {h.strip().lower() for h in headers.get("access-control-allow-headers", "").split(",")}
    problems = []
    if not 200 <= status < 300:
        problems.append(f"HTTP {status}")
    if allow_origin not in (origin, "*"):
        problems.append(f"Access-Control-Allow-Origin {allow_origin or 'missing'}")
    if "POST" not in methods:
        problems.append("POST not allowed")
    missing = [h for h in request_headers if h.lower() not in allowed and "*" not in allowed]
    if missing:
        problems.append(f"headers not allowed: {', '.join(missing)}")
    if problems:
        return failed(
            name,
            expected,
            "; ".join(problems),
            f"add {origin} to allowedOrigins (`pulumi config set --path 'streaming-bedrock-api:allowedOrigins[0]' "
            f"{origin}`) and run `pulumi up`",
        )
    return passed(name, expected, f"Allow-Origin {allow_origin}")
