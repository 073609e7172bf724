"""The largest ``maxTokens`` a model accepts (pure), so ``max_tokens`` above it fails at preview.

The function asks for ``max_tokens`` (the cap) whenever a request names none, so a cap above the model's output
limit would make every such request fail with Bedrock's ``ValidationException: The maximum tokens you requested
exceeds the model limit of N``. Limits: Anthropic's "Models overview" (max output) and the Bedrock model cards,
e.g. "Claude Haiku 4.5 ... Max output tokens: 64K"
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-haiku-4-5.html).
Models not listed are not checked.
"""

from __future__ import annotations

import re

CLAUDE_OUTPUT_LIMITS: dict[tuple[str, int, int], int] = {
    ("haiku", 4, 5): 64_000,
    ("sonnet", 4, 0): 64_000,
    ("sonnet", 4, 5): 64_000,
    ("sonnet", 4, 6): 64_000,
    ("opus", 4, 0): 32_000,
    ("opus", 4, 1): 32_000,
    ("opus", 4, 5): 64_000,
    ("opus", 4, 6): 128_000,
}
_CLAUDE = re.compile(r"(?:^|\.)anthropic\.claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2})(?=-|:|$))?")


def claude_model(model_id: str) -> tuple[str, int, int] | None:
    """('haiku', 4, 5) for 'jp.anthropic.claude-haiku-4-5-20251001-v1:0'; None for other models."""
    match = _CLAUDE.search(model_id)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3) or 0)


def output_token_limit(model_id: str) -> int | None:
    """The model's largest maxTokens, or None when this table does not know the model (the local Bedrock
    stand-in enforces the same table)."""
    model = claude_model(model_id)
    return None if model is None else CLAUDE_OUTPUT_LIMITS.get(model)
