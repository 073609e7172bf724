"""Relay lag and CPU per delta: the OpenAI-compatible route against the native route, in one function process.

    python bench/openai_route_bench.py [--deltas 3000] [--pace-ms 1] [--rounds 3] [--cpu-quota-us 14470]

The function runs as Lambda runs it (the deployment zip, its exec wrapper, the Runtime API fake and the Bedrock
stand-in, as in ``bench/function_bench.py``). Each round relays the same number of paced deltas through each
route, alternating, so both see the same machine noise:

- ``native-sse``: ``POST /stream`` with ``Accept: text/event-stream`` (the native route's richest output);
- ``native-text``: ``POST /stream``, plain text;
- ``openai``: ``POST /v1/chat/completions`` with ``stream: true`` and ``include_usage``.

Relay lag: stand-in wrote delta *i* → the Runtime API received chunk *i*. CPU: utime+stime of the worker across the
round, per 1,000 deltas. ``--cpu-quota-us`` runs the worker in a cgroup v1 CPU quota (per 100 ms period; 14470 is
Lambda's share at 256 MB) when /sys/fs/cgroup/cpu is writable (root). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / "components", ROOT / "local", ROOT / "function"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from tests.function.fn_integration_harness import (  # noqa: E402
    Harness,
    build_task_root,
    make_harness,
    prompt_event,
    proxy_event,
    split_response,
)

PER_INVOCATION = 1000
CGROUP_ROOT = Path("/sys/fs/cgroup/cpu")


def openai_event(prompt: str) -> dict[str, Any]:
    body = {"model": "jp.anthropic.claude-haiku-4-5-20251001-v1:0", "stream": True,
            "stream_options": {"include_usage": True}, "messages": [{"role": "user", "content": prompt}]}
    event = proxy_event(json.dumps(body), headers={"Authorization": "Bearer bench"})
    event["resource"] = event["path"] = event["requestContext"]["resourcePath"] = "/v1/chat/completions"
    return event


ROUTES = {
    "native-sse": lambda prompt: prompt_event(prompt, sse=True),
    "native-text": lambda prompt: prompt_event(prompt),
    "openai": openai_event,
}


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


@contextlib.contextmanager
def cpu_quota(pid: int, quota_us: int | None) -> Iterator[str]:
    """Put ``pid`` (and its future children) in a cgroup v1 CPU quota; yields a description."""
    if quota_us is None:
        yield "no CPU quota"
        return
    group = CGROUP_ROOT / f"openai-route-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text(str(quota_us))
        (group / "cgroup.procs").write_text(str(pid))
    except OSError as error:
        yield f"no CPU quota ({error.__class__.__name__}: cgroup v1 cpu controller not writable)"
        return
    try:
        yield f"CPU quota {quota_us} us per 100 ms ({quota_us / 1000:.1f}% of one core)"
    finally:
        with contextlib.suppress(OSError):
            (CGROUP_ROOT / "cgroup.procs").write_text(str(pid))
        with contextlib.suppress(OSError):
            group.rmdir()


def relay(harness: Harness, route: str, deltas: int, tag: str) -> tuple[list[float], float, int]:
    """Per-delta lags (ms), CPU seconds and deltas relayed for ``deltas`` deltas through ``route``."""
    assert harness.process is not None
    lags: list[float] = []
    relayed = 0
    cpu_before = harness.process.cpu_seconds()
    for index in range((deltas + PER_INVOCATION - 1) // PER_INVOCATION):
        before = len(harness.standin.records())
        result = harness.invoke(ROUTES[route](f"{tag} {route} {index}")).wait(300)
        record = harness.standin.wait_for_done(before + 1, timeout=300)[before]
        chunks = split_response(result).payload_chunks
        # The OpenAI stream adds a finish chunk, the usage chunk and [DONE]; the native SSE adds usage and done.
        delta_chunks = chunks[: len(record.token_times)]
        if len(chunks) < len(record.token_times):
            raise RuntimeError(f"{route}: {len(chunks)} chunks for {len(record.token_times)} deltas (merged)")
        lags += [(c.received_at - t) * 1000 for c, t in zip(delta_chunks, record.token_times, strict=True)]
        relayed += len(record.token_times)
    return lags, harness.process.cpu_seconds() - cpu_before, relayed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deltas", type=int, default=3000, help="deltas per route per round")
    parser.add_argument("--pace-ms", type=float, default=1.0, help="stand-in pause between deltas")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu-quota-us", type=int, default=None, help="cgroup v1 quota per 100 ms (root)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        harness = make_harness(build_task_root(base / "lambda"), base / "logs")
        try:
            process = harness.start_function()
            harness.standin.answer_tokens = 5
            harness.standin.pace_seconds = 0
            for index in range(20):  # warm-up: client build, connection pool, both code paths
                for route in ROUTES:
                    harness.call(ROUTES[route](f"warm-up {index}"))
            harness.standin.answer_tokens = PER_INVOCATION
            harness.standin.pace_seconds = args.pace_ms / 1000
            lags: dict[str, list[float]] = {route: [] for route in ROUTES}
            cpu: dict[str, float] = dict.fromkeys(ROUTES, 0.0)
            count: dict[str, int] = dict.fromkeys(ROUTES, 0)
            with cpu_quota(process.pid, args.cpu_quota_us) as quota:
                for round_index in range(args.rounds):
                    for route in ROUTES:
                        route_lags, seconds, relayed = relay(harness, route, args.deltas, f"round {round_index}")
                        lags[route] += route_lags
                        cpu[route] += seconds
                        count[route] += relayed
        finally:
            harness.close()

    print(f"{args.rounds} rounds x {args.deltas} deltas per route at {args.pace_ms:g} ms pace; {quota}; "
          f"python {sys.version.split()[0]}")
    print(f"{'route':<12} {'lag p50 ms':>11} {'lag p99 ms':>11} {'lag mean ms':>12} {'CPU ms/1k deltas':>17}")
    rows: dict[str, tuple[float, float, float, float]] = {}
    for route in ROUTES:
        values = lags[route]
        per_thousand = cpu[route] * 1000 * 1000 / max(1, count[route])
        rows[route] = (percentile(values, 0.5), percentile(values, 0.99), statistics.fmean(values), per_thousand)
        p50, p99, mean, cpu_ms = rows[route]
        print(f"{route:<12} {p50:>11.3f} {p99:>11.3f} {mean:>12.3f} {cpu_ms:>17.1f}")
    for native in ("native-sse", "native-text"):
        ratio_lag = rows["openai"][2] / rows[native][2]
        ratio_cpu = rows["openai"][3] / rows[native][3]
        print(f"openai / {native}: mean lag x{ratio_lag:.3f}, CPU per delta x{ratio_cpu:.3f} (target <= x1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
