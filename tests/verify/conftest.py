"""Fixtures for the verify tests: a stack replayed into moto (with the two shims), the Bedrock control-plane
stand-in, and a runner for ``streaming-bedrock-api verify`` that returns its exit code, JSON report and stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from streaming_bedrock_local import cli

from tests.component.conftest import ACCOUNT, REGION

from . import moto_shims
from .bedrock_control import Catalog, bedrock_control, tokyo_catalog
from .replay import Replay, recorded_stack

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
READ_ONLY_PREFIXES = ("Get", "List", "Describe")


@dataclass
class Verified:
    code: int
    report: dict[str, Any] | None
    stdout: str
    stderr: str

    def failed(self) -> dict[str, dict[str, Any]]:
        assert self.report is not None, self.stderr
        return {check["name"]: check for check in self.report["checks"] if not check["ok"]}

    def check(self, name: str) -> dict[str, Any]:
        assert self.report is not None, self.stderr
        found: list[dict[str, Any]] = [check for check in self.report["checks"] if check["name"] == name]
        assert len(found) == 1, f"{name} not in {[c['name'] for c in self.report['checks']]}"
        return found[0]


@dataclass
class MotoStack:
    """A stack made in moto from the component's recorded inputs."""

    outputs: dict[str, Any]
    clients: dict[str, Any]
    catalog: Catalog
    operations: list[str] = field(default_factory=list)

    def args(self, *extra: str) -> list[str]:
        """verify's explicit flags for this stack (no probe: moto serves no HTTP endpoint)."""
        return [
            "verify",
            "--url", self.outputs["url"],
            "--function-name", self.outputs["function_name"],
            "--log-group", self.outputs["log_group_name"],
            "--log-retention-days", "30",
            "--no-invoke",
            "--json",
            *extra,
        ]  # fmt: skip

    def redeploy(self) -> None:
        """What `pulumi up` does after a change: a new deployment, and the stage moved onto it."""
        api, stage = self.outputs["api_id"], self.outputs["stage_name"]
        deployment = self.clients["apigateway"].create_deployment(restApiId=api, description="redeploy")
        self.clients["apigateway"].update_stage(
            restApiId=api,
            stageName=stage,
            patchOperations=[{"op": "replace", "path": "/deploymentId", "value": deployment["id"]}],
        )


def run_verify(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Verified:
    code = cli.main(argv)
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip().startswith("{") else None
    return Verified(code, report, captured.out, captured.err)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def make_stack(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., MotoStack]]:
    """``make_stack(component_args, catalog=None)``: the component's resources in moto, Bedrock's stand-in up."""
    moto_shims.install(monkeypatch)
    with ExitStack() as stack:
        # AWS managed policies (X-Ray write, API Gateway push to CloudWatch) exist on AWS; moto loads them on request.
        stack.enter_context(mock_aws(config={"iam": {"load_aws_managed_policies": True}}))

        def make(args: Mapping[str, Any] | None = None, catalog: Catalog | None = None) -> MotoStack:
            run, mocks = recorded_stack({"model_id": MODEL, **dict(args or {})})
            services = ("apigateway", "lambda", "iam", "logs", "cloudwatch")
            clients = {name: boto3.client(name, region_name=REGION) for name in services}
            outputs = Replay(clients).run(run, mocks)
            chosen = catalog or tokyo_catalog(ACCOUNT)
            monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", stack.enter_context(bedrock_control(chosen)))
            made = MotoStack(outputs=outputs, clients=clients, catalog=chosen)
            _record_operations(monkeypatch, made.operations)
            return made

        yield make


def _record_operations(monkeypatch: pytest.MonkeyPatch, operations: list[str]) -> None:
    """Every AWS operation verify's own sessions call, by name (to prove verify only reads)."""
    real_session = boto3.Session

    def session(*args: Any, **kwargs: Any) -> boto3.Session:
        made = real_session(*args, **kwargs)
        made.events.register("before-call", lambda model, **_: operations.append(model.name))
        return made

    monkeypatch.setattr(boto3, "Session", session)
