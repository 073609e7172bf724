"""The request examples in README.md and function/README.md are requests the reference model accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from bedrock_stream.model_rules import temperature_and_top_p_exclusive
from bedrock_stream.request import Limits, ModelRequest, parse_event

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_MODEL = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"][
    "streaming-bedrock-api:modelId"
]


def readme_requests(readme: Path) -> list[str]:
    """Each request body (a JSON object with 'prompt' or 'messages') in the ```json blocks of ``readme``."""
    documents: list[str] = []
    for block in re.findall(r"```json\n(.*?)```", readme.read_text(), flags=re.DOTALL):
        decoder = json.JSONDecoder()
        text = block.strip()
        while text:
            document, end = decoder.raw_decode(text)
            if isinstance(document, dict) and {"prompt", "messages"} & set(document):
                documents.append(text[:end])
            text = text[end:].strip()
    return documents


EXAMPLES = [(name, body) for name in ("README.md", "function/README.md") for body in readme_requests(ROOT / name)]


def test_both_readmes_show_a_conversation_example() -> None:
    assert sum('"messages"' in body for _, body in EXAMPLES) >= 2


@pytest.mark.parametrize(("readme", "body"), EXAMPLES)
def test_readme_example_is_accepted_for_the_reference_model(readme: str, body: str) -> None:
    assert temperature_and_top_p_exclusive(REFERENCE_MODEL)
    limits = Limits(1_048_576, 4096, temperature_and_top_p_exclusive(REFERENCE_MODEL))
    parsed = parse_event({"httpMethod": "POST", "headers": {}, "body": body}, limits)
    assert isinstance(parsed, ModelRequest), (readme, parsed)
