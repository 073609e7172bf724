"""The deployment zip: deterministic bytes, executable wrapper, nothing that should not ship."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from streaming_bedrock_api.packaging import (
    WRAPPER_NAME,
    build_function_zip,
    function_files,
    unpack_function_zip,
    zip_bytes,
)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "function"
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / WRAPPER_NAME).write_bytes(b"#!/bin/sh\r\nexec \"$1\" -m pkg\r\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "main.py").write_text("print('hi')\n")
    (root / "pkg" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00junk")
    (root / "pkg" / "stale.pyc").write_bytes(b"\x00junk")
    (root / "README.md").write_text("docs")
    (root / ".DS_Store").write_bytes(b"junk")
    return root


def test_zip_is_byte_identical_even_after_touching_files(source: Path, tmp_path: Path) -> None:
    first = zip_bytes(source)
    for path in source.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (source / "pkg" / "main.py").chmod(0o600)
    assert zip_bytes(source) == first
    built_twice = [build_function_zip(tmp_path / name, source).read_bytes() for name in ("a", "b")]
    assert built_twice[0] == built_twice[1] == first


def test_zip_changes_when_code_changes(source: Path) -> None:
    before = zip_bytes(source)
    (source / "pkg" / "main.py").write_text("print('bye')\n")
    assert zip_bytes(source) != before


def test_zip_holds_only_code_sorted_with_modes(source: Path, tmp_path: Path) -> None:
    path = build_function_zip(tmp_path, source)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names) == [WRAPPER_NAME, "pkg/__init__.py", "pkg/main.py"]
        modes = {info.filename: (info.external_attr >> 16) for info in infos}
        assert stat.S_IMODE(modes[WRAPPER_NAME]) == 0o755
        assert stat.S_IMODE(modes["pkg/main.py"]) == 0o644
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos)
        # CRLF from a Windows checkout would break the shebang on Lambda.
        assert archive.read(WRAPPER_NAME) == b"#!/bin/sh\nexec \"$1\" -m pkg\n"


def test_unpack_restores_the_executable_bit(source: Path, tmp_path: Path) -> None:
    root = unpack_function_zip(build_function_zip(tmp_path, source), tmp_path / "task")
    assert os.access(root / WRAPPER_NAME, os.X_OK)
    assert not os.access(root / "pkg" / "main.py", os.X_OK)


def test_missing_wrapper_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("")
    with pytest.raises(FileNotFoundError, match=WRAPPER_NAME):
        function_files(tmp_path)


def test_unpack_refuses_paths_outside_the_target(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape.py", "x")
    with pytest.raises(ValueError, match="escapes"):
        unpack_function_zip(evil, tmp_path / "task")
