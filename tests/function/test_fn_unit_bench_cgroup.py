"""The bench's CPU-share model: quota per memory size, and a clear skip where cgroups cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cgroup_cpu import PERIOD_US, quota_us, unavailable_reason


@pytest.mark.parametrize(("memory_mb", "expected"), [(128, 7236), (256, 14471), (512, 28943), (1024, 57886),
                                                     (1769, 100_000), (3538, 200_000)])
def test_quota_is_the_memory_s_share_of_one_vcpu_per_period(memory_mb: int, expected: int) -> None:
    assert quota_us(memory_mb) == expected
    assert quota_us(memory_mb) / PERIOD_US == pytest.approx(memory_mb / 1769, abs=1e-5)


def test_below_lambda_s_minimum_is_refused() -> None:
    with pytest.raises(ValueError):
        quota_us(64)


def test_a_missing_controller_is_reported_not_used(tmp_path: Path) -> None:
    reason = unavailable_reason(tmp_path / "no-cgroup-here")
    assert reason is not None and "no cgroup v1 cpu controller" in reason
    (tmp_path / "cgroup.procs").write_text("")
    (tmp_path / "cpu.cfs_quota_us").write_text("-1")
    assert unavailable_reason(tmp_path) is None  # writable (the tests run as the file's owner)
