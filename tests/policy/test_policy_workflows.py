"""The workflow files keep their security and ordering properties (actionlint checks syntax; this checks intent).

Also checks the policy pack's project files, which only the Pulumi CLI reads otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_using(job: dict[str, Any], action: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, step) for i, step in enumerate(job["steps"]) if str(step.get("uses", "")).startswith(action + "@")]


def the_step(job: dict[str, Any], action: str) -> tuple[int, dict[str, Any]]:
    found = steps_using(job, action)
    assert len(found) == 1, f"expected one {action} step"
    return found[0]


def install_step_index(job: dict[str, Any]) -> int:
    found = [
        i
        for i, step in enumerate(job["steps"])
        if "requirements.txt" in str(step.get("run", "")) and "policy/requirements.txt" in str(step.get("run", ""))
    ]
    assert len(found) == 1, "one step installs the program's and the policy pack's dependencies"
    return found[0]


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml", "tests.yml"])
def test_workflows_default_to_read_only_and_store_no_aws_keys(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert load(name)["permissions"] == {"contents": "read"}
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert forbidden not in text


def test_tests_workflow_runs_the_ci_test_command_and_the_workflow_lint() -> None:
    workflow = load("tests.yml")
    assert "workflow_call" in workflow["on"]
    runs = [step.get("run") for step in workflow["jobs"]["tests"]["steps"]]
    assert runs.count("bash .ci/run") == 1
    ci = (WORKFLOWS.parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash tests/run" in ci and "bash policy/lint-workflows" in ci
    # The function deploys on python3.13: the suite runs there too.
    assert "3.13" in workflow["jobs"]["tests"]["strategy"]["matrix"]["python"]


def test_pull_request_previews_every_stack_after_the_tests_with_the_pack() -> None:
    workflow = load("pull-request.yml")
    assert "pull_request" in workflow["on"]
    assert workflow["jobs"]["tests"]["uses"] == "./.github/workflows/tests.yml"
    preview = workflow["jobs"]["preview"]
    assert preview["needs"] == "tests"
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert preview["strategy"]["matrix"]["stack"], "at least one stack"
    credentials_at, credentials = the_step(preview, "aws-actions/configure-aws-credentials")
    assert "role-to-assume" in credentials["with"]
    pulumi_at, pulumi = the_step(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert "matrix.stack" in pulumi["with"]["stack-name"]
    assert install_step_index(preview) < credentials_at < pulumi_at


def test_deploy_runs_up_one_stack_at_a_time_behind_an_environment() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    up = workflow["jobs"]["up"]
    assert up["needs"] == "tests"
    assert up["strategy"]["max-parallel"] == 1
    assert up["environment"] == "${{ matrix.stack }}"
    assert up["concurrency"]["cancel-in-progress"] is False
    assert up["permissions"] == {"contents": "read", "id-token": "write"}
    credentials_at, credentials = the_step(up, "aws-actions/configure-aws-credentials")
    assert "role-to-assume" in credentials["with"]
    pulumi_at, pulumi = the_step(up, "pulumi/actions")
    assert pulumi["with"]["command"] == "up" and pulumi["with"]["policyPacks"] == "policy"
    assert install_step_index(up) < credentials_at < pulumi_at


def test_policy_pack_project_files() -> None:
    project = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    requirements = (ROOT / "policy" / "requirements.txt").read_text(encoding="utf-8")
    assert "pulumi-policy" in requirements
    main = (ROOT / "policy" / "__main__.py").read_text(encoding="utf-8")
    assert "PolicyPack(" in main and "from streaming_policies import" in main
    assert (ROOT / "policy" / "lint-workflows").stat().st_mode & 0o111


def test_deploy_verifies_the_stack_after_up_and_fails_on_a_failed_check() -> None:
    up = load("deploy.yml")["jobs"]["up"]
    pulumi_at, pulumi = the_step(up, "pulumi/actions")
    found = [
        (i, step) for i, step in enumerate(up["steps"]) if "streaming-bedrock-api verify" in str(step.get("run", ""))
    ]
    assert len(found) == 1, "one step runs verify"
    verify_at, verify = found[0]
    assert verify_at == pulumi_at + 1  # right after `pulumi up`
    run = str(verify["run"])
    assert "--stack" in run and "--json" in run and "--no-invoke" not in run
    # The step's exit code is verify's: nothing may swallow a failed check.
    assert not verify.get("continue-on-error") and "||" not in run and ";" not in run
    assert verify["env"]["STACK"] == pulumi["with"]["stack-name"]  # the stack that was just deployed
    install = str(up["steps"][install_step_index(up)]["run"])
    assert '".[local]"' in install  # verify's boto3
