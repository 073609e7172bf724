"""Extended thinking (opt-in per stack through ``THINKING_BUDGET_TOKENS``): the request field and its rules (pure).

Anthropic's models on Bedrock take ``additionalModelRequestFields = {"thinking": {"type": "enabled",
"budget_tokens": N}}`` (Bedrock user guide, "Extended thinking", claude-messages-extended-thinking). The same
pages set the rules this module checks before any Bedrock call, so a client gets a 400 that names the field
instead of Bedrock's ValidationException:

* ``budget_tokens`` is at least 1,024 and less than ``max_tokens``;
* thinking is not compatible with ``temperature`` or ``top_k`` changes, nor with forced tool use; ``top_p``
  may only be set between 0.95 and 1 (Anthropic, "Building with extended thinking", feature compatibility).
"""

from __future__ import annotations

from typing import Any

MIN_BUDGET_TOKENS = 1024


def thinking_fields(budget_tokens: int) -> dict[str, Any]:
    """The ``additionalModelRequestFields`` that turn extended thinking on."""
    return {"thinking": {"type": "enabled", "budget_tokens": budget_tokens}}


def thinking_conflict(budget_tokens: int, max_tokens: int, temperature: float | None, top_p: float | None,
                      forced_tool: bool = False) -> tuple[str, str] | None:
    """``(field, message)`` when a request cannot be sent with thinking on; None when it can."""
    if max_tokens <= budget_tokens:
        return ("max_tokens", f"with extended thinking (budget {budget_tokens} tokens) 'max_tokens' must be "
                              f"greater than {budget_tokens}")
    if temperature is not None and temperature != 1.0:
        return ("temperature", "extended thinking is on for this API: 'temperature' cannot be changed")
    if top_p is not None and not 0.95 <= top_p <= 1.0:
        return ("top_p", "extended thinking is on for this API: 'top_p' may only be between 0.95 and 1")
    if forced_tool:
        return ("tool_choice", "extended thinking is on for this API: a tool cannot be forced; use 'auto'")
    return None
