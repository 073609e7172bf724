"""Check results, the report they make, and its two renderings (a ✓/✗ table for people, JSON for machines)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class VerifyUsageError(Exception):
    """A problem with how verify was called or with the caller's credentials: one message, exit code 2."""


@dataclass(frozen=True)
class CheckResult:
    """One check: what was expected, what was found and, when it failed, how to fix it."""

    name: str
    ok: bool
    expected: str
    found: str
    fix: str = ""


def passed(name: str, expected: str, found: str) -> CheckResult:
    return CheckResult(name, True, expected, found)


def failed(name: str, expected: str, found: str, fix: str) -> CheckResult:
    return CheckResult(name, False, expected, found, fix)


@dataclass(frozen=True)
class Report:
    """Every check that ran, what was skipped and why, and the probe's figures (if it ran)."""

    target: Mapping[str, Any]
    checks: tuple[CheckResult, ...]
    skipped: tuple[str, ...] = ()
    probe: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def failures(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.ok]


def to_json(report: Report) -> str:
    document = {
        "ok": report.ok,
        "target": dict(report.target),
        "checks": [asdict(check) for check in report.checks],
        "skipped": list(report.skipped),
        "probe": dict(report.probe),
    }
    return json.dumps(document, indent=2, sort_keys=False)


def _lines(results: Iterable[CheckResult]) -> list[str]:
    checks = list(results)
    lines: list[str] = []
    width = max((len(check.name) for check in checks), default=0)
    for check in checks:
        mark = "✓" if check.ok else "✗"
        lines.append(f"{mark} {check.name.ljust(width)}  {check.found}")
        if not check.ok:
            lines.append(f"  {' ' * width}  expected: {check.expected}")
            lines.append(f"  {' ' * width}  fix: {check.fix}")
    return lines


def to_table(report: Report) -> str:
    """The readable report: one ✓/✗ line per check, expectation and fix under each failure, then a summary."""
    target = ", ".join(f"{key} {value}" for key, value in report.target.items() if value)
    lines = [f"verify {target}", *_lines(report.checks)]
    lines.extend(f"- skipped: {reason}" for reason in report.skipped)
    failures = len(report.failures())
    lines.append(
        f"all {len(report.checks)} checks passed"
        if failures == 0
        else f"{failures} of {len(report.checks)} checks failed"
    )
    return "\n".join(lines)
