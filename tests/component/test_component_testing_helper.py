"""``streaming_bedrock_api.testing``: the README's example test runs as written (extracted from the README), and the
mocks answer what the component asks for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pulumi
from streaming_bedrock_api import StreamingBedrockApi
from streaming_bedrock_api.testing import StreamingBedrockApiMocks

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "components" / "README.md"


def readme_example() -> str:
    """The first ```python block after the unit-test heading of the component README."""
    text = README.read_text()
    section = text[text.index("### Unit-test a program that uses the component"):]
    match = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_example_test_passes_as_written(tmp_path: Path) -> None:
    test_file = tmp_path / "test_infra.py"
    test_file.write_text(readme_example())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(test_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout


def test_the_readme_example_fails_without_the_mocks(tmp_path: Path) -> None:
    # Pulumi's bare mocks: the failure a user met before this helper existed.
    source = readme_example().replace(
        'StreamingBedrockApiMocks(region="eu-west-1", account_id="111122223333")', "BareMocks()"
    )
    source += (
        "\n\nclass BareMocks(pulumi.runtime.Mocks):\n"
        "    def new_resource(self, args):\n        return args.name + '-id', dict(args.inputs)\n"
        "    def call(self, args):\n        return {}, []\n"
    )
    test_file = tmp_path / "test_bare.py"
    test_file.write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert "1 failed" in result.stdout


def test_mocks_answer_the_lookups_and_record_every_child() -> None:
    mocks = StreamingBedrockApiMocks(region="ap-northeast-1")
    pulumi.runtime.set_mocks(mocks, project="helper", stack="test", preview=False)
    outputs: list[str] = []

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        api = StreamingBedrockApi("chat", {"model_id": "jp.anthropic.claude-haiku-4-5-20251001-v1:0"})
        return pulumi.Output.all(api.url, api.function_arn, api.api_key).apply(
            lambda values: outputs.extend(str(v) for v in values)
        )

    program()
    assert mocks.resources, "nothing was recorded"
    assert "chat-fn" in [r.name for r in mocks.of_type("aws:lambda/function:Function")]
    url, function_arn, api_key = outputs
    assert url.endswith(".execute-api.ap-northeast-1.amazonaws.com/prod/stream")
    assert function_arn.startswith("arn:aws:lambda:ap-northeast-1:123456789012:function:")
    assert api_key == mocks.api_key_value
