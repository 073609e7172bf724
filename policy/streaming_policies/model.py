"""What the rules share: resource type tokens, AWS limits and defaults, and the plain-data model.

Rules work on plain data (``dict``/``list``/scalars) where :class:`Unknown` stands for a value Pulumi cannot know
during preview, and return :class:`Findings`. Nothing here imports ``pulumi_policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Resource type tokens, as registered by pulumi-aws v7.
# Resource type tokens, as registered by pulumi-aws v7.
INTEGRATION = "aws:apigateway/integration:Integration"
REST_API = "aws:apigateway/restApi:RestApi"
RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"
FUNCTION = "aws:lambda/function:Function"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE = "aws:iam/role:Role"
IAM_ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM role policy attachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "IAM user policy attachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "IAM group policy attachment",
    "aws:iam/policyAttachment:PolicyAttachment": "IAM policy attachment",
}
# AWS managed policies that allow bedrock:* on every resource (AmazonBedrockFullAccess: bedrock:*; the other two:
# every action, or every action outside IAM/Organizations/Account).
BROAD_MANAGED_POLICIES = ("AmazonBedrockFullAccess", "AdministratorAccess", "PowerUserAccess")

STREAMING_TYPES = ("AWS_PROXY", "HTTP_PROXY")
STREAMING_URI_SUFFIX = "/response-streaming-invocations"
LAMBDA_URI_MARKER = ":lambda:path/2021-11-15/functions/"
MAX_INTEGRATION_TIMEOUT_MS = 900_000
# Provider defaults, used when a property is absent (the API then behaves as if it held these).
DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000
DEFAULT_LAMBDA_TIMEOUT_S = 3
DEFAULT_ENDPOINT_TYPE = "EDGE"
STREAMING_ENDPOINT_TYPES = ("REGIONAL", "PRIVATE")

PUBLIC_TAG = "streaming-bedrock-api:public"
# The component tags its REST API with the auth mode the user configured; "none" there is a declaration too.
AUTH_TAG = "streaming-bedrock-api:auth"
PUBLIC_METHODS_CONFIG = "publicMethods"


@dataclass(frozen=True)
class Unknown:
    """A value that is not known during preview; ``path`` says where it sits in the resource's properties."""

    sentinel: str
    path: tuple[str, ...]

    def describe(self) -> str:
        return "." + ".".join(self.path)


@dataclass
class Findings:
    """What a rule found: messages to report and the properties that kept it from deciding."""

    violations: list[str] = field(default_factory=list)
    undecided: list[Unknown] = field(default_factory=list)

    def extend(self, other: Findings) -> None:
        self.violations.extend(other.violations)
        self.undecided.extend(other.undecided)


def number_text(value: Any) -> str:
    """900000.0 (numbers arrive as floats over gRPC) shown as 900000; anything else as its repr."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if value != int(value) else str(int(value))
    return repr(value)


def labelled(kind: str, name: str) -> str:
    return f"{kind} '{name}'"


def upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def is_stream(props: Mapping[str, Any]) -> Any:
    """True/False, or the Unknown that keeps us from telling."""
    mode = props.get("responseTransferMode")
    if isinstance(mode, Unknown):
        return mode
    return upper(mode) == "STREAM"


def integration_timeout_ms(props: Mapping[str, Any]) -> Any:
    value = props.get("timeoutMilliseconds")
    return DEFAULT_INTEGRATION_TIMEOUT_MS if value is None else value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
