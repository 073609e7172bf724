"""Fault names for the CLI's ``--fail-before-stream`` / ``--fail-mid-stream`` (pure, no I/O).

One set of spellings works for both options: a short name (``throttle``, ``access-denied``), or Bedrock's
exception name in either case (``ThrottlingException``, ``throttlingException``); dashes, underscores and case
do not matter. Each option then takes the errors Bedrock sends at that point: before the stream, the HTTP
errors of ``ConverseStream`` (botocore's service model, :data:`PRE_STREAM_ERRORS`); inside it, the exception
events of the stream (:data:`MID_STREAM_EXCEPTIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable

from streaming_bedrock_local.bedrock_standin import (
    MID_STREAM_EXCEPTIONS,
    PRE_STREAM_ERRORS,
    BeforeStreamFault,
    Fault,
    MidStreamFault,
)

# Short name for each Bedrock error, keyed by the exception name without its case (one key for both phases).
SHORT_NAMES: dict[str, str] = {
    "throttlingexception": "throttle",
    "validationexception": "validation",
    "serviceunavailableexception": "unavailable",
    "accessdeniedexception": "access-denied",
    "resourcenotfoundexception": "not-found",
    "modeltimeoutexception": "model-timeout",
    "modelerrorexception": "model-error",
    "modelnotreadyexception": "model-not-ready",
    "internalserverexception": "internal",
    "modelstreamerrorexception": "model-stream-error",
}
# Other spellings people type for the same errors.
_ALIASES = {"throttling": "throttle", "throttled": "throttle", "denied": "access-denied", "timeout": "model-timeout"}


class FaultNameError(ValueError):
    """A fault name the option does not take; ``str()`` is one line that lists the accepted names."""


def _key(text: str) -> str:
    return text.strip().lower().replace("-", "").replace("_", "")


def _by_key(names: Iterable[str]) -> dict[str, str]:
    """Every accepted spelling's key → the canonical exception name, for one phase."""
    table: dict[str, str] = {}
    for name in names:
        table[_key(name)] = name
        table[_key(name).removesuffix("exception")] = name
        short = SHORT_NAMES.get(name.lower())
        if short is not None:
            table[_key(short)] = name
    for alias, short in _ALIASES.items():
        for name in names:
            if SHORT_NAMES.get(name.lower()) == short:
                table[_key(alias)] = name
    return table


_BEFORE = _by_key(PRE_STREAM_ERRORS)
_MID = _by_key(MID_STREAM_EXCEPTIONS)


def short_names(phase: str) -> list[str]:
    """The short names one option takes, in a stable order (for ``--help`` and error lines)."""
    names = PRE_STREAM_ERRORS if phase == "before" else MID_STREAM_EXCEPTIONS
    return sorted({SHORT_NAMES[name.lower()] for name in names}, key=list(SHORT_NAMES.values()).index)


def parse_fault_name(text: str, phase: str) -> str:
    """The canonical exception name for ``text`` in ``phase`` ("before" or "mid"), or :class:`FaultNameError`."""
    table, other = (_BEFORE, _MID) if phase == "before" else (_MID, _BEFORE)
    option = "--fail-before-stream" if phase == "before" else "--fail-mid-stream"
    found = table.get(_key(text))
    if found is not None:
        return found
    accepted = ", ".join(short_names(phase))
    if _key(text) in other:
        where = "inside a stream" if phase == "before" else "before a stream starts"
        raise FaultNameError(
            f"{option}: Bedrock sends {other[_key(text)]} only {where}; this option takes {accepted} "
            "(or their exception names)"
        )
    raise FaultNameError(f"{option}: unknown error {text!r}; use one of {accepted} (or their exception names)")


def build_fault(before: str | None, mid: str | None, after_tokens: int | None) -> Fault | None:
    """The stand-in fault the CLI options ask for; :class:`FaultNameError` for combinations that make no sense."""
    if before and mid:
        raise FaultNameError("--fail-before-stream and --fail-mid-stream cannot be combined; pick one")
    if after_tokens is not None and not mid:
        raise FaultNameError("--fail-after-tokens only applies with --fail-mid-stream (it says when the stream breaks)")
    if before:
        return BeforeStreamFault(parse_fault_name(before, "before"))
    if mid:
        tokens = 5 if after_tokens is None else after_tokens
        if tokens < 0:
            raise FaultNameError("--fail-after-tokens must be 0 or more")
        return MidStreamFault(parse_fault_name(mid, "mid"), after_deltas=tokens)
    return None


def describe_fault(fault: Fault) -> str:
    """The fault in words, for the start banner."""
    if isinstance(fault, BeforeStreamFault):
        return f"every request fails before streaming with {fault.error_type} (HTTP {fault.status})"
    tokens = "token" if fault.after_deltas == 1 else "tokens"
    return f"every stream breaks after {fault.after_deltas} {tokens} with {fault.exception_type}"
