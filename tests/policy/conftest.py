"""Builders for policy arguments, shaped the way the CrossGuard engine hands them to a pack.

Properties go through ``unknown_checking_proxy`` (what the analyzer servicer does), so a rule that reads an
unknown value the wrong way fails here exactly as it would under ``pulumi preview``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy import streaming_policies as sp

PROJECT = "streaming-bedrock-api"
UNKNOWN = UNKNOWN_STRING_VALUE
UNKNOWN_NUMBER = UNKNOWN_NUMBER_VALUE
REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:relay"
STREAMING_URI = (
    f"arn:aws:apigateway:{REGION}:lambda:path/2021-11-15/functions/{FUNCTION_ARN}/response-streaming-invocations"
)
INVOKE_URI = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
MODEL_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0"


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::{PROJECT}::{resource_type}::{name}"


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


@dataclass
class Recorded:
    """What one validate call reported, and whether it stopped on an unknown value."""

    violations: list[tuple[str, str | None]] = field(default_factory=list)
    unknown: UnknownValueError | None = None

    def report(self, message: str, where: str | None = None) -> None:
        """The ``report_violation`` callback handed to ``validate``."""
        self.violations.append((message, where))

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.violations]


def run_resource_policy(
    policy: ResourceValidationPolicy,
    resource_type: str,
    props: Mapping[str, Any],
    name: str = "res",
    config: Mapping[str, Any] | None = None,
) -> Recorded:
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(dict(props)), urn(resource_type, name), name, options(), None, config
    )
    recorded = Recorded()
    try:
        result = policy.validate(args, recorded.report)
    except UnknownValueError as error:
        recorded.unknown = error
    else:
        assert result is None, "the pack's validations are synchronous"
    return recorded


@dataclass
class Res:
    """One stack resource for a StackValidationArgs: props are outputs; deps map a property to resource names."""

    type: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)


def stack_args(resources: Sequence[Res], config: Mapping[str, Any] | None = None) -> StackValidationArgs:
    built: dict[str, PolicyResource] = {}
    for res in resources:
        built[res.name] = PolicyResource(
            res.type,
            unknown_checking_proxy(json.loads(json.dumps(res.props))),
            res.urn,
            res.name,
            options(),
            None,
            None,
            [],
            {},
        )
    for res in resources:
        deps = {prop: [built[name] for name in names] for prop, names in res.deps.items()}
        built[res.name].property_dependencies = deps
        built[res.name].dependencies = [d for names in deps.values() for d in names]
    return StackValidationArgs(list(built.values()), config)


def run_stack_policy(
    policy: StackValidationPolicy, resources: Sequence[Res], config: Mapping[str, Any] | None = None
) -> Recorded:
    recorded = Recorded()
    try:
        result = policy.validate(stack_args(resources, config), recorded.report)
    except UnknownValueError as error:
        recorded.unknown = error
    else:
        assert result is None
    return recorded


def scoped_policy_document() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "bedrock:InvokeModelWithResponseStream", "Resource": [MODEL_ARN]},
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
            ],
        }
    )


def good_stack(auth: str = "api_key", preview: bool = False) -> dict[str, Res]:
    """The resources the component builds, as outputs after `pulumi up` (or under preview: unknown ids).

    ``preview=True`` mimics a first preview: ids, ARNs and computed paths are unknown, and the links between
    resources exist only as property dependencies.
    """

    def known(value: Any) -> Any:
        return UNKNOWN if preview else value

    authorization = {"api_key": "NONE", "iam": "AWS_IAM", "cognito": "COGNITO_USER_POOLS", "none": "NONE"}[auth]
    api_deps = {"restApi": ["api"]}
    resources = [
        Res(
            sp.REST_API,
            "api",
            {"id": known("a1b2c3"), "rootResourceId": known("root0"), "endpointConfiguration": {"types": "REGIONAL"}},
        ),
        Res(
            sp.RESOURCE,
            "resource",
            {"id": known("res123"), "restApi": known("a1b2c3"), "pathPart": "stream", "path": known("/stream")},
            api_deps,
        ),
        Res(sp.FUNCTION, "relay", {"arn": known(FUNCTION_ARN), "timeout": 900, "memorySize": 256}),
        Res(
            sp.METHOD,
            "post",
            {
                "restApi": known("a1b2c3"),
                "resourceId": known("res123"),
                "httpMethod": "POST",
                "authorization": authorization,
                "apiKeyRequired": auth == "api_key",
            },
            {"restApi": ["api"], "resourceId": ["resource"]},
        ),
        Res(
            sp.INTEGRATION,
            "post-integration",
            {
                "restApi": known("a1b2c3"),
                "resourceId": known("res123"),
                "httpMethod": "POST",
                "type": "AWS_PROXY",
                "integrationHttpMethod": "POST",
                "uri": known(STREAMING_URI),
                "responseTransferMode": "STREAM",
                "timeoutMilliseconds": 900000,
            },
            {"restApi": ["api"], "resourceId": ["resource"], "uri": ["relay"]},
        ),
        Res(
            sp.METHOD,
            "options",
            {
                "restApi": known("a1b2c3"),
                "resourceId": known("res123"),
                "httpMethod": "OPTIONS",
                "authorization": "NONE",
                "apiKeyRequired": False,
            },
            {"restApi": ["api"], "resourceId": ["resource"]},
        ),
        Res(
            sp.INTEGRATION,
            "options-integration",
            {"restApi": known("a1b2c3"), "resourceId": known("res123"), "httpMethod": "OPTIONS", "type": "MOCK"},
            {"restApi": ["api"], "resourceId": ["resource"]},
        ),
        Res(
            sp.STAGE, "stage", {"restApi": known("a1b2c3"), "stageName": "prod", "deployment": known("dep1")}, api_deps
        ),
        Res(
            sp.METHOD_SETTINGS,
            "method-settings",
            {
                "restApi": known("a1b2c3"),
                "stageName": "prod",
                "methodPath": "*/*",
                "settings": {"throttlingRateLimit": 10.0, "throttlingBurstLimit": 20, "metricsEnabled": True},
            },
            {"restApi": ["api"], "stageName": ["stage"]},
        ),
        Res(sp.IAM_ROLE_POLICY, "relay-bedrock", {"policy": scoped_policy_document(), "role": "relay-role"}),
    ]
    if auth == "api_key":
        resources.append(
            Res(
                sp.USAGE_PLAN,
                "usage-plan",
                {
                    "apiStages": [{"apiId": known("a1b2c3"), "stage": "prod"}],
                    "throttleSettings": {"rateLimit": 10.0, "burstLimit": 20},
                },
                {"apiStages": ["api", "stage"]},
            )
        )
    return {res.name: res for res in resources}


@pytest.fixture
def stack() -> dict[str, Res]:
    return good_stack()
