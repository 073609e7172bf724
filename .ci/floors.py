"""Check that every direct dependency (pyproject.toml: dependencies and all extras) is installed at exactly the
floor its range allows, so a green lowest-versions run proves the floors. Run with the interpreter to check."""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version


def floors(pyproject: Path) -> dict[str, Version]:
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    found: dict[str, Version] = {}
    for line in lines:
        requirement = Requirement(line)
        lows = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
        if not lows:
            raise SystemExit(f"{line}: no floor (>=, == or ~=); every direct dependency needs one")
        found[requirement.name] = max(lows)
    return found


def main() -> int:
    problems = []
    for name, floor in sorted(floors(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")).items()):
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            problems.append(f"{name}: not installed")
            continue
        if installed != floor:
            problems.append(f"{name}: floor {floor}, installed {installed}")
    for problem in problems:
        print(f"floor check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
