"""bedrock-guardrail-required: IAM that lets a caller invoke a model must require a guardrail."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy import streaming_policies as sp
from tests.component.conftest import run_component
from tests.policy.conftest import UNKNOWN, run_resource_policy

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
ARN = "arn:aws:bedrock:ap-northeast-1:123456789012:guardrail/gr0abc123"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _invoke(condition: dict[str, Any] | None = None, action: Any = "bedrock:InvokeModelWithResponseStream") -> dict[
    str, Any
]:
    statement: dict[str, Any] = {"Sid": "Invoke", "Effect": "Allow", "Action": action,
                                 "Resource": ["arn:aws:bedrock:ap-northeast-1::foundation-model/m"]}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _component_policy(args: dict[str, Any]) -> str:
    run = run_component({"model_id": MODEL, **args})
    policy: str = run.one("aws:iam/rolePolicy:RolePolicy", suffix="-bedrock").inputs["policy"]
    return policy


def test_the_components_policy_passes_with_a_guardrail_and_fails_without() -> None:
    guarded = _component_policy({"guardrail": {"id": "gr0abc123", "version": "1"}})
    assert run_resource_policy(sp.guardrail_required, sp.IAM_ROLE_POLICY, {"policy": guarded}).violations == []
    bare = run_resource_policy(sp.guardrail_required, sp.IAM_ROLE_POLICY, {"policy": _component_policy({})})
    assert bare.violations and all("without a bedrock:GuardrailIdentifier condition" in m for m in bare.messages)
    # Allowed guardrails from the pack config.
    allowed = run_resource_policy(sp.guardrail_required, sp.IAM_ROLE_POLICY, {"policy": guarded},
                                  config={"guardrailIdentifiers": ["gr0abc123"]})
    assert allowed.violations == []
    other = run_resource_policy(sp.guardrail_required, sp.IAM_ROLE_POLICY, {"policy": guarded},
                                config={"guardrailIdentifiers": [ARN.replace("gr0abc123", "other1")]})
    assert other.violations and "not among the configured guardrailIdentifiers" in other.messages[0]


@pytest.mark.parametrize(
    ("statement", "violates"),
    [
        (_invoke(), True),
        (_invoke(action=["bedrock:Invoke*"]), True),
        (_invoke(action="bedrock:*"), True),
        (_invoke({"StringEquals": {"bedrock:GuardrailIdentifier": f"{ARN}:1"}}), False),
        (_invoke({"StringLike": {"bedrock:guardrailidentifier": f"{ARN}:*"}}), False),
        (_invoke({"Null": {"bedrock:GuardrailIdentifier": "false"}}), True),  # present, but any guardrail at all
        ({"Effect": "Allow", "Action": "bedrock:ApplyGuardrail", "Resource": ARN}, False),
        ({"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*"}, False),
    ],
    ids=["plain", "invoke-wildcard", "bedrock-star", "equals", "like-any-case", "null-only", "apply", "deny"],
)
def test_statements(statement: dict[str, Any], violates: bool) -> None:
    recorded = run_resource_policy(sp.guardrail_required, sp.IAM_POLICY, {"policy": _document(statement)})
    assert bool(recorded.violations) == violates, recorded.messages


def test_role_inline_policies_are_checked_and_unknowns_are_undecided() -> None:
    inline = {"inlinePolicies": [{"name": "bedrock", "policy": _document(_invoke())}]}
    recorded = run_resource_policy(sp.guardrail_required, sp.IAM_ROLE, inline)
    assert recorded.violations and "inline policy 'bedrock'" in recorded.messages[0]
    unknown = run_resource_policy(sp.guardrail_required, sp.IAM_ROLE_POLICY, {"policy": UNKNOWN})
    assert unknown.violations == [] and unknown.unknown is not None
