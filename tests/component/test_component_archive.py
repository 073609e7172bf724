"""The function archive the component hands to Pulumi: byte-identical across builds, wrapper executable."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from streaming_bedrock_api.packaging import WRAPPER_NAME, build_function_zip, unpack_function_zip

from .conftest import run_component, sha256_file

ARGS: dict[str, object] = {"model_id": "anthropic.claude-haiku-4-5-20251001-v1:0", "auth": "none"}


def _code_path(args: dict[str, object]) -> Path:
    return Path(run_component(args).one("aws:lambda/function:Function", suffix="chat-fn").inputs["code"].path)


def test_two_component_runs_hand_pulumi_the_same_bytes() -> None:
    first = _code_path(ARGS)
    first_hash = sha256_file(first)
    second = _code_path(ARGS)
    assert second == first  # same content, same file name, so the archive input is identical
    assert sha256_file(second) == first_hash


def test_fresh_builds_in_separate_directories_are_byte_identical(tmp_path: Path) -> None:
    one = build_function_zip(tmp_path / "one")
    two = build_function_zip(tmp_path / "two")
    assert one.read_bytes() == two.read_bytes()
    assert one.name == two.name


def test_wrapper_is_0755_and_survives_unpacking(tmp_path: Path) -> None:
    archive_path = build_function_zip(tmp_path / "zip")
    with zipfile.ZipFile(archive_path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    assert stat.S_IMODE(infos[WRAPPER_NAME].external_attr >> 16) == 0o755
    assert all(info.date_time == infos[WRAPPER_NAME].date_time for info in infos.values())
    unpacked = unpack_function_zip(archive_path, tmp_path / "task")
    wrapper = unpacked / WRAPPER_NAME
    assert os.access(wrapper, os.X_OK)
    assert wrapper.read_bytes().startswith(b"#!")
    assert b"\r\n" not in wrapper.read_bytes()
