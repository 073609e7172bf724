"""CrossGuard policies that keep the streaming path of a StreamingBedrockApi stack intact.

Modules by concern: ``model`` (resource type tokens, AWS limits, :class:`Unknown` and :class:`Findings`),
``resource_rules`` (pure rules over one resource's inputs), ``stack_view`` (a stack's resources and their links),
``stack_rules`` (pure rules over the stack view) and ``adapters`` (the ``pulumi_policy`` policy objects).

The pack's ``__main__.py`` imports :data:`ALL_POLICIES` from here; tests import the policy objects and the names
they are configured with. Relative imports inside the package work both ways this package is loaded: as the
top-level ``streaming_policies`` (the pack runs from this folder) and as ``policy.streaming_policies`` (tests).

No import from the component: the pack must also guard stacks that were edited by hand.
"""

from .adapters import (
    ALL_POLICIES,
    RESOURCE_POLICIES,
    STACK_POLICIES,
    guardrail_required,
    iam_bedrock_scope,
    integration_timeout,
    public_method_declared,
    stream_api_endpoint,
    stream_function_timeout,
    stream_integration_type,
    stream_integration_uri,
    stream_stage_throttled,
)
from .model import (
    AUTH_TAG,
    FUNCTION,
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    INTEGRATION,
    METHOD,
    METHOD_SETTINGS,
    PUBLIC_METHODS_CONFIG,
    PUBLIC_TAG,
    RESOURCE,
    REST_API,
    STAGE,
    USAGE_PLAN,
)

__all__ = [
    "ALL_POLICIES",
    "AUTH_TAG",
    "FUNCTION",
    "IAM_GROUP_POLICY",
    "IAM_POLICY",
    "IAM_ROLE",
    "IAM_ROLE_POLICY",
    "IAM_USER_POLICY",
    "INTEGRATION",
    "METHOD",
    "METHOD_SETTINGS",
    "PUBLIC_METHODS_CONFIG",
    "PUBLIC_TAG",
    "RESOURCE",
    "RESOURCE_POLICIES",
    "REST_API",
    "STACK_POLICIES",
    "STAGE",
    "USAGE_PLAN",
    "guardrail_required",
    "iam_bedrock_scope",
    "integration_timeout",
    "public_method_declared",
    "stream_api_endpoint",
    "stream_function_timeout",
    "stream_integration_type",
    "stream_integration_uri",
    "stream_stage_throttled",
]
