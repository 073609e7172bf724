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


def output_token_limit(model_id: str) -> int | None:
    """The model's largest maxTokens, or None when this table does not know the model."""
    match = _CLAUDE.search(model_id)
    if match is None:
        return None
    return CLAUDE_OUTPUT_LIMITS.get((match.group(1), int(match.group(2)), int(match.group(3) or 0)))
