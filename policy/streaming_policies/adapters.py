"""The ``pulumi_policy`` adapters: the pack's policy objects around the pure rules.

They turn the engine's property proxies into plain data (:func:`plain`), report the violations, and, when a rule
could not decide because a value it needs is unknown, raise the SDK's ``UnknownValueError`` so the engine prints
its standard "can't run policy during preview" note instead of a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    proxy,
)
from pulumi_policy.proxy import UnknownValueError

from .guardrail_rules import GUARDRAIL_IDENTIFIERS_CONFIG, check_guardrail_required
from .model import (
    IAM_ATTACHMENTS,
    IAM_ROLE,
    INTEGRATION,
    MAX_INTEGRATION_TIMEOUT_MS,
    PUBLIC_METHODS_CONFIG,
    Findings,
    Unknown,
)
from .resource_rules import (
    IAM_LABELS,
    check_iam_bedrock_scope,
    check_integration_timeout,
    check_stream_integration_type,
    check_stream_integration_uri,
)
from .stack_rules import endpoint_findings, function_timeout_findings, public_method_findings, stage_throttle_findings
from .stack_view import Node, StackView

_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def plain(value: Any, path: tuple[str, ...] = ()) -> Any:
    """Copy ``value`` (engine proxies or plain data) into dicts/lists, with :class:`Unknown` for unknowns.

    The engine's proxies raise ``UnknownValueError`` on reading an unknown value; reading each key once here
    turns those into markers, so one unknown does not stop a rule from judging everything else.
    """
    if isinstance(value, str):
        return Unknown(value, path) if value in _SENTINELS else value
    if isinstance(value, Mapping):
        return {str(key): _plain_item(value, key, path) for key in list(value)}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_plain_item(value, index, path) for index in range(len(value))]
    return value


def _plain_item(container: Any, key: Any, path: tuple[str, ...]) -> Any:
    where = (*path, str(key))
    try:
        item = container[key]
    except UnknownValueError as error:
        return Unknown(error.unknown_type_sentinel, where)
    return plain(item, where)


def node_from_policy_resource(resource: PolicyResource) -> Node:
    deps = {key: frozenset(dep.urn for dep in value) for key, value in resource.property_dependencies.items()}
    return Node(resource.resource_type, resource.name, resource.urn, plain(resource.props), deps)


def _raise_if_undecided(found: Findings) -> None:
    if found.undecided:
        first = found.undecided[0]
        raise UnknownValueError(first.sentinel, list(first.path))


def _resource_policy(
    name: str, description: str, types: Sequence[str], rule: Callable[[str, str, Mapping[str, Any]], Findings]
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        found = rule(args.resource_type, args.name, plain(args.props))
        for message in found.violations:
            report_violation(f"{message} [{args.urn}]", None)
        _raise_if_undecided(found)

    return ResourceValidationPolicy(name, description, validate, EnforcementLevel.MANDATORY)


def _stack_policy(
    name: str,
    description: str,
    body: Callable[[StackView, Findings, Callable[[str, str], None], Mapping[str, Any]], None],
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config_schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        view = StackView([node_from_policy_resource(r) for r in args.resources])
        found = Findings()
        body(view, found, lambda message, urn: report_violation(message, urn), args.get_config())
        _raise_if_undecided(found)

    return StackValidationPolicy(name, description, validate, enforcement_level, config_schema)


def _declared_public(config: Mapping[str, Any]) -> list[str]:
    value = config.get(PUBLIC_METHODS_CONFIG) if config else None
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


stream_integration_type = _resource_policy(
    "stream-integration-proxy-type",
    "A STREAM integration must be AWS_PROXY or HTTP_PROXY.",
    (INTEGRATION,),
    lambda _t, name, props: check_stream_integration_type(name, props),
)

stream_integration_uri = _resource_policy(
    "stream-integration-streaming-uri",
    "An AWS_PROXY STREAM integration must use Lambda's /response-streaming-invocations URI.",
    (INTEGRATION,),
    lambda _t, name, props: check_stream_integration_uri(name, props),
)

integration_timeout = _resource_policy(
    "integration-timeout-limit",
    f"An integration timeout must be at most {MAX_INTEGRATION_TIMEOUT_MS} ms.",
    (INTEGRATION,),
    lambda _t, name, props: check_integration_timeout(name, props),
)

iam_bedrock_scope = _resource_policy(
    "iam-bedrock-least-privilege",
    'No IAM policy may grant bedrock:* or * , or a Bedrock action on Resource "*".',
    (*IAM_LABELS, *IAM_ATTACHMENTS, IAM_ROLE),
    check_iam_bedrock_scope,
)

stream_api_endpoint = _stack_policy(
    "stream-api-regional-endpoint",
    "A REST API with a STREAM integration must use a REGIONAL or PRIVATE endpoint.",
    lambda view, found, report, _config: endpoint_findings(view, found, report),
)

stream_function_timeout = _stack_policy(
    "stream-function-timeout-covers-integration",
    "The Lambda function behind a STREAM integration must have a timeout at least as long as the integration's.",
    lambda view, found, report, _config: function_timeout_findings(view, found, report),
)

stream_stage_throttled = _stack_policy(
    "stream-stage-throttled",
    "A stage that serves a STREAM integration must have throttling set.",
    lambda view, found, report, _config: stage_throttle_findings(view, found, report),
)

public_method_declared = _stack_policy(
    "public-method-declared",
    "A method without authorization or API key must be declared public.",
    lambda view, found, report, config: public_method_findings(view, found, report, _declared_public(config)),
    # Advisory: an open API may be intended; the warning makes it a visible choice. Raise it to mandatory
    # through the pack config ({"public-method-declared": {"enforcementLevel": "mandatory"}}).
    EnforcementLevel.ADVISORY,
    PolicyConfigSchema(
        properties={
            PUBLIC_METHODS_CONFIG: {
                "type": "array",
                "items": {"type": "string"},
                "description": "Methods allowed to be public: resource name, URN, path ('/stream') or "
                "'METHOD /path' ('POST /stream').",
            }
        }
    ),
)

def _validate_guardrail_required(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (*IAM_LABELS, IAM_ROLE):
        return
    config = args.get_config() or {}
    allowed = config.get(GUARDRAIL_IDENTIFIERS_CONFIG) if isinstance(config, Mapping) else None
    found = check_guardrail_required(
        args.resource_type, args.name, plain(args.props), [str(v) for v in allowed or []], IAM_LABELS
    )
    for message in found.violations:
        report_violation(f"{message} [{args.urn}]", None)
    _raise_if_undecided(found)


guardrail_required = ResourceValidationPolicy(
    "bedrock-guardrail-required",
    "IAM policies that allow invoking Bedrock models must require a guardrail (bedrock:GuardrailIdentifier).",
    _validate_guardrail_required,
    # Off unless a stack asks for it: a guardrail is a product decision. Per stack, in the pack config:
    # {"bedrock-guardrail-required": {"enforcementLevel": "mandatory", "guardrailIdentifiers": ["abc123"]}}.
    EnforcementLevel.DISABLED,
    PolicyConfigSchema(
        properties={
            GUARDRAIL_IDENTIFIERS_CONFIG: {
                "type": "array",
                "items": {"type": "string"},
                "description": "Guardrails (ids or ARNs) the condition must name; empty: any guardrail.",
            }
        }
    ),
)

RESOURCE_POLICIES: list[ResourceValidationPolicy] = [
    stream_integration_type,
    stream_integration_uri,
    integration_timeout,
    iam_bedrock_scope,
    guardrail_required,
]
STACK_POLICIES: list[StackValidationPolicy] = [
    stream_api_endpoint,
    stream_function_timeout,
    stream_stage_throttled,
    public_method_declared,
]
ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [*RESOURCE_POLICIES, *STACK_POLICIES]
