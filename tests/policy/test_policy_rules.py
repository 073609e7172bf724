"""Each rule of the pack with passing and violating resources, through the policies' own ``validate``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from policy import streaming_policies as sp
from tests.policy.conftest import (
    FUNCTION_ARN,
    INVOKE_URI,
    MODEL_ARN,
    STREAMING_URI,
    UNKNOWN,
    UNKNOWN_NUMBER,
    Res,
    good_stack,
    run_resource_policy,
    run_stack_policy,
    urn,
)


def stream_integration(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "type": "AWS_PROXY",
        "uri": STREAMING_URI,
        "responseTransferMode": "STREAM",
        "timeoutMilliseconds": 900000,
        "httpMethod": "POST",
        "integrationHttpMethod": "POST",
    }
    props.update(overrides)
    return props


# --- pack shape ---------------------------------------------------------------------------------------------


def test_pack_has_unique_names_and_only_the_public_rule_is_advisory() -> None:
    names = [policy.name for policy in sp.ALL_POLICIES]
    assert len(names) == len(set(names)) == 9
    levels = {policy.name: policy.enforcement_level for policy in sp.ALL_POLICIES}
    assert levels.pop("public-method-declared") == EnforcementLevel.ADVISORY
    # Off unless a stack's pack config turns it on (tests/policy/test_policy_guardrail.py).
    assert levels.pop("bedrock-guardrail-required") == EnforcementLevel.DISABLED
    assert set(levels.values()) == {EnforcementLevel.MANDATORY}


def test_the_component_shaped_stack_passes_every_rule() -> None:
    resources = list(good_stack().values())
    for policy in sp.STACK_POLICIES:
        recorded = run_stack_policy(policy, resources)
        assert recorded.violations == [] and recorded.unknown is None, policy.name
    for res in resources:
        for rpolicy in sp.RESOURCE_POLICIES:
            if rpolicy.enforcement_level == EnforcementLevel.DISABLED:
                continue
            recorded = run_resource_policy(rpolicy, res.type, res.props, res.name)
            assert recorded.violations == [] and recorded.unknown is None, (rpolicy.name, res.name)


# --- STREAM integration type --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["AWS_PROXY", "HTTP_PROXY"])
def test_stream_integration_of_proxy_type_passes(kind: str) -> None:
    props = stream_integration(type=kind, uri=STREAMING_URI if kind == "AWS_PROXY" else "https://backend.example")
    assert run_resource_policy(sp.stream_integration_type, sp.INTEGRATION, props).violations == []


@pytest.mark.parametrize("kind", ["AWS", "HTTP", "MOCK"])
def test_stream_integration_of_non_proxy_type_is_a_violation_naming_it(kind: str) -> None:
    recorded = run_resource_policy(sp.stream_integration_type, sp.INTEGRATION, stream_integration(type=kind), "chat")
    assert len(recorded.violations) == 1
    message = recorded.messages[0]
    assert "Integration 'chat'" in message and repr(kind) in message and "AWS_PROXY or HTTP_PROXY" in message
    assert urn(sp.INTEGRATION, "chat") in message


def test_buffered_integrations_are_not_concerned_by_the_stream_rules() -> None:
    props = {"type": "AWS", "uri": INVOKE_URI, "responseTransferMode": "BUFFERED"}
    for policy in (sp.stream_integration_type, sp.stream_integration_uri):
        assert run_resource_policy(policy, sp.INTEGRATION, props).violations == []
    props_without_mode = {"type": "MOCK"}
    assert run_resource_policy(sp.stream_integration_type, sp.INTEGRATION, props_without_mode).violations == []


def test_other_resource_types_are_ignored() -> None:
    assert (
        run_resource_policy(
            sp.stream_integration_type, sp.METHOD, {"type": "AWS", "responseTransferMode": "STREAM"}
        ).violations
        == []
    )


# --- streaming URI --------------------------------------------------------------------------------------------


def test_streaming_uri_passes() -> None:
    assert run_resource_policy(sp.stream_integration_uri, sp.INTEGRATION, stream_integration()).violations == []


def test_plain_invoke_uri_with_stream_is_a_violation() -> None:
    recorded = run_resource_policy(sp.stream_integration_uri, sp.INTEGRATION, stream_integration(uri=INVOKE_URI), "x")
    assert len(recorded.violations) == 1
    assert "response-streaming" in recorded.messages[0] and "Integration 'x'" in recorded.messages[0]


@pytest.mark.parametrize(
    "uri",
    [
        # Each is wrong in one part only, so both halves of the check (API path and suffix) are needed.
        STREAMING_URI.removesuffix("/response-streaming-invocations") + "/invocations",
        STREAMING_URI.replace("/2021-11-15/", "/2015-03-31/"),
    ],
    ids=["streaming-path-invocations-suffix", "invoke-path-streaming-suffix"],
)
def test_half_streaming_uri_with_stream_is_a_violation(uri: str) -> None:
    assert uri != STREAMING_URI
    recorded = run_resource_policy(sp.stream_integration_uri, sp.INTEGRATION, stream_integration(uri=uri), "x")
    assert len(recorded.violations) == 1 and "Integration 'x'" in recorded.messages[0]


def test_http_proxy_stream_does_not_need_the_lambda_uri() -> None:
    props = stream_integration(type="HTTP_PROXY", uri="https://backend.example/stream")
    assert run_resource_policy(sp.stream_integration_uri, sp.INTEGRATION, props).violations == []


def test_unknown_uri_under_preview_is_reported_as_undecided_not_passed() -> None:
    recorded = run_resource_policy(sp.stream_integration_uri, sp.INTEGRATION, stream_integration(uri=UNKNOWN))
    assert recorded.violations == []
    assert recorded.unknown is not None and recorded.unknown.props == ["uri"]


# --- integration timeout --------------------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [900000, 29000, None])
def test_timeout_within_limit_passes(timeout: int | None) -> None:
    props = stream_integration(timeoutMilliseconds=timeout)
    if timeout is None:
        del props["timeoutMilliseconds"]
    assert run_resource_policy(sp.integration_timeout, sp.INTEGRATION, props).violations == []


def test_timeout_over_limit_is_a_violation() -> None:
    recorded = run_resource_policy(
        sp.integration_timeout, sp.INTEGRATION, stream_integration(timeoutMilliseconds=900001)
    )
    assert len(recorded.violations) == 1 and "900001" in recorded.messages[0] and "900000" in recorded.messages[0]


def test_unknown_timeout_is_undecided() -> None:
    recorded = run_resource_policy(
        sp.integration_timeout, sp.INTEGRATION, stream_integration(timeoutMilliseconds=UNKNOWN_NUMBER)
    )
    assert recorded.violations == [] and recorded.unknown is not None


# --- IAM Bedrock scope ----------------------------------------------------------------------------------------


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


SCOPED = {"Effect": "Allow", "Action": ["bedrock:InvokeModelWithResponseStream"], "Resource": [MODEL_ARN]}


@pytest.mark.parametrize("resource_type", [sp.IAM_POLICY, sp.IAM_ROLE_POLICY])
def test_scoped_bedrock_grant_passes(resource_type: str) -> None:
    others = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
    recorded = run_resource_policy(sp.iam_bedrock_scope, resource_type, {"policy": document(SCOPED, others)})
    assert recorded.violations == [] and recorded.unknown is None


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": "bedrock:*", "Resource": [MODEL_ARN]}, "'bedrock:*'"),
        ({"Effect": "Allow", "Action": "*", "Resource": [MODEL_ARN]}, "'*'"),
        ({"Effect": "Allow", "Action": "Bedrock:*", "Resource": MODEL_ARN}, "'Bedrock:*'"),
        ({"Effect": "Allow", "Action": "bedrock:InvokeModelWithResponseStream", "Resource": "*"}, "every resource"),
        ({"Effect": "Allow", "Action": ["bedrock:Invoke*"], "Resource": [MODEL_ARN, "*"]}, "every resource"),
        ({"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:*:*:*"}, "every resource"),
        ({"Effect": "Allow", "Action": "bedrock:InvokeModel", "NotResource": MODEL_ARN}, "every resource"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
    ],
)
def test_broad_bedrock_grants_are_violations(statement: dict[str, Any], expected: str) -> None:
    recorded = run_resource_policy(
        sp.iam_bedrock_scope, sp.IAM_POLICY, {"policy": document(SCOPED, statement)}, "relay-bedrock"
    )
    assert len(recorded.violations) == 1, recorded.messages
    assert "IAM policy 'relay-bedrock'" in recorded.messages[0] and expected in recorded.messages[0]
    assert "statement 1" in recorded.messages[0]


def test_deny_statements_and_sids_are_read_correctly() -> None:
    deny = {"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}
    assert run_resource_policy(sp.iam_bedrock_scope, sp.IAM_POLICY, {"policy": document(deny)}).violations == []
    broad = {"Sid": "TooBroad", "Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE_POLICY, {"policy": document(broad)})
    assert [m for m in recorded.messages if "statement TooBroad" in m and "IAM role policy" in m] == recorded.messages
    assert len(recorded.messages) == 1


def test_policy_document_given_as_an_object_is_checked_too() -> None:
    props = {"policy": {"Statement": {"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}}}
    assert len(run_resource_policy(sp.iam_bedrock_scope, sp.IAM_POLICY, props).violations) == 1


def test_role_inline_policies_are_checked_and_named() -> None:
    good = {"name": "scoped", "policy": document(SCOPED)}
    bad = {"name": "too-broad", "policy": document({"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"})}
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE, {"inlinePolicies": [good]}, "relay-role")
    assert recorded.violations == []
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE, {"inlinePolicies": [good, bad]}, "relay-role")
    assert len(recorded.violations) == 1
    assert "IAM role 'relay-role' inline policy 'too-broad'" in recorded.messages[0]


def test_invalid_policy_json_is_a_violation_and_unknown_policy_is_undecided() -> None:
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_POLICY, {"policy": "{not json"})
    assert len(recorded.violations) == 1 and "not valid JSON" in recorded.messages[0]
    recorded = run_resource_policy(sp.iam_bedrock_scope, sp.IAM_ROLE_POLICY, {"policy": UNKNOWN})
    assert recorded.violations == [] and recorded.unknown is not None and recorded.unknown.props == ["policy"]


# --- REST API endpoint type (stack) ---------------------------------------------------------------------------


@pytest.mark.parametrize("types", ["REGIONAL", "PRIVATE", ["REGIONAL"]])
def test_regional_or_private_endpoint_passes(types: Any) -> None:
    stack = good_stack()
    stack["api"].props["endpointConfiguration"] = {"types": types}
    assert run_stack_policy(sp.stream_api_endpoint, list(stack.values())).violations == []


@pytest.mark.parametrize("config", [{"types": "EDGE"}, None])
def test_edge_endpoint_with_stream_is_a_violation(config: dict[str, str] | None) -> None:
    stack = good_stack()
    if config is None:
        del stack["api"].props["endpointConfiguration"]  # the API's default is EDGE
    else:
        stack["api"].props["endpointConfiguration"] = config
    recorded = run_stack_policy(sp.stream_api_endpoint, list(stack.values()))
    assert (
        recorded.violations == [(recorded.messages[0], stack["api"].urn)]
        and "REST API 'api'" in recorded.messages[0]
        and "EDGE" in recorded.messages[0]
    )


def test_edge_api_without_stream_integration_passes() -> None:
    stack = good_stack()
    stack["api"].props["endpointConfiguration"] = {"types": "EDGE"}
    stack["post-integration"].props["responseTransferMode"] = "BUFFERED"
    assert run_stack_policy(sp.stream_api_endpoint, list(stack.values())).violations == []


def test_endpoint_rule_links_by_property_dependency_under_preview() -> None:
    stack = good_stack(preview=True)
    stack["api"].props["endpointConfiguration"] = {"types": "EDGE"}
    recorded = run_stack_policy(sp.stream_api_endpoint, list(stack.values()))
    assert len(recorded.violations) == 1 and recorded.violations[0][1] == stack["api"].urn


def test_endpoint_rule_without_any_link_is_undecided_under_preview() -> None:
    stack = good_stack(preview=True)
    stack["post-integration"].deps = {}
    recorded = run_stack_policy(sp.stream_api_endpoint, list(stack.values()))
    assert recorded.violations == [] and recorded.unknown is not None


# --- function timeout (stack) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True])
def test_function_timeout_covering_integration_passes(preview: bool) -> None:
    recorded = run_stack_policy(sp.stream_function_timeout, list(good_stack(preview=preview).values()))
    assert recorded.violations == [] and recorded.unknown is None


@pytest.mark.parametrize(("timeout", "preview"), [(30, False), (None, False), (899, True)])
def test_short_function_timeout_is_a_violation(timeout: int | None, preview: bool) -> None:
    stack = good_stack(preview=preview)
    if timeout is None:
        del stack["relay"].props["timeout"]  # Lambda's default: 3 s
    else:
        stack["relay"].props["timeout"] = timeout
    recorded = run_stack_policy(sp.stream_function_timeout, list(stack.values()))
    assert len(recorded.violations) == 1 and recorded.violations[0][1] == stack["relay"].urn
    message = recorded.messages[0]
    assert "Lambda function 'relay'" in message and "'post-integration'" in message and "900 s" in message


def test_function_found_by_arn_inside_the_uri() -> None:
    stack = good_stack()
    stack["post-integration"].deps.pop("uri")
    stack["relay"].props["timeout"] = 60
    recorded = run_stack_policy(sp.stream_function_timeout, list(stack.values()))
    assert len(recorded.violations) == 1
    assert FUNCTION_ARN in STREAMING_URI


# --- stage throttling (stack) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("preview", [False, True])
def test_stage_with_method_settings_throttle_passes(preview: bool) -> None:
    stack = good_stack(auth="iam", preview=preview)
    recorded = run_stack_policy(sp.stream_stage_throttled, list(stack.values()))
    assert recorded.violations == [] and recorded.unknown is None


def test_stage_without_throttling_is_a_violation() -> None:
    stack = good_stack(auth="iam")
    del stack["method-settings"]
    recorded = run_stack_policy(sp.stream_stage_throttled, list(stack.values()))
    assert len(recorded.violations) == 1 and recorded.violations[0][1] == stack["stage"].urn
    assert "Stage 'prod'" in recorded.messages[0] and "REST API 'api'" in recorded.messages[0]


@pytest.mark.parametrize(
    "change",
    [
        {"settings": {"throttlingRateLimit": -1, "throttlingBurstLimit": -1, "metricsEnabled": True}},
        {"settings": {"metricsEnabled": True}},
        {"stageName": "other"},
        {"methodPath": "other/GET"},
    ],
)
def test_method_settings_that_do_not_throttle_the_stream_are_violations(change: dict[str, Any]) -> None:
    stack = good_stack(auth="iam")
    stack["method-settings"].props.update(change)
    if "stageName" in change:
        stack["method-settings"].deps.pop("stageName")
    recorded = run_stack_policy(sp.stream_stage_throttled, list(stack.values()))
    assert len(recorded.violations) == 1, change


def test_method_settings_on_the_stream_path_pass() -> None:
    stack = good_stack(auth="iam")
    stack["method-settings"].props["methodPath"] = "stream/POST"
    assert run_stack_policy(sp.stream_stage_throttled, list(stack.values())).violations == []


def test_usage_plan_throttle_counts_only_when_every_stream_method_requires_a_key() -> None:
    stack = good_stack(auth="api_key")
    del stack["method-settings"]
    assert run_stack_policy(sp.stream_stage_throttled, list(stack.values())).violations == []
    stack["post"].props["apiKeyRequired"] = False
    assert len(run_stack_policy(sp.stream_stage_throttled, list(stack.values())).violations) == 1
    stack["post"].props["apiKeyRequired"] = True
    stack["usage-plan"].props.pop("throttleSettings")
    assert len(run_stack_policy(sp.stream_stage_throttled, list(stack.values())).violations) == 1


# --- public methods (stack, advisory) -------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["api_key", "iam", "cognito"])
def test_protected_methods_and_the_mock_preflight_pass(auth: str) -> None:
    recorded = run_stack_policy(sp.public_method_declared, list(good_stack(auth=auth).values()))
    assert recorded.violations == [] and recorded.unknown is None


def test_undeclared_public_method_gets_an_advisory_naming_it() -> None:
    stack = good_stack(auth="none")
    recorded = run_stack_policy(sp.public_method_declared, list(stack.values()))
    assert len(recorded.violations) == 1 and recorded.violations[0][1] == stack["post"].urn
    message = recorded.messages[0]
    assert "Method 'post' (POST /stream)" in message and sp.PUBLIC_TAG in message
    assert sp.public_method_declared.enforcement_level == EnforcementLevel.ADVISORY


@pytest.mark.parametrize("declared", ["post", "/stream", "POST /stream", urn(sp.METHOD, "post")])
def test_public_method_declared_in_config_passes(declared: str) -> None:
    recorded = run_stack_policy(
        sp.public_method_declared, list(good_stack(auth="none").values()), {sp.PUBLIC_METHODS_CONFIG: [declared]}
    )
    assert recorded.violations == []


@pytest.mark.parametrize(
    ("tags", "declared"),
    [
        ({sp.PUBLIC_TAG: "true"}, True),
        ({sp.AUTH_TAG: "none"}, True),
        ({sp.PUBLIC_TAG: "false"}, False),
        ({sp.AUTH_TAG: "api_key"}, False),
    ],
)
def test_public_method_declared_by_tag(tags: dict[str, str], declared: bool) -> None:
    stack = good_stack(auth="none")
    stack["api"].props["tags"] = tags
    recorded = run_stack_policy(sp.public_method_declared, list(stack.values()))
    assert len(recorded.violations) == (0 if declared else 1)


def test_public_method_with_unrelated_declaration_is_still_reported() -> None:
    stack = good_stack(auth="none")
    unrelated = run_stack_policy(
        sp.public_method_declared, list(stack.values()), {sp.PUBLIC_METHODS_CONFIG: ["GET /other"]}
    )
    assert len(unrelated.violations) == 1


def test_options_method_that_invokes_code_is_not_exempt() -> None:
    stack = good_stack(auth="iam")
    stack["options-integration"].props.update(type="AWS_PROXY", uri=STREAMING_URI)
    recorded = run_stack_policy(sp.public_method_declared, list(stack.values()))
    assert len(recorded.violations) == 1 and "Method 'options'" in recorded.messages[0]


def test_public_rule_under_preview_still_finds_the_method() -> None:
    stack = good_stack(auth="none", preview=True)
    recorded = run_stack_policy(sp.public_method_declared, list(stack.values()))
    assert len(recorded.violations) == 1 and "Method 'post'" in recorded.messages[0]


def test_stack_rules_ignore_apis_without_streaming() -> None:
    resources = [Res(sp.REST_API, "plain", {"id": "p1", "endpointConfiguration": {"types": "EDGE"}})]
    for policy in (sp.stream_api_endpoint, sp.stream_function_timeout, sp.stream_stage_throttled):
        recorded = run_stack_policy(policy, resources)
        assert recorded.violations == [] and recorded.unknown is None


def test_method_specific_settings_are_undecided_while_the_path_is_unknown() -> None:
    stack = good_stack(auth="iam", preview=True)
    stack["method-settings"].props["methodPath"] = "stream/POST"
    recorded = run_stack_policy(sp.stream_stage_throttled, list(stack.values()))
    assert recorded.violations == [] and recorded.unknown is not None and recorded.unknown.props[-1] == "path"
    stack["resource"].props["path"] = "/stream"
    recorded = run_stack_policy(sp.stream_stage_throttled, list(stack.values()))
    assert recorded.violations == [] and recorded.unknown is None


def test_public_path_declaration_is_undecided_while_the_path_is_unknown() -> None:
    stack = good_stack(auth="none", preview=True)
    config = {sp.PUBLIC_METHODS_CONFIG: ["POST /stream"]}
    recorded = run_stack_policy(sp.public_method_declared, list(stack.values()), config)
    assert recorded.violations == [] and recorded.unknown is not None
    stack["resource"].props["path"] = "/stream"
    recorded = run_stack_policy(sp.public_method_declared, list(stack.values()), config)
    assert recorded.violations == [] and recorded.unknown is None
