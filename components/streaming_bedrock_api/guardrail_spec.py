"""A Bedrock guardrail the function applies to every call: parsing and the IAM values it needs (pure).

``guardrail: {id, version, stream_processing_mode?, trace?}`` (camelCase in the stack config:
``streamProcessingMode``). The formats are Bedrock's (botocore's bedrock-runtime model, shape ``GuardrailConfiguration``
/ ``GuardrailStreamConfiguration``): the id is the guardrail id (``[a-z0-9]+``) or its ARN; the version a number
(``[1-9][0-9]{0,7}``) or ``DRAFT``; ``stream_processing_mode`` ``sync`` (default) or ``async``; ``trace``
``disabled`` (default), ``enabled`` or ``enabled_full``.

IAM (Bedrock user guide, "Enforce the use of specific guardrails in model inference requests",
https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-id.html): the invoke statements carry
the condition ``bedrock:GuardrailIdentifier`` = ``<guardrail ARN>:<numeric version>`` (the page's first example),
so the role cannot call the model without this guardrail. For ``DRAFT`` no example gives the value's form, so both
the bare ARN and ``<ARN>:DRAFT`` are allowed (either way only this guardrail's draft). ``bedrock:ApplyGuardrail``
is granted on the guardrail's ARN; versions have no ARN of their own ("Deploy your guardrail").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STREAM_PROCESSING_MODES = ("sync", "async")
TRACE_MODES = ("disabled", "enabled", "enabled_full")
_ID = re.compile(r"^[a-z0-9]+$")
_ARN = re.compile(r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+$")
_VERSION = re.compile(r"^([1-9][0-9]{0,7}|DRAFT)$")
_FIELDS = {
    "id": "id",
    "version": "version",
    "stream_processing_mode": "stream_processing_mode",
    "streamProcessingMode": "stream_processing_mode",
    "trace": "trace",
}


class GuardrailSpecError(ValueError):
    """The guardrail setting is invalid; settings turn it into a SettingsError for ``guardrail``."""


@dataclass(frozen=True)
class GuardrailSpec:
    id: str
    version: str
    stream_processing_mode: str = "sync"
    trace: str = "disabled"

    def arn(self, region: str, account: str, partition: str = "aws") -> str:
        """The guardrail's ARN (as given when the id is one)."""
        if self.id.startswith("arn:"):
            return self.id
        return f"arn:{partition}:bedrock:{region}:{account}:guardrail/{self.id}"

    def identifier_condition(self, region: str, account: str, partition: str = "aws") -> str | list[str]:
        """The ``bedrock:GuardrailIdentifier`` value(s) an invoke statement requires."""
        arn = self.arn(region, account, partition)
        if self.version == "DRAFT":
            return [arn, f"{arn}:DRAFT"]
        return f"{arn}:{self.version}"


def parse_guardrail(value: Any) -> GuardrailSpec | None:
    """``None`` or an empty mapping: no guardrail."""
    if value is None or (isinstance(value, Mapping) and not value):
        return None
    if not isinstance(value, Mapping):
        raise GuardrailSpecError(f"expected an object like {{id: abc123, version: '1'}}, got {value!r}")
    values: dict[str, Any] = {}
    for key, item in value.items():
        field = _FIELDS.get(str(key))
        if field is None:
            raise GuardrailSpecError(f"unknown field {key!r}; known: id, version, stream_processing_mode, trace")
        if item is not None:
            values[field] = item
    identifier = values.get("id")
    if not isinstance(identifier, str) or not (_ID.match(identifier) or _ARN.match(identifier)):
        raise GuardrailSpecError(f"id: {identifier!r} is not a guardrail id (lowercase letters and digits) or ARN")
    version = values.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not _VERSION.match(version):
        raise GuardrailSpecError(f"version: {version!r} must be a version number such as '1', or 'DRAFT'")
    mode = values.get("stream_processing_mode", "sync")
    if mode not in STREAM_PROCESSING_MODES:
        raise GuardrailSpecError(f"stream_processing_mode: must be 'sync' or 'async', got {mode!r}")
    trace = values.get("trace", "disabled")
    if isinstance(trace, bool):
        trace = "enabled" if trace else "disabled"
    if trace not in TRACE_MODES:
        raise GuardrailSpecError(f"trace: must be one of {', '.join(TRACE_MODES)}, got {trace!r}")
    return GuardrailSpec(identifier, version, str(mode), str(trace))


def guardrail_args(spec: GuardrailSpec | None) -> dict[str, str] | None:
    """A spec back as a component argument."""
    if spec is None:
        return None
    return {"id": spec.id, "version": spec.version, "stream_processing_mode": spec.stream_processing_mode,
            "trace": spec.trace}


def guardrail_environment(spec: GuardrailSpec | None) -> dict[str, str]:
    """The function's GUARDRAIL_* variables (none without a guardrail); on AWS the component replaces
    ``GUARDRAIL_IDENTIFIER`` with the guardrail's ARN (function.py), the local stack keeps the id."""
    if spec is None:
        return {}
    return {
        "GUARDRAIL_IDENTIFIER": spec.id,
        "GUARDRAIL_VERSION": spec.version,
        "GUARDRAIL_STREAM_PROCESSING_MODE": spec.stream_processing_mode,
        "GUARDRAIL_TRACE": spec.trace,
    }
