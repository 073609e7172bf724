"""Rules over one resource's inputs (what a resource policy sees right before a create or update). Pure functions."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

from .model import (
    BROAD_MANAGED_POLICIES,
    IAM_ATTACHMENTS,
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    LAMBDA_URI_MARKER,
    MAX_INTEGRATION_TIMEOUT_MS,
    STREAMING_TYPES,
    STREAMING_URI_SUFFIX,
    Findings,
    Unknown,
    as_list,
    integration_timeout_ms,
    is_stream,
    labelled,
    number_text,
    upper,
)


def check_stream_integration_type(name: str, props: Mapping[str, Any]) -> Findings:
    """A STREAM integration must be a proxy integration (AWS_PROXY or HTTP_PROXY)."""
    found = Findings()
    stream = is_stream(props)
    if isinstance(stream, Unknown):
        found.undecided.append(stream)
        return found
    if not stream:
        return found
    kind = props.get("type")
    if isinstance(kind, Unknown):
        found.undecided.append(kind)
    elif upper(kind) not in STREAMING_TYPES:
        found.violations.append(
            f"{labelled('Integration', name)} sets responseTransferMode STREAM but has type {kind!r}; "
            f"API Gateway streams only {' or '.join(STREAMING_TYPES)} integrations."
        )
    return found


def check_stream_integration_uri(name: str, props: Mapping[str, Any]) -> Findings:
    """An AWS_PROXY STREAM integration must call Lambda's response-streaming invocation path."""
    found = Findings()
    stream = is_stream(props)
    kind = props.get("type")
    for value in (stream, kind):
        if isinstance(value, Unknown):
            found.undecided.append(value)
    if found.undecided or not stream or upper(kind) != "AWS_PROXY":
        return found
    uri = props.get("uri")
    if isinstance(uri, Unknown):
        found.undecided.append(uri)
    elif not isinstance(uri, str) or not (LAMBDA_URI_MARKER in uri and uri.endswith(STREAMING_URI_SUFFIX)):
        found.violations.append(
            f"{labelled('Integration', name)} streams through AWS_PROXY but its uri is {uri!r}; it must be the "
            f"Lambda response-streaming URI (…{LAMBDA_URI_MARKER}<function ARN>{STREAMING_URI_SUFFIX}, "
            "pulumi-aws: Function.response_streaming_invoke_arn). The plain invoke_arn is rejected with STREAM."
        )
    return found


def check_integration_timeout(name: str, props: Mapping[str, Any]) -> Findings:
    """No integration may wait longer than API Gateway's 900000 ms ceiling (reached only with STREAM)."""
    found = Findings()
    timeout = integration_timeout_ms(props)
    if isinstance(timeout, Unknown):
        found.undecided.append(timeout)
    elif not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout > MAX_INTEGRATION_TIMEOUT_MS:
        found.violations.append(
            f"{labelled('Integration', name)} has timeoutMilliseconds {number_text(timeout)}; the most API Gateway "
            f"allows is {MAX_INTEGRATION_TIMEOUT_MS} (15 minutes, STREAM only)."
        )
    return found


# IAM: a Bedrock grant must name models/profiles, never every action or every resource.




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
    for index, statement in enumerate(as_list(statements)):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        where = f"{label}, statement {statement.get('Sid') or index}"
        actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
        not_actions = [a for a in as_list(statement.get("NotAction")) if isinstance(a, str)]
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
        resources = as_list(statement.get("Resource"))
        if bedrock and ("NotResource" in statement or any(_wildcard_resource(r) for r in resources)):
            found.violations.append(
                f"{where} grants {', '.join(repr(a) for a in bedrock)} on every resource; name the model and "
                "inference-profile ARNs."
            )
    return found


IAM_LABELS = {
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
    for arn in as_list(arns):
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
    if resource_type in IAM_LABELS:
        found.extend(policy_document_findings(labelled(IAM_LABELS[resource_type], name), props.get("policy")))
    elif resource_type in IAM_ATTACHMENTS:
        found.extend(managed_policy_findings(labelled(IAM_ATTACHMENTS[resource_type], name), props.get("policyArn")))
    elif resource_type == IAM_ROLE:
        found.extend(managed_policy_findings(labelled("IAM role", name), props.get("managedPolicyArns")))
        inline = props.get("inlinePolicies")
        if isinstance(inline, Unknown):
            found.undecided.append(inline)
            return found
        for index, entry in enumerate(as_list(inline)):
            if isinstance(entry, Unknown):
                found.undecided.append(entry)
                continue
            if not isinstance(entry, Mapping) or entry.get("policy") is None:
                continue
            policy_name = entry.get("name")
            shown = policy_name if isinstance(policy_name, str) else f"#{index}"
            label = f"{labelled('IAM role', name)} inline policy {shown!r}"
            found.extend(policy_document_findings(label, entry.get("policy")))
    return found
