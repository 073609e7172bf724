"""What a Bedrock model family refuses, decided from the configured model id (pure, no I/O).

Only rules the function needs before it calls Bedrock live here; the local Bedrock stand-in keeps its own,
independent copy (``streaming_bedrock_local.converse_rules``) so that one can catch mistakes in this one.
"""

from __future__ import annotations

import re

# "jp.anthropic.claude-haiku-4-5-20251001-v1:0" -> family "haiku", version (4, 5);
# "anthropic.claude-sonnet-4-20250514-v1:0" -> (4, 0): the minor number is one or two digits followed by '-',
# ':' or the end, so a date (8 digits) is never read as a minor version.
_CLAUDE = re.compile(r"(?:^|\.)anthropic\.claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2})(?=-|:|$))?")


def claude_version(model_id: str) -> tuple[int, int] | None:
    """(major, minor) of a Claude 4-style model id (with or without an inference-profile prefix), else None."""
    match = _CLAUDE.search(model_id)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def temperature_and_top_p_exclusive(model_id: str) -> bool:
    """True when the model rejects ``temperature`` and ``topP`` in one request.

    Claude Opus 4.1 and every later Claude (Sonnet 4.5, Haiku 4.5, Opus 4.5, the 4.6 models, ...) answer
    ``ValidationException: The model returned the following errors: `temperature` and `top_p` cannot both be
    specified for this model. Please use only one.`` Sources: Anthropic's migration guide ("Migrating to Claude
    4.5": use temperature OR top_p, not both), aws-samples/bedrock-access-gateway#191 (Haiku 4.5 through
    ConverseStream), BerriAI/litellm#15070 (Sonnet 4.5), open-webui/pipelines#546 (Opus 4.1). Claude 3.x and
    Claude Sonnet 4 / Opus 4 accept both; so do other providers' models as far as we know.
    """
    version = claude_version(model_id)
    return version is not None and version >= (4, 1)
