"""``verify --stack NAME`` reads the stack's outputs through the Pulumi CLI. The CLI cannot be installed here (see
the reference file), so a small executable named ``pulumi`` stands in at that boundary: it answers exactly the one
command verify runs, with the outputs of a stack replayed into moto, and fails like the CLI on anything else."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from streaming_bedrock_local.verify.target import from_outputs

from .conftest import MotoStack, run_verify

MakeStack = Callable[..., MotoStack]
EXPECTED_ARGS = "stack output --json --show-secrets --stack dev"


def fake_pulumi(directory: Path, outputs: dict[str, object]) -> None:
    (directory / "outputs.json").write_text(json.dumps(outputs), encoding="utf-8")
    script = directory / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "{EXPECTED_ARGS}" ]; then cat "{directory}/outputs.json"; exit 0; fi\n'
        "echo \"error: no stack named '$6' found\" >&2\n"
        "exit 255\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_stack_outputs_drive_every_check(
    make_stack: MakeStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = make_stack()
    fake_pulumi(tmp_path, stack.outputs)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    result = run_verify(["verify", "--stack", "dev", "--no-invoke", "--json"], capsys)
    assert result.code == 0, result.stdout + result.stderr
    assert result.report is not None
    assert result.report["target"]["api"] == stack.outputs["api_id"]
    assert result.check("logs.retention")["ok"]
    # The expected retention came from the stack: break it and the check says so.
    stack.clients["logs"].put_retention_policy(logGroupName=stack.outputs["log_group_name"], retentionInDays=7)
    again = run_verify(["verify", "--stack", "dev", "--no-invoke", "--json"], capsys)
    assert again.code == 1 and set(again.failed()) == {"logs.retention"}


def test_a_stack_the_cli_does_not_know(
    make_stack: MakeStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pulumi(tmp_path, {})
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    result = run_verify(["verify", "--stack", "prod", "--no-invoke"], capsys)
    assert result.code == 2 and result.stdout == ""
    assert "no stack named 'prod' found" in result.stderr and "logged in" in result.stderr


def test_outputs_name_the_api_and_with_named_clients_give_a_client_key() -> None:
    target = from_outputs(
        {
            "url": "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/chat",
            "api_key": None,
            "client_api_keys": {"web": "key-web", "app": "key-app"},
            "log_retention_days": 14,
        }
    )
    assert (target.api_id, target.region, target.stage_name, target.path) == ("abc123", "eu-west-1", "v1", "chat")
    assert target.api_key == "key-app" and target.log_retention_days == 14
