"""Benchmark the function as Lambda runs it, against the local Runtime API and Bedrock stand-in.

    python bench/function_bench.py [--cold-runs 10] [--warm 300] [--deltas 5000] [--pace-ms 1] [--importtime]
    python bench/function_bench.py --memory-mb 128 256 512 1024 [--runs 5] [--quota-warm 50]

Without ``--memory-mb`` the function gets this machine's whole CPU. With it, each size runs under the CPU
share Lambda gives that memory, in two models of the init phase (see ``bench/quota_bench.py``).

Builds the deployment zip with the component's packaging code, unpacks it, and starts
``<task_root>/exec-wrapper <python>`` with a Lambda-like environment. All times are ``time.monotonic()`` in
this process, which hosts both fakes, so stand-in and Runtime API timestamps are directly comparable.

Figures:
- cold init: process start (``Popen``) → the worker's first ``GET /invocation/next``;
- cold first byte: the first event handed out → first payload byte (pays for whatever init left pending);
- warm first byte: event handed out → first payload byte at the Runtime API, in total and minus the
  stand-in's own time (request received → first token written), which is Bedrock's share, not ours;
- relay lag: stand-in wrote delta *i* → the Runtime API received chunk *i*, over every delta;
- CPU per 1,000 deltas: utime+stime from ``/proc/<pid>/stat`` across the relay-lag run;
- peak RSS: ``VmHWM`` of the warm worker at the end.
Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT, ROOT / "components", ROOT / "local", ROOT / "function"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from streaming_bedrock_local.runtime_invocation import InvocationResult  # noqa: E402

from bench.quota_bench import run_quota_bench  # noqa: E402
from tests.function.fn_integration_harness import (  # noqa: E402
    FunctionProcess,
    Harness,
    build_task_root,
    lambda_environment,
    make_harness,
    prompt_event,
    split_response,
)

TARGETS = {
    "cold": "<= 150 ms",
    "warm_first_byte": "<= 3 ms",
    "lag_p99": "<= 1 ms",
    "cpu": "<= 150 ms",
    "rss": "<= 50 MB",
}


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def first_payload_at(result: InvocationResult) -> float:
    chunks = split_response(result).payload_chunks
    if not chunks:
        raise RuntimeError(f"no payload in the response: {result.body[:200]!r}")
    return chunks[0].received_at


@contextlib.contextmanager
def fresh_worker(
    harness: Harness, worker: str, overrides: Mapping[str, str] | None = None, task_root: Path | None = None
) -> Iterator[FunctionProcess]:
    """A new function process polling its own Runtime API endpoint; stopped (and the endpoint closed) after."""
    root = task_root or harness.task_root
    address = harness.api.open_endpoint(worker)
    merged = {**harness.env_overrides, **(overrides or {})}
    env = lambda_environment(root, address, harness.standin.endpoint_url, merged)
    process = FunctionProcess(root, env, harness.log_dir).start()
    try:
        yield process
    finally:
        process.stop()
        harness.api.close_endpoint(worker)


def measure_cold(harness: Harness, runs: int) -> tuple[list[float], list[float]]:
    """Start a fresh worker per run on its own endpoint; returns (init ms, first-invocation first byte ms)."""
    inits: list[float] = []
    first_bytes: list[float] = []
    harness.standin.answer_tokens = 5
    for run in range(runs):
        worker = f"cold-{run}"
        with fresh_worker(harness, worker) as process:
            first_poll = harness.api.wait_for_poll(worker, timeout=30)
            inits.append((first_poll - process.started_at) * 1000)
            result = harness.api.invoke(prompt_event(f"cold {run}")).wait(30)
            assert result.handed_out_at is not None
            first_bytes.append((first_payload_at(result) - result.handed_out_at) * 1000)
    return inits, first_bytes


NOOP_HANDLER = "def handle(event, context, stream):\n    stream.start(200, {})\n    stream.write(b'ok')\n"


def measure_baseline(harness: Harness, runs: int) -> list[float]:
    """Cold init of the same wrapper and runtime loop with a no-op handler: the floor the handler adds to."""
    root = harness.task_root.parent / "task-noop"
    if not root.exists():
        shutil.copytree(harness.task_root, root, symlinks=True)
        (root / "noop_handler.py").write_text(NOOP_HANDLER)
    inits: list[float] = []
    for run in range(runs):
        worker = f"noop-{run}"
        with fresh_worker(harness, worker, {"_HANDLER": "noop_handler.handle"}, root) as process:
            inits.append((harness.api.wait_for_poll(worker, timeout=30) - process.started_at) * 1000)
    return inits


def measure_warm(harness: Harness, count: int) -> tuple[list[float], list[float]]:
    """Event handed out → first payload byte: (total ms, total minus the stand-in's own time ms)."""
    harness.standin.answer_tokens = 5
    harness.standin.pace_seconds = 0
    for index in range(30):  # warm-up: connection pools, code paths, allocator
        harness.call(prompt_event(f"warm-up {index}"))
    totals: list[float] = []
    ours: list[float] = []
    for index in range(count):
        before = len(harness.standin.records())
        result = harness.invoke(prompt_event(f"warm {index}")).wait(30)
        record = harness.standin.wait_for_done(before + 1)[before]
        assert result.handed_out_at is not None and record.first_token_at is not None
        total = (first_payload_at(result) - result.handed_out_at) * 1000
        standin_share = (record.first_token_at - record.received_at) * 1000
        totals.append(total)
        ours.append(total - standin_share)
    return totals, ours


def measure_relay(harness: Harness, deltas: int, pace_s: float) -> tuple[list[float], float, int]:
    """Per-delta lag (ms) over ``deltas`` paced deltas, CPU ms per 1,000 deltas, deltas relayed."""
    assert harness.process is not None
    per_invocation = 1000
    harness.standin.answer_tokens = per_invocation
    harness.standin.pace_seconds = pace_s
    lags: list[float] = []
    relayed = 0
    cpu_before = harness.process.cpu_seconds()
    for index in range((deltas + per_invocation - 1) // per_invocation):
        before = len(harness.standin.records())
        result = harness.invoke(prompt_event(f"relay {index}")).wait(120)
        record = harness.standin.wait_for_done(before + 1)[before]
        chunks = split_response(result).payload_chunks
        if len(chunks) != len(record.token_times):
            raise RuntimeError(f"{len(chunks)} chunks for {len(record.token_times)} deltas: deltas were merged")
        lags += [(c.received_at - t) * 1000 for c, t in zip(chunks, record.token_times, strict=True)]
        relayed += len(chunks)
    cpu_ms = (harness.process.cpu_seconds() - cpu_before) * 1000
    return lags, cpu_ms * 1000 / max(1, relayed), relayed


def import_profile(harness: Harness, top: int) -> list[tuple[float, str]]:
    """Cumulative import times (ms) of top-level imports during one cold start (PYTHONPROFILEIMPORTTIME)."""
    worker = "importtime"
    with fresh_worker(harness, worker, {"PYTHONPROFILEIMPORTTIME": "1"}) as process:
        harness.api.wait_for_poll(worker, timeout=30)
        harness.api.invoke(prompt_event("importtime")).wait(30)  # the background client build finishes too
    rows: list[tuple[float, str]] = []
    pattern = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")
    for line in process.stderr_path.read_text().splitlines():
        match = pattern.match(line)
        if match and len(match.group(3)) <= 1:  # top-level imports only (indent 0 or 1)
            rows.append((int(match.group(2)) / 1000, match.group(4)))
    return sorted(rows, reverse=True)[:top]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--warm", type=int, default=300, help="warm invocations for first-byte timing")
    parser.add_argument("--deltas", type=int, default=5000, help="paced deltas for relay lag and CPU")
    parser.add_argument("--pace-ms", type=float, default=1.0, help="stand-in pace per delta in the relay run")
    parser.add_argument("--importtime", action="store_true", help="also show what dominates cold init")
    parser.add_argument("--memory-mb", type=int, nargs="+", metavar="N",
                        help="run at the CPU share of these Lambda memory sizes (cgroup v1 CFS quota), models A and B; "
                        "0 = no quota (full CPU, same high cpu.shares)")
    parser.add_argument("--runs", type=int, default=5, help="repetitions per figure with --memory-mb (medians)")
    parser.add_argument("--quota-warm", type=int, default=50, help="warm invocations per size with --memory-mb")
    parser.add_argument("--client", choices=["lean", "botocore"], default="lean",
                        help="the function's Bedrock client (BEDROCK_CLIENT); lean unless told otherwise")
    args = parser.parse_args(argv)
    overrides = {"BEDROCK_CLIENT": args.client}
    if args.memory_mb:
        with tempfile.TemporaryDirectory(prefix="function-bench-") as tmp:
            base = Path(tmp)
            return run_quota_bench(build_task_root(base / "lambda"), base / "logs", args.memory_mb, args.runs,
                                   args.quota_warm, overrides)

    with tempfile.TemporaryDirectory(prefix="function-bench-") as tmp:
        base = Path(tmp)
        task_root = build_task_root(base / "lambda")
        harness = make_harness(task_root, base / "logs")
        harness.env_overrides.update(overrides)
        try:
            cold, cold_first = measure_cold(harness, args.cold_runs)
            baseline = measure_baseline(harness, args.cold_runs)
            process = harness.start_function()
            warm_total, warm_ours = measure_warm(harness, args.warm)
            lags, cpu_per_1000, relayed = measure_relay(harness, args.deltas, args.pace_ms / 1000)
            hwm_mb = process.status_kb("VmHWM") / 1024
            rss_mb = process.rss_kb() / 1024
            imports = import_profile(harness, 12) if args.importtime else []
        finally:
            harness.close()

    rows = [
        ("cold init, start → first /next (p50)", f"{statistics.median(cold):.1f} ms", TARGETS["cold"]),
        ("cold init min / max", f"{min(cold):.1f} / {max(cold):.1f} ms", ""),
        ("  same, no-op handler (interpreter + runtime loop, p50)", f"{statistics.median(baseline):.1f} ms", ""),
        ("cold first invocation, event → first byte (p50)", f"{statistics.median(cold_first):.1f} ms", ""),
        ("warm event → first payload byte (p50)", f"{statistics.median(warm_total):.2f} ms", ""),
        (
            "warm event → first byte minus stand-in (p50)",
            f"{statistics.median(warm_ours):.2f} ms",
            TARGETS["warm_first_byte"],
        ),
        ("warm event → first byte minus stand-in (p99)", f"{percentile(warm_ours, 0.99):.2f} ms", ""),
        ("relay lag per delta (p50)", f"{percentile(lags, 0.5):.3f} ms", ""),
        ("relay lag per delta (p99)", f"{percentile(lags, 0.99):.3f} ms", TARGETS["lag_p99"]),
        ("relay lag per delta (max)", f"{max(lags):.3f} ms", ""),
        (
            f"CPU per 1,000 deltas ({relayed} deltas, {args.pace_ms:g} ms pace)",
            f"{cpu_per_1000:.0f} ms",
            TARGETS["cpu"],
        ),
        ("peak RSS (VmHWM) / RSS at end", f"{hwm_mb:.1f} / {rss_mb:.1f} MB", TARGETS["rss"]),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"function benchmark — python {sys.version.split()[0]}, {args.client} client, {args.cold_runs} cold "
          f"starts, {args.warm} warm invocations")  # fmt: skip
    print(f"{'metric'.ljust(width)}  {'measured':>18}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:>18}  {target}")
    if imports:
        print("\nslowest top-level imports in one cold start (cumulative, incl. the background client build):")
        for ms, name in imports:
            print(f"  {ms:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
