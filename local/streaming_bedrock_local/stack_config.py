"""Read the Pulumi project and stack config so the local stack runs with the same settings as the deployment.

Reads ``Pulumi.yaml`` (the ``config:`` block: typed keys with ``default``, or plain values) and
``Pulumi.<stack>.yaml`` (``config:`` values, which win), keeps the keys of this project
(``streaming-bedrock-api:modelId`` or a bare ``modelId`` in ``Pulumi.yaml``) and ``aws:region``, and validates
them with the component's own :func:`streaming_bedrock_api.settings.settings_from_config`. Every problem is a
:class:`StackConfigError` whose message is one line naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from streaming_bedrock_api.settings import (
    Settings,
    SettingsError,
    settings_from_config,
)

PROJECT_NAME = "streaming-bedrock-api"
DEFAULT_STACK = "dev"
DEFAULT_REGION = "us-east-1"


class StackConfigError(Exception):
    """The project or stack config cannot be used: ``problems`` holds one line per problem (file, key, what is
    wrong), all that were found; ``str()`` joins them with newlines."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


@dataclass(frozen=True)
class StackConfig:
    settings: Settings
    region: str
    stack: str
    project_dir: Path


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise StackConfigError(f"{path}: not valid YAML{where}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackConfigError(f"{path}: expected a YAML mapping at the top level")
    return document


def _config_block(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    block = document.get("config") or {}
    if not isinstance(block, dict):
        raise StackConfigError(f"{path}: 'config' must be a mapping")
    return block


def _split_key(key: str, project: str, bare_is_project: bool) -> tuple[str, str] | None:
    namespace, sep, name = key.partition(":")
    if sep:
        return namespace, name
    return (project, key) if bare_is_project else None


def _project_defaults(path: Path, block: dict[str, Any], project: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ours: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for key, spec in block.items():
        split = _split_key(str(key), project, bare_is_project=True)
        if split is None:
            continue
        namespace, name = split
        # Typed declaration {type, default, description, secret} or a plain value.
        is_declaration = isinstance(spec, dict) and (
            "type" in spec or "default" in spec or "description" in spec or "secret" in spec
        )
        if is_declaration:
            if "default" not in spec:
                continue
            value = spec["default"]
        elif isinstance(spec, dict) and "value" in spec:
            value = spec["value"]
        else:
            value = spec
        if namespace == project:
            ours[name] = value
        else:
            others[f"{namespace}:{name}"] = value
    return ours, others


def _stack_values(
    path: Path, block: dict[str, Any], project: str, problems: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our keys and the others' from a stack file; keys that cannot be used are added to ``problems``."""
    ours: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for key, value in block.items():
        split = _split_key(str(key), project, bare_is_project=False)
        if split is None:
            problems.append(f"{path}: config key {key!r} needs a namespace, e.g. '{project}:{key}'")
            continue
        namespace, name = split
        if isinstance(value, dict) and "secure" in value:
            if namespace == project:
                problems.append(
                    f"{path}: {key} is a Pulumi secret, which the local stack cannot decrypt; set a plain value"
                )
            continue
        if namespace == project:
            ours[name] = value
        else:
            others[f"{namespace}:{name}"] = value
    return ours, others


def load_stack_config(project_dir: Path | str = ".", stack: str = DEFAULT_STACK) -> StackConfig:
    """Merged, validated settings for ``stack`` of the project in ``project_dir``."""
    directory = Path(project_dir).resolve()
    project_file = directory / "Pulumi.yaml"
    if not project_file.is_file():
        alt = directory / "Pulumi.yml"
        if not alt.is_file():
            raise StackConfigError(f"{project_file}: file not found (use --project-dir to point at the project)")
        project_file = alt
    project_doc = _load_yaml(project_file)
    project = project_doc.get("name")
    if project != PROJECT_NAME:
        raise StackConfigError(f"{project_file}: project name is {project!r}, expected {PROJECT_NAME!r}")
    ours, others = _project_defaults(project_file, _config_block(project_file, project_doc), PROJECT_NAME)

    stack_file = directory / f"Pulumi.{stack}.yaml"
    problems: list[str] = []
    stack_ours: dict[str, Any] = {}
    if stack_file.is_file():
        stack_block = _config_block(stack_file, _load_yaml(stack_file))
        stack_ours, stack_others = _stack_values(stack_file, stack_block, PROJECT_NAME, problems)
        ours.update(stack_ours)
        others.update(stack_others)
    elif stack != DEFAULT_STACK:
        raise StackConfigError(f"{stack_file}: file not found (stack {stack!r} has no config file)")

    settings = _validated(ours, stack_ours, stack_file, project_file, problems)
    region = others.get("aws:region", DEFAULT_REGION)
    if not isinstance(region, str) or not region:
        problems.append(f"{stack_file}: aws:region must be a region name such as 'ap-northeast-1'")
    if problems or settings is None:
        raise StackConfigError(*problems)
    return StackConfig(settings=settings, region=region, stack=stack, project_dir=directory)


def _validated(
    values: dict[str, Any], from_stack: dict[str, Any], stack_file: Path, project_file: Path, problems: list[str]
) -> Settings | None:
    """Settings from ``values``, reporting every bad value: the component's validation stops at the first one,
    so each rejected key is noted and left out (back to its default) and the rest validated again."""
    remaining = dict(values)
    while True:
        try:
            return settings_from_config(remaining)
        except SettingsError as error:
            source = stack_file if error.argument in from_stack else project_file
            problems.append(f"{source}: {PROJECT_NAME}:{error}")
            if error.argument not in remaining:
                return None  # a required key is missing: nothing left to leave out
            del remaining[error.argument]
