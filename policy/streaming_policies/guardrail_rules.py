"""Require a Bedrock guardrail on model invocation (pure rule; the policy is off unless a stack turns it on).

A guardrail is only enforced if IAM enforces it: a statement that allows ``bedrock:InvokeModel`` or
``bedrock:InvokeModelWithResponseStream`` (what Converse/ConverseStream need) without a
``bedrock:GuardrailIdentifier`` condition lets the caller skip the guardrail (Bedrock user guide, "Enforce the use of
specific guardrails in model inference requests"). With ``guardrailIdentifiers`` in the policy's config, the
condition must name one of those guardrails (ids or ARNs).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .model import Findings, Unknown, as_list, labelled

GUARDRAIL_CONDITION_KEY = "bedrock:GuardrailIdentifier"
GUARDRAIL_IDENTIFIERS_CONFIG = "guardrailIdentifiers"
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
_GUARDRAIL_ID = re.compile(r"(?:^|guardrail/)([a-z0-9]+)(?::[A-Za-z0-9]+)?$")


def _grants_invoke(action: Any) -> bool:
    if not isinstance(action, str):
        return False
    pattern = action.lower()
    return any(fnmatch.fnmatchcase(invoke.lower(), pattern) for invoke in INVOKE_ACTIONS)


def _guardrail_values(condition: Any) -> list[str] | None:
    """The values the statement's condition requires for bedrock:GuardrailIdentifier, None when it has none."""
    if not isinstance(condition, Mapping):
        return None
    values: list[str] | None = None
    for operator, block in condition.items():
        if not isinstance(block, Mapping) or str(operator).startswith("Null"):
            continue
        for key, value in block.items():
            if str(key).lower() == GUARDRAIL_CONDITION_KEY.lower():
                values = (values or []) + [str(v) for v in as_list(value)]
    return values


def _guardrail_id(value: str) -> str | None:
    match = _GUARDRAIL_ID.search(value)
    return match.group(1) if match else None


def guardrail_findings(label: str, document: Any, allowed: Sequence[str] = ()) -> Findings:
    """Allow statements of one policy document that let a caller invoke a model without the guardrail."""
    found = Findings()
    if isinstance(document, Unknown):
        found.undecided.append(document)
        return found
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return found  # iam-bedrock-least-privilege reports unreadable documents
    if not isinstance(document, Mapping):
        return found
    allowed_ids = {_guardrail_id(entry) or entry for entry in allowed}
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if not any(_grants_invoke(action) for action in as_list(statement.get("Action"))):
            continue
        where = f"{label}, statement {statement.get('Sid') or index}"
        values = _guardrail_values(statement.get("Condition"))
        if not values:
            found.violations.append(
                f"{where} allows invoking Bedrock models without a {GUARDRAIL_CONDITION_KEY} condition, so calls "
                "can skip the guardrail; configure one (StreamingBedrockApi: guardrail {id, version})."
            )
            continue
        strangers = sorted(v for v in values if allowed_ids and _guardrail_id(v) not in allowed_ids)
        if strangers:
            found.violations.append(
                f"{where} allows guardrail(s) {', '.join(strangers)}, not among the configured "
                f"{GUARDRAIL_IDENTIFIERS_CONFIG} ({', '.join(sorted(allowed))})."
            )
    return found


def check_guardrail_required(
    resource_type: str, name: str, props: Mapping[str, Any], allowed: Sequence[str], labels: Mapping[str, str]
) -> Findings:
    """Every IAM policy document of the resource (standalone, inline, or a role's inline policies)."""
    found = Findings()
    if resource_type in labels:
        found.extend(guardrail_findings(labelled(labels[resource_type], name), props.get("policy"), allowed))
        return found
    inline = props.get("inlinePolicies")
    if isinstance(inline, Unknown):
        found.undecided.append(inline)
        return found
    for index, entry in enumerate(as_list(inline)):
        if isinstance(entry, Mapping) and entry.get("policy") is not None:
            shown = entry.get("name") if isinstance(entry.get("name"), str) else f"#{index}"
            label = f"{labelled('IAM role', name)} inline policy {shown!r}"
            found.extend(guardrail_findings(label, entry.get("policy"), allowed))
    return found
