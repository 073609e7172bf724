"""The deploy guide, walked as a new user would: each step the issue found broken stays fixed."""

from __future__ import annotations

import re
from pathlib import Path

from streaming_bedrock_api.component import curl_command
from streaming_bedrock_api.regions import PROFILE_SOURCE_REGIONS
from streaming_bedrock_api.settings import resolve_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
COMPONENT_README = (ROOT / "components" / "README.md").read_text()


def test_model_access_describes_the_current_flow_not_the_retired_page() -> None:
    assert "Bedrock console → Model access" not in README
    assert "first-time use" in README
    assert "aws-marketplace:Subscribe" in README and "aws-marketplace:ViewSubscriptions" in README
    assert "aws bedrock-runtime converse" in README  # the one admin invocation that starts the subscription


def test_a_file_backend_folder_is_created_before_login() -> None:
    logins = re.findall(r"^.*pulumi login file://(\S+).*$", README, flags=re.MULTILINE)
    assert logins
    for line in re.findall(r"^.*pulumi login file://\S+.*$", README, flags=re.MULTILINE):
        folder = re.search(r"pulumi login file://(\S+)", line)
        assert folder is not None
        assert f"mkdir -p {folder.group(1)} && pulumi login file://{folder.group(1)}" in line, line


def test_the_region_table_is_the_one_preview_checks() -> None:
    table = README[README.index("<!-- region-prefix-table"):]
    rows = dict(re.findall(r"^\| `([a-z-]+)\.` \| ([^|]+) \|$", table, flags=re.MULTILINE))
    assert rows.pop("global").startswith("commercial regions")
    assert {prefix: tuple(r.strip() for r in regions.split(",")) for prefix, regions in rows.items()} == (
        PROFILE_SOURCE_REGIONS
    )


def test_iam_auth_shows_how_to_get_sigv4_credentials_into_the_environment() -> None:
    command = curl_command("https://x/prod/stream", resolve_settings({"model_id": "m.x-v1:0", "auth": "iam"}),
                           "ap-northeast-1", None)
    variables = set(re.findall(r"\$(AWS_[A-Z_]+)", command))
    assert variables == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    # `aws configure export-credentials --format env` prints exactly these three as `export` lines.
    assert 'eval "$(aws configure export-credentials --profile <name> --format env)"' in README
    assert "aws sso login --profile <name>" in README


def test_reuse_gives_a_real_install_line_and_the_wheel_path() -> None:
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), flags=re.MULTILINE)
    assert version is not None
    wheel = f"dist/streaming_bedrock_api-{version.group(1)}-py3-none-any.whl"
    for text in (README, COMPONENT_README):
        assert 'pip install "streaming-bedrock-api @ git+https://github.com/<owner>/<repo>.git@<tag-or-commit>"' in text
        assert "python -m build --wheel" in text
        assert f"pip install {wheel}" in text
