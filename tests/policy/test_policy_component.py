"""The component's own resources, captured under Pulumi mocks, pass every rule of the pack in each auth mode.

The run uses the component tests' recording mocks (tests/component/conftest.py), extended to keep each
resource's state (inputs plus the attributes the mocks compute) so stack policies see outputs as after
``pulumi up``. Resource policies get the recorded inputs, as before a create. Links between resources are found
by id here (the mocks give every resource a known id); the property-dependency route used under preview is
covered by the gRPC test. Negative controls break one thing in the captured stack and expect exactly that rule
to fire, so a rule that silently stopped matching the component's resources would fail here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy import streaming_policies as sp
from tests.component.conftest import ComponentRun, RecordingMocks, run_component
from tests.policy.conftest import Recorded, options, run_resource_policy

MODEL = "jp.anthropic.claude-haiku-4-5-20251001-v1:0"
POOL = "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_AbCdEf123"
AUTH_ARGS: dict[str, dict[str, Any]] = {
    "api_key": {"auth": "api_key"},
    "iam": {"auth": "iam"},
    "cognito": {"auth": "cognito", "cognito_user_pool_arns": [POOL]},
    "none": {"auth": "none"},
}
NAME = "chat"
# The native route and the two OpenAI-compatible routes.
PUBLIC_DECLARATION = {sp.PUBLIC_METHODS_CONFIG: [f"{NAME}-post", f"{NAME}-openai-completions", f"{NAME}-openai-models"]}
# The rules a stack gets without any pack config (bedrock-guardrail-required is off until a stack turns it on).
ENABLED_RESOURCE_POLICIES = [p for p in sp.RESOURCE_POLICIES if p.enforcement_level != EnforcementLevel.DISABLED]


@dataclass
class StateMocks(RecordingMocks):
    """Recording mocks that also keep the state each resource was given, by (type, name)."""

    states: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        self.states[(args.typ, args.name)] = {**copy.deepcopy(state), "id": resource_id}
        return resource_id, state


@dataclass
class Captured:
    run: ComponentRun
    states: dict[tuple[str, str], dict[str, Any]]

    def stack(self, edit: Mapping[str, Mapping[str, Any]] | None = None) -> list[PolicyResource]:
        """Stack resources as the engine would pass them; ``edit`` maps a type token to props to override."""
        roots = {s.get("rootResourceId"): "" for (typ, _), s in self.states.items() if typ == sp.REST_API}
        by_id = {s["id"]: s for (typ, _), s in self.states.items() if typ == sp.RESOURCE}

        def full_path(state: Mapping[str, Any]) -> str:
            # Computed by the provider (the mocks do not): the parent's path plus this segment.
            parent = state.get("parentId")
            head = "" if parent in roots else full_path(by_id[parent])
            return f"{head}/{state['pathPart']}"

        resources = []
        for reg in self.run.registrations:
            if not reg.custom:
                continue
            props = copy.deepcopy(self.states[(reg.typ, reg.name)])
            if reg.typ == sp.RESOURCE:
                props["path"] = full_path(props)
            for key, value in (edit or {}).get(reg.typ, {}).items():
                if value is None:
                    props.pop(key, None)
                else:
                    props[key] = value
            resources.append(
                PolicyResource(reg.typ, unknown_checking_proxy(props), reg.urn, reg.name, options(), None, None, [], {})
            )
        return resources


def capture(auth: str) -> Captured:
    mocks = StateMocks()
    run = run_component({"model_id": MODEL, **AUTH_ARGS[auth]}, name=NAME, mocks=mocks)
    return Captured(run, mocks.states)


def check_stack(resources: list[PolicyResource], config: Mapping[str, Any] | None = None) -> dict[str, Recorded]:
    results = {}
    for policy in sp.STACK_POLICIES:
        recorded = Recorded()
        try:
            policy.validate(StackValidationArgs(resources, config), recorded.report)
        except UnknownValueError as error:
            recorded.unknown = error
        results[policy.name] = recorded
    return results


@pytest.fixture(scope="module", params=sorted(AUTH_ARGS))
def captured(request: pytest.FixtureRequest) -> tuple[str, Captured]:
    return request.param, capture(request.param)


def test_capture_holds_the_streaming_path(captured: tuple[str, Captured]) -> None:
    auth, cap = captured
    types = cap.run.types()
    for needed in (sp.REST_API, sp.RESOURCE, sp.FUNCTION, sp.STAGE, sp.METHOD_SETTINGS, sp.IAM_ROLE_POLICY):
        assert needed in types, (auth, needed)
    streams = [r for r in cap.run.of_type(sp.INTEGRATION) if r.inputs.get("responseTransferMode") == "STREAM"]
    # The native route and the OpenAI-compatible ones: every rule below covers all three.
    assert sorted(r.name for r in streams) == [f"{NAME}-openai-completions-integration",
                                               f"{NAME}-openai-models-integration", f"{NAME}-post-integration"]
    assert len(cap.stack()) == sum(1 for r in cap.run.registrations if r.custom) > 10


def test_every_resource_rule_passes_on_the_components_inputs(captured: tuple[str, Captured]) -> None:
    auth, cap = captured
    checked = 0
    for reg in cap.run.registrations:
        if not reg.custom:
            continue
        for policy in ENABLED_RESOURCE_POLICIES:
            recorded = run_resource_policy(policy, reg.typ, reg.inputs, reg.name)
            assert recorded.violations == [] and recorded.unknown is None, (auth, policy.name, reg.name)
            checked += 1
    assert checked >= 10 * len(ENABLED_RESOURCE_POLICIES)


def test_every_stack_rule_passes_on_the_components_outputs(captured: tuple[str, Captured]) -> None:
    auth, cap = captured
    # auth none: declared through the pack config here (the tag route has its own test below).
    config = PUBLIC_DECLARATION if auth == "none" else None
    edit = {sp.REST_API: {"tags": None, "tagsAll": None}} if auth == "none" else None
    for name, recorded in check_stack(cap.stack(edit), config).items():
        assert recorded.violations == [] and recorded.unknown is None, (auth, name, recorded.violations)


def test_auth_none_is_declared_by_the_components_auth_tag() -> None:
    cap = capture("none")
    api = cap.run.one(sp.REST_API)
    assert api.inputs["tags"][sp.AUTH_TAG] == "none"
    assert not any(r.violations for r in check_stack(cap.stack()).values())


def test_auth_none_without_declaration_gets_only_the_advisory() -> None:
    cap = capture("none")
    results = check_stack(cap.stack({sp.REST_API: {"tags": None, "tagsAll": None}}))
    reported = {name: r.messages for name, r in results.items() if r.violations}
    assert list(reported) == ["public-method-declared"]
    assert len(reported["public-method-declared"]) == 3
    messages = "\n".join(reported["public-method-declared"])
    for where in (f"'{NAME}-post' (POST /stream)", f"'{NAME}-openai-completions' (POST /v1/chat/completions)",
                  f"'{NAME}-openai-models' (GET /v1/models)"):
        assert f"Method {where}" in messages


@pytest.mark.parametrize(
    ("edit", "policy"),
    [
        ({sp.REST_API: {"endpointConfiguration": {"types": "EDGE"}}}, "stream-api-regional-endpoint"),
        ({sp.REST_API: {"endpointConfiguration": None}}, "stream-api-regional-endpoint"),
        ({sp.FUNCTION: {"timeout": 60}}, "stream-function-timeout-covers-integration"),
        ({sp.FUNCTION: {"timeout": None}}, "stream-function-timeout-covers-integration"),
        ({sp.METHOD_SETTINGS: {"settings": {"metricsEnabled": True}}}, "stream-stage-throttled"),
        ({sp.METHOD_SETTINGS: {"stageName": "other"}}, "stream-stage-throttled"),
    ],
)
def test_breaking_the_captured_stack_fires_exactly_that_rule(edit: dict[str, Any], policy: str) -> None:
    cap = capture("iam")
    assert all(len(cap.run.of_type(typ)) == 1 for typ in edit)
    results = check_stack(cap.stack(edit))
    assert [name for name, r in results.items() if r.violations] == [policy]
    # The function serves three STREAM integrations (native + OpenAI routes): each one is reported.
    assert len(results[policy].violations) == (3 if sp.FUNCTION in edit else 1)


def test_widening_the_components_bedrock_grant_fires_the_iam_rule() -> None:
    cap = capture("api_key")
    bedrock = [reg for reg in cap.run.of_type(sp.IAM_ROLE_POLICY) if "bedrock:" in str(reg.inputs.get("policy", ""))]
    assert len(bedrock) == 1
    document = json.loads(bedrock[0].inputs["policy"])
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    for statement in statements:
        statement["Resource"] = "*"
    widened = {**bedrock[0].inputs, "policy": json.dumps(document)}
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE_POLICY, widened, bedrock[0].name)
    bedrock_statements = [s for s in statements if "bedrock:" in json.dumps(s.get("Action"))]
    assert len(recorded.violations) == len(bedrock_statements) >= 1
