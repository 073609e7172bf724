"""``.ci/venv`` (sourced by ``bash local/run`` and ``bash tests/run``) says what it does on a first run, and is
silent once ``.venv`` is up to date. Runs the real script against a tiny project (a real venv and pip install)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT = """\
[build-system]
requires = ["hatchling>=1.25,<2"]
build-backend = "hatchling.build"

[project]
name = "venv-setup-probe"
version = "0"

[project.optional-dependencies]
dev = []

[tool.hatch.build.targets.wheel]
bypass-selection = true
"""


def _source(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": shutil.which("python3") or "python3"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail; . .ci/venv dev; echo sourced"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_first_run_says_it_is_setting_up_and_when_it_is_done(tmp_path: Path) -> None:
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "venv", tmp_path / ".ci" / "venv")
    (tmp_path / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    first = _source(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "sourced\n"  # progress goes to stderr, the caller's stdout stays its own
    lines = [line for line in first.stderr.splitlines() if not line.startswith("WARNING: Location")]
    assert lines[0].startswith("setting up .venv with Python 3.") and "(first run, about a minute)" in lines[0]
    assert re.fullmatch(r"\.venv ready after \d+ s", lines[-1]) and len(lines) == 2, lines
    second = _source(tmp_path)
    assert second.returncode == 0 and second.stdout == "sourced\n" and second.stderr == ""
