"""The function at the CPU a deployed function gets: ``function_bench.py --memory-mb N [N ...]``.

Each memory size N runs the packaged function (through its exec wrapper, as Lambda does) under a CFS quota of
``N / 1769`` of a CPU (:mod:`cgroup_cpu`), in two models of the init phase:

- **A**: unthrottled until the runtime's first ``GET /next``, then throttled. Third-party measurements say
  Lambda runs init at full speed below 3 GB ("Lambda Cold Starts and Bootstrap Code", bitesizedserverless.com,
  2023); AWS does not document it. The fake Runtime API moves the process into the quota group when it sees
  that first ``/next``, before it hands out the event.
- **B**: throttled from process start (the forked child joins the group before it execs the wrapper).

As on Lambda, the cold start is triggered by a request: the first invocation is queued before the process
starts, and **cold first byte** is process start → first payload byte of that invocation. Warm figures (event
→ first payload byte minus the stand-in's own time, relay lag at 100 deltas 10 ms apart, CPU per 1,000
deltas, peak RSS) are taken on a throttled warm process; the invoke phase is throttled in both models.
The bench process itself (both fakes) runs in its own unthrottled group with a high ``cpu.shares``, so
neither the fakes nor the unthrottled phase starve on a machine shared with other work.
Every figure is the median of ``runs`` repetitions.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from streaming_bedrock_local.runtime_api import RuntimeAPIServer
from streaming_bedrock_local.runtime_invocation import Invocation

from bench.cgroup_cpu import CpuGroup, current_group, quota_us, unavailable_reason
from tests.function.fn_integration_harness import (
    REGION,
    FunctionProcess,
    Harness,
    lambda_environment,
    prompt_event,
    split_response,
)
from tests.function.fn_integration_harness import make_harness as _make_harness

LAG_DELTAS = 100
LAG_PACE_SECONDS = 0.010


class FirstPollRuntimeAPI(RuntimeAPIServer):
    """The local Runtime API, calling ``on_first_poll(worker)`` when a worker first asks for ``/next``.

    The call happens on the request's thread before any event is handed out, so the worker cannot run a
    single instruction of its first invocation before the callback returns.
    """

    on_first_poll: Callable[[str], None] | None = None

    def _next(self, worker: str, poller_alive: Callable[[], bool]) -> Invocation | None:
        if self.polls(worker) == 0 and self.on_first_poll is not None:
            self.on_first_poll(worker)
        return super()._next(worker, poller_alive)


def make_harness(task_root: Path, log_dir: Path) -> Harness:
    """The usual harness, with :class:`FirstPollRuntimeAPI` as its Runtime API."""
    harness = _make_harness(task_root, log_dir)
    harness.api.stop()
    harness.api = FirstPollRuntimeAPI(function_arn=harness.api.function_arn).start()
    return harness


@dataclass
class SizeFigures:
    memory_mb: int
    quota_us: int
    cold_a_ms: list[float] = field(default_factory=list)
    cold_b_ms: list[float] = field(default_factory=list)
    init_a_ms: list[float] = field(default_factory=list)
    init_b_ms: list[float] = field(default_factory=list)
    warm_ours_ms: list[float] = field(default_factory=list)
    lag_p50_ms: list[float] = field(default_factory=list)
    lag_p99_ms: list[float] = field(default_factory=list)
    cpu_per_1000_ms: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class QuotaBench:
    """Runs the figures for several memory sizes; ``close`` puts every process back where it was."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.home = current_group()
        self.host = CpuGroup(f"fnbench-host-{os.getpid()}", None).create()
        self.host.add(os.getpid())  # the fakes, and every child started unthrottled (model A)
        self.groups: list[CpuGroup] = [self.host]
        self._serial = 0

    def close(self) -> None:
        for group in reversed(self.groups):
            group.remove(self.home)

    def _group(self, memory_mb: int) -> CpuGroup:
        """The group for ``memory_mb``; 0 means no quota (the machine's full CPU, still with high shares)."""
        quota = quota_us(memory_mb) if memory_mb else None
        group = CpuGroup(f"fnbench-{memory_mb}mb-{os.getpid()}", quota).create()
        self.groups.append(group)
        return group

    def _worker(self, label: str) -> tuple[str, str]:
        self._serial += 1
        worker = f"{label}-{self._serial}"
        return worker, self.harness.api.open_endpoint(worker)

    def _start(self, address: str, throttled_from_start: CpuGroup | None) -> FunctionProcess:
        h = self.harness
        env = lambda_environment(h.task_root, address, h.standin.endpoint_url, h.env_overrides)
        process = FunctionProcess(h.task_root, env, h.log_dir)
        if throttled_from_start is None:
            return process.start()
        fd = throttled_from_start.procs_fd()

        def join_group() -> None:  # runs in the forked child, before it execs the wrapper
            os.write(fd, b"0")

        try:
            return process.start(preexec=join_group)
        finally:
            os.close(fd)

    def cold(self, group: CpuGroup, model: str) -> tuple[float, float]:
        """One cold start: (process start → first /next, process start → first payload byte) in ms."""
        api = self.harness.api
        assert isinstance(api, FirstPollRuntimeAPI)
        worker, address = self._worker(f"cold-{model}")
        holder: dict[str, FunctionProcess] = {}

        def throttle(polled: str) -> None:
            if polled == worker and "p" in holder:
                group.add(holder["p"].pid)

        api.on_first_poll = throttle if model == "A" else None
        invocation = api.invoke(prompt_event(f"cold {model} {self._serial}"))  # queued before the process starts
        process = self._start(address, group if model == "B" else None)
        holder["p"] = process
        try:
            result = invocation.wait(120)
            first_poll = api.wait_for_poll(worker, timeout=5)
            chunks = split_response(result).payload_chunks
            if not chunks:
                raise RuntimeError(f"cold invocation failed: {result.body[:300]!r}\n{process.output()[-2000:]}")
            return (first_poll - process.started_at) * 1000, (chunks[0].received_at - process.started_at) * 1000
        finally:
            api.on_first_poll = None
            process.stop()
            api.close_endpoint(worker)

    def warm(self, group: CpuGroup, figures: SizeFigures, runs: int, warm_count: int) -> None:
        """Warm first byte, relay lag and CPU per 1,000 deltas on one throttled process (model A start)."""
        h = self.harness
        api = h.api
        assert isinstance(api, FirstPollRuntimeAPI)
        worker, address = self._worker("warm")
        holder: dict[str, FunctionProcess] = {}
        api.on_first_poll = lambda polled: group.add(holder["p"].pid) if polled == worker else None
        process = self._start(address, None)
        holder["p"] = process
        try:
            api.wait_for_poll(worker, timeout=60)
            h.standin.pace_seconds = 0
            h.standin.answer_tokens = 5
            for index in range(10):  # warm-up: connections, code paths, allocator
                split_response(api.invoke(prompt_event(f"warm-up {index}")).wait(60))
            for index in range(warm_count):
                before = len(h.standin.records())
                result = api.invoke(prompt_event(f"warm {index}")).wait(60)
                record = h.standin.wait_for_done(before + 1, 60)[before]
                chunks = split_response(result).payload_chunks
                assert result.handed_out_at is not None and record.first_token_at is not None and chunks
                total = (chunks[0].received_at - result.handed_out_at) * 1000
                figures.warm_ours_ms.append(total - (record.first_token_at - record.received_at) * 1000)
            h.standin.answer_tokens = LAG_DELTAS
            h.standin.pace_seconds = LAG_PACE_SECONDS
            cpu_total_ms, deltas_total = 0.0, 0
            for index in range(runs):
                before = len(h.standin.records())
                cpu_before = process.cpu_seconds()
                result = api.invoke(prompt_event(f"lag {index}")).wait(120)
                record = h.standin.wait_for_done(before + 1, 60)[before]
                time.sleep(0.05)  # the runtime finishes the invocation (log lines, next /next) after the last byte
                cpu_ms = (process.cpu_seconds() - cpu_before) * 1000
                chunks = split_response(result).payload_chunks
                if len(chunks) != len(record.token_times):
                    raise RuntimeError(f"{len(chunks)} chunks for {len(record.token_times)} deltas")
                lags = [(c.received_at - t) * 1000 for c, t in zip(chunks, record.token_times, strict=True)]
                figures.lag_p50_ms.append(_percentile(lags, 0.5))
                figures.lag_p99_ms.append(_percentile(lags, 0.99))
                cpu_total_ms += cpu_ms
                deltas_total += len(chunks)
            # One figure over all runs: /proc/<pid>/stat counts in 10 ms ticks, too coarse for one run's ~20 ms.
            figures.cpu_per_1000_ms.append(cpu_total_ms * 1000 / deltas_total)
            figures.peak_rss_mb = process.status_kb("VmHWM") / 1024
        finally:
            api.on_first_poll = None
            h.standin.pace_seconds = 0
            h.standin.answer_tokens = 5
            process.stop()
            api.close_endpoint(worker)

    def measure(self, memory_mb: int, runs: int, warm_count: int) -> SizeFigures:
        group = self._group(memory_mb)
        figures = SizeFigures(memory_mb, group.quota or 100_000)
        self.harness.standin.answer_tokens = 5
        for _ in range(runs):
            for model, inits, colds in (("A", figures.init_a_ms, figures.cold_a_ms),
                                        ("B", figures.init_b_ms, figures.cold_b_ms)):
                init, cold = self.cold(group, model)
                inits.append(init)
                colds.append(cold)
        self.warm(group, figures, runs, warm_count)
        return figures


TARGETS_256 = {"cold_a": 250.0, "cold_b": 800.0, "warm": 3.0, "lag_p99": 2.0, "rss": 45.0}


def report(sizes: Sequence[SizeFigures], runs: int, load: str) -> str:
    med = statistics.median
    lines = [
        f"function at Lambda CPU shares (cgroup v1 CFS quota, period 100 ms; 1,769 MB = 1 vCPU); median of {runs} "
        f"runs; region model {REGION}; load before: {load}",
        "| memory | vCPU | cold first byte A | cold first byte B | init→/next A / B | warm first byte "
        "(ours) | lag p50 / p99 | CPU / 1,000 deltas | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in sizes:
        size = f"{s.memory_mb} MB" if s.memory_mb else "full CPU"
        lines.append(
            f"| {size} | {s.quota_us / 100_000:.3f} | {med(s.cold_a_ms):.0f} ms | {med(s.cold_b_ms):.0f} ms "
            f"| {med(s.init_a_ms):.0f} / {med(s.init_b_ms):.0f} ms | {med(s.warm_ours_ms):.2f} ms "
            f"| {med(s.lag_p50_ms):.2f} / {med(s.lag_p99_ms):.2f} ms | {med(s.cpu_per_1000_ms):.0f} ms "
            f"| {s.peak_rss_mb:.1f} MB |"
        )
    for s in sizes:
        if s.memory_mb == 256:
            t = TARGETS_256
            checks = [
                ("cold first byte A", med(s.cold_a_ms), t["cold_a"], "ms"),
                ("cold first byte B", med(s.cold_b_ms), t["cold_b"], "ms"),
                ("warm first byte (ours)", med(s.warm_ours_ms), t["warm"], "ms"),
                ("lag p99", med(s.lag_p99_ms), t["lag_p99"], "ms"),
                ("peak RSS", s.peak_rss_mb, t["rss"], "MB"),
            ]
            lines.append("256 MB against the issue's targets: " + "; ".join(
                f"{name} {value:.1f} {unit} (≤ {target:g}: {'met' if value <= target else 'MISSED'})"
                for name, value, target, unit in checks))
    lines.append("cold runs (ms), A: " + "; ".join(
        f"{s.memory_mb}: {', '.join(f'{v:.0f}' for v in s.cold_a_ms)}" for s in sizes))
    lines.append("cold runs (ms), B: " + "; ".join(
        f"{s.memory_mb}: {', '.join(f'{v:.0f}' for v in s.cold_b_ms)}" for s in sizes))
    return "\n".join(lines)


def run_quota_bench(task_root: Path, log_dir: Path, memory_sizes: Sequence[int], runs: int, warm_count: int,
                    overrides: Mapping[str, str] | None = None) -> int:
    reason = unavailable_reason()
    if reason is not None:
        print(f"SKIPPED: --memory-mb needs a writable cgroup v1 cpu controller: {reason}")
        return 0
    load = Path("/proc/loadavg").read_text().split()[:3]
    harness = make_harness(task_root, log_dir)
    harness.env_overrides.update(overrides or {})
    bench = QuotaBench(harness)
    try:
        sizes = [bench.measure(mb, runs, warm_count) for mb in memory_sizes]
    finally:
        bench.close()
        harness.close()
    client = (overrides or {}).get("BEDROCK_CLIENT", "lean")
    print(f"{client} Bedrock client, python {sys.version.split()[0]}")
    print(report(sizes, runs, " ".join(load)))
    print(f"load after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0
