"""CPU shares of a Lambda memory size, modelled with the cgroup v1 ``cpu`` controller (CFS quota).

Lambda gives CPU in proportion to memory: 1,769 MB is one vCPU (Lambda developer guide, "Configuring
memory"), so a function of N MB gets ``N / 1769`` of a CPU. A CFS quota of ``period * N / 1769`` µs per
100 ms period models that share. Groups also get a high ``cpu.shares`` so that, on a machine shared with
other work, they get their quota rather than a fair share of what is left.

Only root can write the controller; :func:`unavailable_reason` says why a mode has to be skipped.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
MB_PER_VCPU = 1769
HIGH_SHARES = 10240  # the root group's default is 1024


def quota_us(memory_mb: int, period_us: int = PERIOD_US) -> int:
    """The CFS quota (µs per period) of a Lambda function with ``memory_mb`` of memory."""
    if memory_mb < 128:
        raise ValueError("Lambda memory starts at 128 MB")
    return max(1000, round(period_us * memory_mb / MB_PER_VCPU))


def unavailable_reason(root: Path = CPU_ROOT) -> str | None:
    """None if a cpu cgroup can be made under ``root``; otherwise why not."""
    if not (root / "cgroup.procs").exists() or not (root / "cpu.cfs_quota_us").exists():
        return f"no cgroup v1 cpu controller at {root}"
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (needs root)"
    return None


def current_group(pid: int | str = "self") -> Path:
    """The cpu cgroup directory ``pid`` is in now (``/proc/<pid>/cgroup``, v1 line for ``cpu``)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return CPU_ROOT / path.lstrip("/")
    return CPU_ROOT


class CpuGroup:
    """One cpu cgroup: made on ``create``, emptied into ``fallback`` and removed on ``remove``."""

    def __init__(self, name: str, quota: int | None, shares: int = HIGH_SHARES) -> None:
        self.path = CPU_ROOT / name
        self.quota = quota
        self.shares = shares

    def create(self) -> CpuGroup:
        self.path.mkdir(exist_ok=True)
        (self.path / "cpu.shares").write_text(str(self.shares))
        (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.path / "cpu.cfs_quota_us").write_text(str(self.quota if self.quota is not None else -1))
        return self

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) into the group; its children start here too."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def procs_fd(self) -> int:
        """An fd on ``cgroup.procs`` to write ``b"0"`` to from a forked child (``0`` = the writer itself)."""
        return os.open(self.path / "cgroup.procs", os.O_WRONLY)

    def throttled_us(self) -> int:
        """Total time the group was held back by its quota (``cpu.stat`` throttled_time, ns → µs)."""
        for line in (self.path / "cpu.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "throttled_time":
                return int(value) // 1000
        return 0

    def remove(self, fallback: Path = CPU_ROOT) -> None:
        """Move whatever is left back to ``fallback`` and delete the group (best effort)."""
        if not self.path.exists():
            return
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (fallback / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.path.rmdir()
