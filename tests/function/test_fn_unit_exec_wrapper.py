"""The exec wrapper: which interpreter it execs, and the PYTHONPATH it hands over (real sh, a probe interpreter)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

WRAPPER = Path(__file__).resolve().parents[2] / "function" / "exec-wrapper"
PROBE = '#!/bin/sh\nprintf "%s\\n" "$PYTHONPATH" "$*"\n'


def run_wrapper(tmp_path: Path, env: dict[str, str]) -> tuple[str, str]:
    probe = tmp_path / "python3.13"  # named like the runtime's interpreter, so the wrapper execs it
    probe.write_text(PROBE)
    probe.chmod(0o755)
    command = ["sh", str(WRAPPER), str(probe), "/var/runtime/bootstrap.py"]
    out = subprocess.run(command, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=10,
                         check=True).stdout.splitlines()
    return out[0], out[1]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/rt"}, "/var/task:/var/rt"),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, "/var/task:/var/runtime"),
        ({"LAMBDA_TASK_ROOT": "/var/task", "PYTHONPATH": "/opt/python:/opt/x", "LAMBDA_RUNTIME_DIR": "/var/rt"},
         "/var/task:/opt/python:/opt/x:/var/rt"),
    ],
    ids=["runtime-dir", "runtime-dir-default", "existing-pythonpath-kept"],
)
def test_pythonpath_is_task_root_then_existing_then_runtime_dir(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    pythonpath, args = run_wrapper(tmp_path, env)
    assert pythonpath == expected
    assert args == "-m bedrock_stream.runtime"  # the runtime's own bootstrap arguments are dropped


def test_without_task_root_the_wrapper_directory_is_used(tmp_path: Path) -> None:
    pythonpath, _ = run_wrapper(tmp_path, {})
    assert pythonpath.split(os.pathsep) == [str(WRAPPER.parent), "/var/runtime"]
