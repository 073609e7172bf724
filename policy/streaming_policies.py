"""CrossGuard policies that keep the streaming path of a StreamingBedrockApi stack intact.

Each rule is a pure function over plain data (``dict``/``list``/scalars, with :class:`Unknown` standing for a
value Pulumi cannot know during preview) that returns :class:`Findings`. The ``pulumi_policy`` objects at the
bottom are thin adapters: they turn the engine's property proxies into plain data, report the violations, and,
when a rule could not decide because a value it needs is unknown, raise the SDK's ``UnknownValueError`` so the
engine prints its standard "can't run policy during preview" note instead of a silent pass.

Resource policies see a resource's *inputs* right before it is created or updated; stack policies see every
resource's *outputs* after the program ran (under preview: inputs plus unknown computed values), linked by
property dependencies (the URNs a property was computed from) or, when those are absent, by known ids.

No import from the component: the pack must also guard stacks that were edited by hand.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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


# --- plain data -----------------------------------------------------------------------------------------------

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


def _number(value: Any) -> str:
    """900000.0 (numbers arrive as floats over gRPC) shown as 900000; anything else as its repr."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if value != int(value) else str(int(value))
    return repr(value)


def _label(kind: str, name: str) -> str:
    return f"{kind} '{name}'"


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _is_stream(props: Mapping[str, Any]) -> Any:
    """True/False, or the Unknown that keeps us from telling."""
    mode = props.get("responseTransferMode")
    if isinstance(mode, Unknown):
        return mode
    return _upper(mode) == "STREAM"


# --- resource rules (inputs of one resource) ------------------------------------------------------------------


def check_stream_integration_type(name: str, props: Mapping[str, Any]) -> Findings:
    """A STREAM integration must be a proxy integration (AWS_PROXY or HTTP_PROXY)."""
    found = Findings()
    stream = _is_stream(props)
    if isinstance(stream, Unknown):
        found.undecided.append(stream)
        return found
    if not stream:
        return found
    kind = props.get("type")
    if isinstance(kind, Unknown):
        found.undecided.append(kind)
    elif _upper(kind) not in STREAMING_TYPES:
        found.violations.append(
            f"{_label('Integration', name)} sets responseTransferMode STREAM but has type {kind!r}; "
            f"API Gateway streams only {' or '.join(STREAMING_TYPES)} integrations."
        )
    return found


def check_stream_integration_uri(name: str, props: Mapping[str, Any]) -> Findings:
    """An AWS_PROXY STREAM integration must call Lambda's response-streaming invocation path."""
    found = Findings()
    stream = _is_stream(props)
    kind = props.get("type")
    for value in (stream, kind):
        if isinstance(value, Unknown):
            found.undecided.append(value)
    if found.undecided or not stream or _upper(kind) != "AWS_PROXY":
        return found
    uri = props.get("uri")
    if isinstance(uri, Unknown):
        found.undecided.append(uri)
    elif not isinstance(uri, str) or not (LAMBDA_URI_MARKER in uri and uri.endswith(STREAMING_URI_SUFFIX)):
        found.violations.append(
            f"{_label('Integration', name)} streams through AWS_PROXY but its uri is {uri!r}; it must be the "
            f"Lambda response-streaming URI (…{LAMBDA_URI_MARKER}<function ARN>{STREAMING_URI_SUFFIX}, "
            "pulumi-aws: Function.response_streaming_invoke_arn). The plain invoke_arn is rejected with STREAM."
        )
    return found


def _timeout_ms(props: Mapping[str, Any]) -> Any:
    value = props.get("timeoutMilliseconds")
    return DEFAULT_INTEGRATION_TIMEOUT_MS if value is None else value


def check_integration_timeout(name: str, props: Mapping[str, Any]) -> Findings:
    """No integration may wait longer than API Gateway's 900000 ms ceiling (reached only with STREAM)."""
    found = Findings()
    timeout = _timeout_ms(props)
    if isinstance(timeout, Unknown):
        found.undecided.append(timeout)
    elif not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout > MAX_INTEGRATION_TIMEOUT_MS:
        found.violations.append(
            f"{_label('Integration', name)} has timeoutMilliseconds {_number(timeout)}; the most API Gateway allows is "
            f"{MAX_INTEGRATION_TIMEOUT_MS} (15 minutes, STREAM only)."
        )
    return found


# IAM: a Bedrock grant must name models/profiles, never every action or every resource.


def _strings(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _wildcard_resource(resource: Any) -> bool:
    if not isinstance(resource, str):
        return False
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return "*" in resource
    # arn:aws:bedrock:*:*:* and the like name no model: as broad as "*".
    return set(parts[5]) <= {"*"}


def _bedrock_action(action: str) -> bool:
    service, _, _ = action.partition(":")
    return action == "*" or fnmatch.fnmatchcase("bedrock", service.lower())


def _every_bedrock_action(action: str) -> bool:
    service, _, operation = action.partition(":")
    return action == "*" or (fnmatch.fnmatchcase("bedrock", service.lower()) and set(operation) <= {"*"})


def policy_document_findings(label: str, document: Any) -> Findings:
    """Statements of one IAM policy document that grant Bedrock too broadly."""
    found = Findings()
    if isinstance(document, Unknown):
        found.undecided.append(document)
        return found
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            found.violations.append(f"{label} has a policy document that is not valid JSON ({error.msg}).")
            return found
    if not isinstance(document, Mapping):
        found.violations.append(f"{label} has a policy document that is not a JSON object.")
        return found
    statements = document.get("Statement")
    for index, statement in enumerate(_strings(statements)):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        where = f"{label}, statement {statement.get('Sid') or index}"
        actions = [a for a in _strings(statement.get("Action")) if isinstance(a, str)]
        not_actions = [a for a in _strings(statement.get("NotAction")) if isinstance(a, str)]
        if "NotAction" in statement and not any(_every_bedrock_action(a) for a in not_actions):
            found.violations.append(
                f"{where}: Allow with NotAction grants every action not listed, Bedrock's included; "
                "list the Bedrock actions instead."
            )
            continue
        broad = sorted({a for a in actions if _every_bedrock_action(a)})
        if broad:
            found.violations.append(
                f"{where} grants {', '.join(repr(a) for a in broad)}; grant only the Bedrock actions needed "
                "(bedrock:InvokeModelWithResponseStream for ConverseStream)."
            )
            continue
        bedrock = sorted({a for a in actions if _bedrock_action(a)})
        resources = _strings(statement.get("Resource"))
        if bedrock and ("NotResource" in statement or any(_wildcard_resource(r) for r in resources)):
            found.violations.append(
                f"{where} grants {', '.join(repr(a) for a in bedrock)} on every resource; name the model and "
                "inference-profile ARNs."
            )
    return found


_IAM_LABELS = {
    IAM_POLICY: "IAM policy",
    IAM_ROLE_POLICY: "IAM role policy",
    IAM_USER_POLICY: "IAM user policy",
    IAM_GROUP_POLICY: "IAM group policy",
}


def managed_policy_findings(label: str, arns: Any) -> Findings:
    """Attached AWS managed policies that grant bedrock:* on every resource (their documents are not in the stack)."""
    found = Findings()
    if isinstance(arns, Unknown):
        found.undecided.append(arns)
        return found
    for arn in _strings(arns):
        if isinstance(arn, Unknown):
            found.undecided.append(arn)
            continue
        if not isinstance(arn, str):
            continue
        parts = arn.split(":", 5)
        policy_name = parts[5].rsplit("/", 1)[-1] if len(parts) == 6 else ""
        if parts[0] == "arn" and parts[2:5] == ["iam", "", "aws"] and policy_name in BROAD_MANAGED_POLICIES:
            found.violations.append(
                f"{label} attaches the AWS managed policy {policy_name}, which grants bedrock:* on every resource; "
                "attach a policy that allows only bedrock:InvokeModelWithResponseStream on the model and "
                "inference-profile ARNs."
            )
    return found


def check_iam_bedrock_scope(resource_type: str, name: str, props: Mapping[str, Any]) -> Findings:
    """No IAM policy (standalone, inline, a role's inlinePolicies, or an attached AWS managed policy) grants Bedrock
    with wildcards."""
    found = Findings()
    if resource_type in _IAM_LABELS:
        found.extend(policy_document_findings(_label(_IAM_LABELS[resource_type], name), props.get("policy")))
    elif resource_type in IAM_ATTACHMENTS:
        found.extend(managed_policy_findings(_label(IAM_ATTACHMENTS[resource_type], name), props.get("policyArn")))
    elif resource_type == IAM_ROLE:
        found.extend(managed_policy_findings(_label("IAM role", name), props.get("managedPolicyArns")))
        inline = props.get("inlinePolicies")
        if isinstance(inline, Unknown):
            found.undecided.append(inline)
            return found
        for index, entry in enumerate(_strings(inline)):
            if isinstance(entry, Unknown):
                found.undecided.append(entry)
                continue
            if not isinstance(entry, Mapping) or entry.get("policy") is None:
                continue
            policy_name = entry.get("name")
            shown = policy_name if isinstance(policy_name, str) else f"#{index}"
            label = f"{_label('IAM role', name)} inline policy {shown!r}"
            found.extend(policy_document_findings(label, entry.get("policy")))
    return found


# --- stack rules (outputs of all resources) -------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One resource of the stack as plain data; ``deps`` maps a property to the URNs it was computed from."""

    resource_type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    deps: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)


def node_from_policy_resource(resource: PolicyResource) -> Node:
    deps = {key: frozenset(dep.urn for dep in value) for key, value in resource.property_dependencies.items()}
    return Node(resource.resource_type, resource.name, resource.urn, plain(resource.props), deps)


class StackView:
    """Resources of one stack and the links between them (API -> method -> integration -> function ...)."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = list(nodes)

    def of_type(self, resource_type: str) -> Iterator[Node]:
        return (node for node in self.nodes if node.resource_type == resource_type)

    @staticmethod
    def refers(source: Node, prop: str, target: Node, target_prop: str = "id") -> Any:
        """Whether ``source.prop`` points at ``target``: True, False, or the Unknown that prevents telling."""
        if target.urn in source.deps.get(prop, frozenset()):
            return True
        value, key = source.get(prop), target.get(target_prop)
        if isinstance(value, Unknown):
            return value
        if isinstance(key, Unknown):
            return key
        return value is not None and key is not None and value == key

    def streaming_integrations(self, found: Findings) -> list[Node]:
        result = []
        for node in self.of_type(INTEGRATION):
            stream = _is_stream(node.props)
            if isinstance(stream, Unknown):
                found.undecided.append(stream)
            elif stream:
                result.append(node)
        return result

    def linked(
        self, source: Node, prop: str, resource_type: str, found: Findings, target_prop: str = "id"
    ) -> list[Node]:
        """Resources of ``resource_type`` that ``source.prop`` refers to; unknown links are noted, not guessed."""
        result = []
        undecided: list[Unknown] = []
        for target in self.of_type(resource_type):
            link = self.refers(source, prop, target, target_prop)
            if isinstance(link, Unknown):
                undecided.append(link)
            elif link:
                result.append(target)
        if not result and undecided:
            found.undecided.append(undecided[0])
        return result

    def function_of(self, integration: Node, found: Findings) -> list[Node]:
        """The Lambda functions an integration's uri was built from (dependency, or the ARN inside the uri)."""
        result = []
        uri = integration.get("uri")
        for function in self.of_type(FUNCTION):
            if function.urn in integration.deps.get("uri", frozenset()):
                result.append(function)
                continue
            arn = function.get("arn")
            if isinstance(uri, str) and isinstance(arn, str) and f"/functions/{arn}/" in uri:
                result.append(function)
        if not result and isinstance(uri, Unknown):
            found.undecided.append(uri)
        return result

    def resource_path(self, source: Node, found: Findings) -> Any:
        """The resource path ("/stream") a method or integration sits on, or Unknown, or None if not found."""
        for api in self.linked(source, "restApi", REST_API, Findings()):
            if self.refers(source, "resourceId", api, "rootResourceId") is True:
                return "/"
        for resource in self.linked(source, "resourceId", RESOURCE, found):
            return resource.get("path")
        return None

    def same_method(self, method: Node, integration: Node) -> Any:
        """Whether an integration belongs to a method (same API, resource and HTTP method)."""
        if _upper(method.get("httpMethod")) != _upper(integration.get("httpMethod")):
            return False
        for prop in ("restApi", "resourceId"):
            mine, theirs = method.get(prop), integration.get(prop)
            shared = method.deps.get(prop, frozenset()) & integration.deps.get(prop, frozenset())
            if shared:
                continue
            for value in (mine, theirs):
                if isinstance(value, Unknown):
                    return value
            if mine is None or mine != theirs:
                return False
        return True

    def apis_of(self, integration: Node, found: Findings) -> list[Node]:
        return self.linked(integration, "restApi", REST_API, found)


def _endpoint_findings(view: StackView, found: Findings, report: Callable[[str, str], None]) -> None:
    seen: set[str] = set()
    for integration in view.streaming_integrations(found):
        for api in view.apis_of(integration, found):
            if api.urn in seen:
                continue
            seen.add(api.urn)
            config = api.get("endpointConfiguration")
            if isinstance(config, Unknown):
                found.undecided.append(config)
                continue
            types = config.get("types") if isinstance(config, Mapping) else None
            if isinstance(types, Unknown):
                found.undecided.append(types)
                continue
            values = [_upper(t) for t in _strings(types)] or [DEFAULT_ENDPOINT_TYPE]
            if any(isinstance(t, Unknown) for t in values):
                found.undecided.extend(t for t in values if isinstance(t, Unknown))
                continue
            if not all(t in STREAMING_ENDPOINT_TYPES for t in values):
                report(
                    f"{_label('REST API', api.name)} carries the STREAM {_label('integration', integration.name)} "
                    f"but its endpoint type is {'/'.join(map(str, values))}; use REGIONAL or PRIVATE "
                    "(EDGE endpoints cut a stream after 30 seconds without bytes).",
                    api.urn,
                )


def _function_timeout_findings(view: StackView, found: Findings, report: Callable[[str, str], None]) -> None:
    for integration in view.streaming_integrations(found):
        timeout_ms = _timeout_ms(integration.props)
        if isinstance(timeout_ms, Unknown):
            found.undecided.append(timeout_ms)
            continue
        for function in view.function_of(integration, found):
            timeout_s = function.get("timeout")
            timeout_s = DEFAULT_LAMBDA_TIMEOUT_S if timeout_s is None else timeout_s
            if isinstance(timeout_s, Unknown):
                found.undecided.append(timeout_s)
                continue
            if not isinstance(timeout_s, (int, float)) or timeout_s * 1000 < timeout_ms:
                report(
                    f"{_label('Lambda function', function.name)} has timeout {_number(timeout_s)} s, shorter than "
                    f"the {_number(timeout_ms)} ms of the STREAM {_label('integration', integration.name)} that "
                    "calls it; the stream would end early. Set the function timeout to at least "
                    f"{-(-int(timeout_ms) // 1000)} s.",
                    function.urn,
                )


def _is_public(method: Node) -> Any:
    """True/False, or the Unknown that keeps us from telling (API-key-only methods are not public)."""
    authorization, key_required = method.get("authorization"), method.get("apiKeyRequired")
    for value in (authorization, key_required):
        if isinstance(value, Unknown):
            return value
    return _upper(authorization) == "NONE" and key_required is not True


def _tag_declares_public(api: Node) -> bool:
    for key in ("tags", "tagsAll"):
        tags = api.get(key)
        if not isinstance(tags, Mapping):
            continue
        if str(tags.get(PUBLIC_TAG, "")).lower() == "true" or str(tags.get(AUTH_TAG, "")).lower() == "none":
            return True
    return False


def _public_method_findings(
    view: StackView, found: Findings, report: Callable[[str, str], None], declared: Sequence[str]
) -> None:
    for method in view.of_type(METHOD):
        public = _is_public(method)
        if isinstance(public, Unknown):
            found.undecided.append(public)
            continue
        if not public:
            continue
        http_method = _upper(method.get("httpMethod"))
        integrations = [i for i in view.of_type(INTEGRATION) if view.same_method(method, i) is True]
        # A CORS preflight answered by API Gateway itself (MOCK) runs no code and must be open: browsers
        # never send credentials on OPTIONS.
        if http_method == "OPTIONS" and integrations and all(_upper(i.get("type")) == "MOCK" for i in integrations):
            continue
        apis = view.linked(method, "restApi", REST_API, found)
        if any(_tag_declares_public(api) for api in apis):
            continue
        path = view.resource_path(method, found)
        if isinstance(path, Unknown) and any(entry.startswith("/") or " /" in entry for entry in declared):
            # A path declaration cannot be matched before the path is known (first preview).
            found.undecided.append(path)
            continue
        names = {method.name, method.urn}
        if isinstance(path, str):
            names |= {path, f"{http_method} {path}"}
        if names & set(declared):
            continue
        where = f"{http_method} {path}" if isinstance(path, str) else str(http_method)
        report(
            f"{_label('Method', method.name)} ({where}) has authorization NONE and needs no API key, so anyone can "
            f"call it. If that is intended, declare it: tag the REST API {PUBLIC_TAG}=true (the component tags "
            f"{AUTH_TAG}=none when auth is none), or list "
            f"'{method.name}' or '{where}' in this policy's '{PUBLIC_METHODS_CONFIG}' config.",
            method.urn,
        )


def _throttled(block: Any, rate_key: str, burst_key: str, allow_zero: bool) -> Any:
    """Whether a throttle block sets both limits (0 counts only with ``allow_zero``); or the blocking Unknown."""
    if isinstance(block, Unknown):
        return block
    if isinstance(block, list):  # some provider versions model the block as a one-item list
        block = block[0] if block else None
    if not isinstance(block, Mapping):
        return False
    rate, burst = block.get(rate_key), block.get(burst_key)
    for value in (rate, burst):
        if isinstance(value, Unknown):
            return value
    return all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and (v > 0 or (allow_zero and v == 0))
        for v in (rate, burst)
    )


def _throttled_settings(settings: Any) -> Any:
    # -1 is the provider's "throttling disabled"; 0 is a (closed) limit.
    return _throttled(settings, "throttlingRateLimit", "throttlingBurstLimit", allow_zero=True)


def _throttled_plan(plan: Any) -> Any:
    throttle = plan.get("throttleSettings") if isinstance(plan, Mapping) else None
    return _throttled(throttle, "rateLimit", "burstLimit", allow_zero=False)


def _stage_throttle_findings(view: StackView, found: Findings, report: Callable[[str, str], None]) -> None:
    for api in view.of_type(REST_API):
        streaming = [
            i
            for i in view.streaming_integrations(Findings())
            if any(linked.urn == api.urn for linked in view.apis_of(i, Findings()))
        ]
        if not streaming:
            continue
        stream_methods = [m for m in view.of_type(METHOD) for i in streaming if view.same_method(m, i) is True]
        method_paths = {"*/*"}
        unknown_path: Unknown | None = None
        for integration in streaming:
            path = view.resource_path(integration, Findings())
            if isinstance(path, str):
                method_paths.add(f"{path.lstrip('/') or '~1'}/{_upper(integration.get('httpMethod'))}")
            elif isinstance(path, Unknown):
                unknown_path = path
        for stage in view.of_type(STAGE):
            on_api = view.refers(stage, "restApi", api)
            if isinstance(on_api, Unknown):
                found.undecided.append(on_api)
                continue
            if not on_api:
                continue
            verdict = _stage_is_throttled(view, api, stage, method_paths, unknown_path, stream_methods)
            if isinstance(verdict, Unknown):
                found.undecided.append(verdict)
            elif not verdict:
                report(
                    f"{_label('Stage', str(stage.get('stageName') or stage.name))} of {_label('REST API', api.name)} "
                    "serves a STREAM integration without throttling: add aws.apigateway.MethodSettings on the stage "
                    "(method_path '*/*', throttling_rate_limit and throttling_burst_limit >= 0), or a usage plan "
                    "with throttle settings when every streaming method requires an API key.",
                    stage.urn,
                )


def _stage_is_throttled(
    view: StackView,
    api: Node,
    stage: Node,
    method_paths: set[str],
    unknown_path: Unknown | None,
    stream_methods: list[Node],
) -> Any:
    """True, False, or the Unknown that keeps us from telling (``unknown_path``: a streaming resource path
    not known yet, so a method-specific MethodSettings cannot be matched under preview)."""
    pending: Unknown | None = None
    for settings in view.of_type(METHOD_SETTINGS):
        links = (view.refers(settings, "restApi", api), view.refers(settings, "stageName", stage, "stageName"))
        if any(link is False for link in links):
            continue
        path = settings.get("methodPath")
        throttled = _throttled_settings(settings.get("settings"))
        for value in (*links, path, throttled):
            if isinstance(value, Unknown):
                pending = pending or value
        if all(link is True for link in links) and throttled is True:
            if path in method_paths:
                return True
            if unknown_path is not None and isinstance(path, str):
                pending = pending or unknown_path
    # Usage plans only meter requests that carry an API key, so they count only when every streaming method
    # demands one.
    keyed = bool(stream_methods) and all(m.get("apiKeyRequired") is True for m in stream_methods)
    if keyed:
        for plan in view.of_type(USAGE_PLAN):
            stages = plan.get("apiStages")
            deps = plan.deps.get("apiStages", frozenset())
            throttled = _throttled_plan(plan.props)
            for entry in _strings(stages) if not isinstance(stages, Unknown) else []:
                if not isinstance(entry, Mapping):
                    continue
                api_ok = api.urn in deps or (entry.get("apiId") is not None and entry.get("apiId") == api.get("id"))
                stage_ok = entry.get("stage") == stage.get("stageName") and not isinstance(entry.get("stage"), Unknown)
                if isinstance(entry.get("stage"), Unknown) and stage.urn in deps:
                    stage_ok = True
                if api_ok and stage_ok and throttled is True:
                    return True
                if isinstance(throttled, Unknown):
                    pending = pending or throttled
            if isinstance(stages, Unknown):
                pending = pending or stages
    return pending if pending is not None else False


# --- pulumi_policy adapters -----------------------------------------------------------------------------------


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
    (*_IAM_LABELS, *IAM_ATTACHMENTS, IAM_ROLE),
    check_iam_bedrock_scope,
)

stream_api_endpoint = _stack_policy(
    "stream-api-regional-endpoint",
    "A REST API with a STREAM integration must use a REGIONAL or PRIVATE endpoint.",
    lambda view, found, report, _config: _endpoint_findings(view, found, report),
)

stream_function_timeout = _stack_policy(
    "stream-function-timeout-covers-integration",
    "The Lambda function behind a STREAM integration must have a timeout at least as long as the integration's.",
    lambda view, found, report, _config: _function_timeout_findings(view, found, report),
)

stream_stage_throttled = _stack_policy(
    "stream-stage-throttled",
    "A stage that serves a STREAM integration must have throttling set.",
    lambda view, found, report, _config: _stage_throttle_findings(view, found, report),
)

public_method_declared = _stack_policy(
    "public-method-declared",
    "A method without authorization or API key must be declared public.",
    lambda view, found, report, config: _public_method_findings(view, found, report, _declared_public(config)),
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

RESOURCE_POLICIES: list[ResourceValidationPolicy] = [
    stream_integration_type,
    stream_integration_uri,
    integration_timeout,
    iam_bedrock_scope,
]
STACK_POLICIES: list[StackValidationPolicy] = [
    stream_api_endpoint,
    stream_function_timeout,
    stream_stage_throttled,
    public_method_declared,
]
ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [*RESOURCE_POLICIES, *STACK_POLICIES]
