"""The function's deployment zip: byte-identical on every build, with the exec wrapper executable.

Pulumi's own archive upload drops file modes (pulumi/pulumi#3593) and hashes a ``.zip`` over its raw bytes, so we
build the zip ourselves: sorted entries, a fixed timestamp, explicit Unix modes and no compression (stored entries
do not depend on the local zlib build, so two machines produce the same bytes and ``pulumi up`` shows no diff).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
import zipfile
from pathlib import Path

WRAPPER_NAME = "exec-wrapper"
HANDLER = "bedrock_stream.handler.handle"

_FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = frozenset({"__pycache__", "tests"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".md")
_FILE_MODE = 0o644
_EXEC_MODE = 0o755


def function_source_dir() -> Path:
    """Where the function code lives: inside the installed wheel, else the repository's ``function/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_function", here.parents[1] / "function"):
        if (candidate / WRAPPER_NAME).is_file():
            return candidate
    raise FileNotFoundError(
        f"function code not found next to {here} (looked for _function/ and ../../function/ with {WRAPPER_NAME})"
    )


def _included(relative: Path) -> bool:
    parts = relative.parts
    if any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts):
        return False
    return not relative.name.endswith(_SKIPPED_SUFFIXES)


def function_files(source_dir: Path) -> list[tuple[str, int, bytes]]:
    """``(archive name, mode, content)`` for every file that goes into the zip, sorted by name."""
    entries: list[tuple[str, int, bytes]] = []
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir)
        if not path.is_file() or not _included(relative):
            continue
        name = relative.as_posix()
        content = path.read_bytes()
        mode = _FILE_MODE
        if name == WRAPPER_NAME:
            # A CRLF checkout (core.autocrlf on Windows) would break the shebang on Lambda.
            content = content.replace(b"\r\n", b"\n")
            mode = _EXEC_MODE
        entries.append((name, mode, content))
    entries.sort(key=lambda entry: entry[0])
    if not any(name == WRAPPER_NAME for name, _, _ in entries):
        raise FileNotFoundError(f"{source_dir} has no {WRAPPER_NAME}")
    return entries


def zip_bytes(source_dir: Path) -> bytes:
    """The deterministic zip of ``source_dir`` as bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, mode, content in function_files(source_dir):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIMESTAMP)
            info.create_system = 3  # Unix, so Lambda honours the mode bits below
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, content)
    return buffer.getvalue()


def build_function_zip(dest_dir: Path | None = None, source_dir: Path | None = None) -> Path:
    """Write the zip and return its path; the file name carries the content hash, so equal code means equal path."""
    source = source_dir if source_dir is not None else function_source_dir()
    data = zip_bytes(source)
    digest = hashlib.sha256(data).hexdigest()[:16]
    target_dir = dest_dir if dest_dir is not None else Path(tempfile.gettempdir()) / "streaming-bedrock-api"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"function-{digest}.zip"
    if not target.exists() or target.read_bytes() != data:
        # Write then rename, so a concurrent build or preview never reads half a file.
        handle, temporary = tempfile.mkstemp(dir=target_dir, suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    return target


def unpack_function_zip(zip_path: Path, dest_dir: Path) -> Path:
    """Extract the zip as Lambda does into ``dest_dir``, restoring each entry's Unix mode; returns ``dest_dir``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    root = dest_dir.resolve()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = (root / info.filename).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"{zip_path}: entry {info.filename!r} escapes the target directory")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(target, mode or _FILE_MODE)
    return dest_dir
