"""Bedrock guardrails in the stand-in: the ``guardrailConfig`` rules, and an intervention on a marker (pure).

Validation follows botocore's bedrock-runtime model (shape ``GuardrailStreamConfiguration``): the identifier is a
guardrail id (``[a-z0-9]+``) or ARN, the version a number or ``DRAFT``, ``streamProcessingMode`` ``sync`` or
``async``, ``trace`` ``enabled``, ``disabled`` or ``enabled_full``; Bedrock answers anything else with a
ValidationException (``ValueError`` here, mapped by the server).

Emulated intervention: when a request carries ``guardrailConfig`` and its last user turn contains
:data:`GUARDRAIL_MARKER`, the guardrail blocks the input the way Bedrock reports it on ConverseStream: the
guardrail's blocked-input message as the only text, ``stopReason: guardrail_intervened``, and (with ``trace``
enabled) ``metadata.trace.guardrail`` holding the input assessment (Bedrock user guide, "Use a guardrail with the
Converse API"; ConverseStream API reference, ``ConverseStreamTrace``). Without ``guardrailConfig`` the marker is
plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streaming_bedrock_local.bedrock_standin import StandinAnswer

GUARDRAIL_MARKER = "[guardrail:block]"
BLOCKED_MESSAGE = "[stand-in guardrail] Sorry, the guardrail blocked this request."
_IDENTIFIER = re.compile(r"^(([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))$")
_VERSION = re.compile(r"^(([1-9][0-9]{0,7})|(DRAFT))$")
_MODES = ("sync", "async")
_TRACES = ("enabled", "disabled", "enabled_full")


def check_guardrail_config(body: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` (ValidationException) for a ``guardrailConfig`` Bedrock would refuse."""
    if "guardrailConfig" not in body:
        return
    config = body["guardrailConfig"]
    if not isinstance(config, dict):
        raise ValueError("guardrailConfig must be an object")
    identifier = config.get("guardrailIdentifier")
    version = config.get("guardrailVersion")
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier):
        raise ValueError("guardrailConfig.guardrailIdentifier is not a guardrail id or ARN")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ValueError("guardrailConfig.guardrailVersion must be a version number or DRAFT")
    if config.get("streamProcessingMode", "sync") not in _MODES:
        raise ValueError("guardrailConfig.streamProcessingMode must be sync or async")
    if config.get("trace", "disabled") not in _TRACES:
        raise ValueError("guardrailConfig.trace must be enabled, disabled or enabled_full")


def _last_user_text(body: Mapping[str, Any]) -> str:
    messages = body.get("messages") or []
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return ""
    content = users[-1].get("content") or []
    return "\n".join(b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))


def apply_guardrail(body: Mapping[str, Any], answer: StandinAnswer) -> StandinAnswer:
    """``answer``, or the guardrail's intervention when the request is guarded and carries the marker."""
    config = body.get("guardrailConfig")
    if not isinstance(config, dict) or GUARDRAIL_MARKER not in _last_user_text(body):
        return answer
    trace = None
    if config.get("trace", "disabled") != "disabled":
        assessment = {
            "topicPolicy": {"topics": [{"name": "stand-in-marker", "type": "DENY", "action": "BLOCKED"}]},
        }
        trace = {"inputAssessment": {str(config["guardrailIdentifier"]): assessment}}
    return replace(answer, chunks=(BLOCKED_MESSAGE,), stop_reason="guardrail_intervened", trace=trace)
