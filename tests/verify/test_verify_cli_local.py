"""Both commands as the user runs them, each its own process: ``local`` serves, ``verify --url`` probes it. With
``local --buffer-responses`` (a BUFFERED integration's behaviour) verify says "buffered" and exits 1."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.local.conftest import MODEL

SCRIPT = str(Path(sys.executable).with_name("streaming-bedrock-api"))


@contextmanager
def local_stack(project: Path, *extra: str) -> Iterator[str]:
    (project / "Pulumi.yaml").write_text(
        f"name: streaming-bedrock-api\nruntime: python\nconfig:\n  modelId:\n    type: string\n    default: {MODEL}\n",
        encoding="utf-8",
    )
    (project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: ap-northeast-1\n", encoding="utf-8")
    command = [SCRIPT, "local", "--port", "0", "--api-key", "cli-key", "--project-dir", str(project), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:
            if match := re.search(r" at (http://\S+)$", line):
                url = match.group(1)
            if "warm workers ready" in line:
                break
        assert url, "the local stack printed no URL"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def verify(url: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [SCRIPT, "verify", "--url", url, "--api-key", "cli-key", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(("extra", "code", "verdict"), [((), 0, "streamed"), (("--buffer-responses",), 1, "buffered")])
def test_verify_tells_a_streaming_local_stack_from_a_buffering_one(
    tmp_path: Path, extra: tuple[str, ...], code: int, verdict: str
) -> None:
    with local_stack(tmp_path, *extra) as url:
        exit_code, report = verify(url)
    assert exit_code == code, report
    probe = report["probe"]
    assert isinstance(probe, dict) and probe["verdict"] == verdict and probe["status"] == 200
