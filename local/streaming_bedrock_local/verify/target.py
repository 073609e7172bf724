"""Where the stack is: its Pulumi outputs (``pulumi stack output --json --show-secrets``) and/or explicit flags.

Pure parsing plus one subprocess call. A flag wins over an output; the URL of an ``execute-api`` endpoint also
gives the API id, region, stage and path.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .results import VerifyUsageError

_EXECUTE_API = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
PULUMI_TIMEOUT_S = 120


@dataclass(frozen=True)
class Target:
    url: str | None = None
    api_id: str | None = None
    region: str | None = None
    stage_name: str | None = None
    path: str | None = None
    function_name: str | None = None
    log_group_name: str | None = None
    log_retention_days: int | None = None
    api_key: str | None = None

    def merged(self, other: Target) -> Target:
        """``other``'s values where it has them, ours elsewhere."""
        return replace(self, **{k: v for k, v in vars(other).items() if v is not None})


def from_url(url: str) -> Target:
    """API id, region, stage and path from ``https://{api}.execute-api.{region}.amazonaws.com/{stage}/{path}``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VerifyUsageError(f"--url {url!r} is not an http(s) URL")
    segments = [segment for segment in parts.path.split("/") if segment]
    stage, path = (segments[0], "/".join(segments[1:]) or None) if segments else (None, None)
    match = _EXECUTE_API.match(parts.hostname)
    if match is None:
        return Target(url=url, stage_name=stage, path=path)
    return Target(url=url, api_id=match["api"], region=match["region"], stage_name=stage, path=path)


def from_outputs(outputs: Mapping[str, Any]) -> Target:
    """The component's outputs (as ``pulumi stack output --json`` prints them) as a target."""
    url = outputs.get("url")
    base = from_url(str(url)) if url else Target()
    retention = outputs.get("log_retention_days")
    return base.merged(
        Target(
            api_id=_text(outputs.get("api_id")),
            stage_name=_text(outputs.get("stage_name")),
            function_name=_text(outputs.get("function_name")),
            log_group_name=_text(outputs.get("log_group_name")),
            log_retention_days=int(retention)
            if isinstance(retention, (int, float, str)) and str(retention).isdigit()
            else None,
            api_key=_text(outputs.get("api_key")) or _first_client_key(outputs.get("client_api_keys")),
        )
    )


def _first_client_key(keys: Any) -> str | None:
    # With named clients the stack has no single api_key; any client's key will do for the probe.
    if isinstance(keys, Mapping) and keys:
        return _text(keys[sorted(keys)[0]])
    return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def stack_outputs(stack: str, project_dir: Path, pulumi: str = "pulumi") -> dict[str, Any]:
    """Run ``pulumi stack output --json --show-secrets --stack NAME`` in ``project_dir``."""
    executable = shutil.which(pulumi)
    if executable is None:
        raise VerifyUsageError(
            "--stack needs the Pulumi CLI, which is not on PATH: install it (https://www.pulumi.com/docs/install/) "
            "or pass --url, --api-id, --function-name and --region instead"
        )
    command = [executable, "stack", "output", "--json", "--show-secrets", "--stack", stack]
    try:
        done = subprocess.run(
            command, cwd=project_dir, capture_output=True, text=True, timeout=PULUMI_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VerifyUsageError(f"`{' '.join(command[1:])}` did not run: {error}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise VerifyUsageError(
            f"`pulumi {' '.join(command[1:])}` failed: {detail[-1] if detail else f'exit {done.returncode}'} "
            "(is the stack deployed, and are you logged in to its backend?)"
        )
    try:
        outputs = json.loads(done.stdout)
    except ValueError:
        raise VerifyUsageError("`pulumi stack output --json` printed something that is not JSON") from None
    if not isinstance(outputs, dict) or not outputs:
        raise VerifyUsageError(f"stack {stack} has no outputs: run `pulumi up` first")
    return outputs
