"""Fixtures for the function's end-to-end tests: the packaged zip, the fakes, a warm function process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.function.fn_integration_harness import Harness, build_task_root, make_harness


@pytest.fixture(scope="session")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_task_root(tmp_path_factory.mktemp("lambda"))


@pytest.fixture(scope="module")
def shared_harness(task_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    harness = make_harness(task_root, tmp_path_factory.mktemp("fn-logs"))
    harness.start_function()
    yield harness
    harness.close()


@pytest.fixture
def fn(shared_harness: Harness) -> Harness:
    """The module's warm function; stand-in settings reset; restarted if a previous test killed it."""
    shared_harness.reset()
    if shared_harness.process is None or not shared_harness.process.alive():
        shared_harness.start_function()
    return shared_harness


@pytest.fixture
def fresh_harness(task_root: Path, tmp_path: Path) -> Iterator[Harness]:
    """A harness whose function is not started yet (set ``env_overrides`` first)."""
    harness = make_harness(task_root, tmp_path / "logs")
    yield harness
    harness.close()
