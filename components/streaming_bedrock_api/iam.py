"""IAM policy documents for the function's role, as pure functions of the model ids and the stack's account.

The Bedrock policy grants only ``bedrock:InvokeModelWithResponseStream`` (the action behind ConverseStream) on
exactly the resources each configured model id resolves to:

- a bare foundation-model id (``anthropic.claude-...``) → that model's ARN in the stack's region;
- a geographic cross-Region inference profile (``us.``, ``eu.``, ``jp.``, ``apac.``, ``au.``, ``ca.``, ...) → the
  profile ARN in the stack's region and account, plus the foundation model in any region, allowed only when the
  call goes through that profile (``bedrock:InferenceProfileArn``), because the profile routes to regions we do not
  list here;
- a ``global.`` profile → as the Bedrock user guide (global-cross-region-inference) documents: the profile ARN, the
  regional foundation models through that profile, and the region-less foundation-model ARN with
  ``aws:RequestedRegion = "unspecified"``.

No statement uses ``Resource: "*"`` or ``bedrock:*``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .guardrail_spec import GuardrailSpec

BEDROCK_ACTIONS: tuple[str, ...] = ("bedrock:InvokeModelWithResponseStream",)
APPLY_GUARDRAIL_ACTION = "bedrock:ApplyGuardrail"
GUARDRAIL_CONDITION_KEY = "bedrock:GuardrailIdentifier"
# Prefixes of the system-defined cross-Region inference profiles (geographies, plus "global").
GEOGRAPHIC_PROFILE_PREFIXES: tuple[str, ...] = ("us", "eu", "jp", "apac", "au", "ca", "us-gov", "sa", "in")
GLOBAL_PROFILE_PREFIX = "global"

ModelKind = Literal["foundation-model", "geographic-profile", "global-profile"]


@dataclass(frozen=True)
class ModelTarget:
    """What a configured model id names: its kind, the underlying foundation model and the profile id if any."""

    kind: ModelKind
    foundation_model_id: str
    profile_id: str | None


def classify_model_id(model_id: str) -> ModelTarget:
    """Tell a bare foundation-model id from a geographic or global inference profile id."""
    prefix, dot, rest = model_id.partition(".")
    if dot and rest and prefix == GLOBAL_PROFILE_PREFIX:
        return ModelTarget("global-profile", rest, model_id)
    # Foundation-model ids are "provider.model" (one dot before the version); a profile adds a geography in
    # front, so a second dot also marks a profile whose prefix is newer than the list above.
    if dot and rest and (prefix in GEOGRAPHIC_PROFILE_PREFIXES or "." in rest.split(":", 1)[0]):
        return ModelTarget("geographic-profile", rest, model_id)
    return ModelTarget("foundation-model", model_id, None)


def _statement(sid: str, resources: list[str], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(BEDROCK_ACTIONS),
        "Resource": resources,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _sid(prefix: str, index: int) -> str:
    # Sids must be alphanumeric; an index keeps them unique and stable across model lists.
    return f"{prefix}{index}"


def bedrock_policy_document(
    model_ids: Iterable[str], region: str, account: str, partition: str = "aws", guardrail: GuardrailSpec | None = None
) -> dict[str, Any]:
    """The least-privilege Bedrock policy for ``model_ids`` used from ``region`` in ``account``; with ``guardrail``
    every invoke statement requires it and the role may apply it (:func:`require_guardrail`)."""
    ids = list(dict.fromkeys(model_ids))
    if not ids:
        raise ValueError("model_ids: at least one model id is needed")
    for label, value in (("region", region), ("account", account), ("partition", partition)):
        if not value:
            raise ValueError(f"{label}: must not be empty")
    statements: list[dict[str, Any]] = []
    for index, model_id in enumerate(ids):
        target = classify_model_id(model_id)
        model = target.foundation_model_id
        if target.profile_id is None:
            statements.append(
                _statement(
                    _sid("FoundationModel", index),
                    [f"arn:{partition}:bedrock:{region}::foundation-model/{model}"],
                )
            )
            continue
        profile_arn = f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{target.profile_id}"
        through_profile = {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}
        statements.append(_statement(_sid("InferenceProfile", index), [profile_arn]))
        statements.append(
            _statement(
                _sid("ProfileModels", index),
                [f"arn:{partition}:bedrock:*::foundation-model/{model}"],
                through_profile,
            )
        )
        if target.kind == "global-profile":
            statements.append(
                _statement(
                    _sid("GlobalModel", index),
                    [f"arn:{partition}:bedrock:::foundation-model/{model}"],
                    {
                        "StringEquals": {
                            "aws:RequestedRegion": "unspecified",
                            "bedrock:InferenceProfileArn": profile_arn,
                        }
                    },
                )
            )
    if guardrail is not None:
        statements = require_guardrail(statements, guardrail, region, account, partition)
    return {"Version": "2012-10-17", "Statement": statements}


def require_guardrail(
    statements: list[dict[str, Any]], guardrail: GuardrailSpec, region: str, account: str, partition: str
) -> list[dict[str, Any]]:
    """Condition every invoke statement on ``bedrock:GuardrailIdentifier`` and allow ``bedrock:ApplyGuardrail`` on
    that guardrail only (guardrail_spec.py cites the formats)."""
    value = guardrail.identifier_condition(region, account, partition)
    conditioned = []
    for statement in statements:
        condition = {key: dict(block) for key, block in statement.get("Condition", {}).items()}
        condition.setdefault("StringEquals", {})[GUARDRAIL_CONDITION_KEY] = value
        conditioned.append({**statement, "Condition": condition})
    conditioned.append(
        {
            "Sid": "ApplyGuardrail",
            "Effect": "Allow",
            "Action": [APPLY_GUARDRAIL_ACTION],
            "Resource": [guardrail.arn(region, account, partition)],
        }
    )
    return conditioned


def lambda_trust_policy() -> dict[str, Any]:
    """Trust policy that lets only the Lambda service assume the function's role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def logging_policy_document(log_group_arn: str) -> dict[str, Any]:
    """Write access to the function's own log group only (instead of the managed policy's ``logs:*`` on ``*``)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{log_group_arn}:*"],
            }
        ],
    }


def to_json(document: dict[str, Any]) -> str:
    """Canonical JSON for a policy, so an unchanged policy never shows a diff."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
