"""The Bedrock guardrail the function applies to every ConverseStream call (pure).

Configured by the component through ``GUARDRAIL_IDENTIFIER``, ``GUARDRAIL_VERSION``,
``GUARDRAIL_STREAM_PROCESSING_MODE`` (``sync``/``async``) and ``GUARDRAIL_TRACE`` (``disabled``/``enabled``/
``enabled_full``); the call carries ``guardrailConfig`` with exactly these (ConverseStream API reference,
``GuardrailStreamConfiguration``).

When the guardrail intervenes, Bedrock ends the message with ``stopReason: guardrail_intervened`` (after the
guardrail's blocked-message text, if any): the relay passes that on as the SSE ``done`` event's stop reason. With
tracing on, the ``metadata`` event carries ``trace.guardrail`` (the assessments); SSE clients get it as a
``guardrail`` event before ``done``. It describes the assessment of their own request and of the answer, so it goes
to the caller only, never into the function's logs.

Async mode streams text before the guardrail has checked it, so the client may already have received what the
guardrail then blocks, and it cannot mask PII (Bedrock user guide, guardrails with streaming).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STREAM_PROCESSING_MODES = ("sync", "async")
TRACE_MODES = ("disabled", "enabled", "enabled_full")


@dataclass(frozen=True)
class GuardrailConfig:
    identifier: str
    version: str
    stream_processing_mode: str = "sync"
    trace: str = "disabled"

    @property
    def traced(self) -> bool:
        return self.trace != "disabled"


def load_guardrail(env: Mapping[str, str]) -> GuardrailConfig | None:
    """The guardrail from the environment, None without one; ``ValueError`` naming the variable when partial."""
    identifier = env.get("GUARDRAIL_IDENTIFIER", "").strip()
    version = env.get("GUARDRAIL_VERSION", "").strip()
    if not identifier and not version:
        return None
    if not identifier or not version:
        raise ValueError("GUARDRAIL_IDENTIFIER and GUARDRAIL_VERSION must be set together")
    mode = env.get("GUARDRAIL_STREAM_PROCESSING_MODE", "").strip() or "sync"
    if mode not in STREAM_PROCESSING_MODES:
        raise ValueError(f"GUARDRAIL_STREAM_PROCESSING_MODE must be sync or async, got {mode!r}")
    trace = env.get("GUARDRAIL_TRACE", "").strip() or "disabled"
    if trace not in TRACE_MODES:
        raise ValueError(f"GUARDRAIL_TRACE must be one of {', '.join(TRACE_MODES)}, got {trace!r}")
    return GuardrailConfig(identifier, version, mode, trace)


def with_guardrail(arguments: Mapping[str, Any], guardrail: GuardrailConfig | None) -> dict[str, Any]:
    """ConverseStream ``arguments`` plus ``guardrailConfig`` (unchanged without a guardrail)."""
    if guardrail is None:
        return dict(arguments)
    config = {
        "guardrailIdentifier": guardrail.identifier,
        "guardrailVersion": guardrail.version,
        "streamProcessingMode": guardrail.stream_processing_mode,
        "trace": guardrail.trace,
    }
    return {**arguments, "guardrailConfig": config}


def guardrail_trace(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``trace.guardrail`` of a ``metadata`` stream event, if there is one."""
    metadata = event.get("metadata")
    trace = metadata.get("trace") if isinstance(metadata, Mapping) else None
    guardrail = trace.get("guardrail") if isinstance(trace, Mapping) else None
    return guardrail if isinstance(guardrail, Mapping) else None
