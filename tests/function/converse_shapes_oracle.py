"""Build the ConverseStream output shape table from botocore's service model (the oracle for the lean parser).

``python -m tests.function.converse_shapes_oracle`` prints ``function/bedrock_stream/converse_stream_shapes.py``;
a test checks that the committed module equals what this builds from the installed botocore.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import botocore

SERVICE_MODEL = Path(botocore.__file__).parent / "data" / "bedrock-runtime" / "2023-09-30" / "service-2.json.gz"
STREAM_SHAPE = "ConverseStreamOutput"


def load_model() -> dict[str, Any]:
    with gzip.open(SERVICE_MODEL) as raw:
        model: dict[str, Any] = json.load(raw)
    return model


def build_table(model: dict[str, Any]) -> tuple[dict[str, tuple[Any, ...]], dict[str, str]]:
    """(shapes, stream members): only shapes the JSON parser treats specially are listed; others pass through."""
    shapes: dict[str, dict[str, Any]] = model["shapes"]
    table: dict[str, tuple[Any, ...]] = {}

    def visit(name: str) -> None:
        if name in table:
            return
        shape = shapes[name]
        kind = shape["type"]
        if kind == "structure":
            if shape.get("document"):
                table[name] = ("document",)
                return
            members = tuple(
                (member, spec.get("locationName", member), spec["shape"]) for member, spec in shape["members"].items()
            )
            table[name] = ("structure", members, bool(shape.get("union")))
            for _, _, child in members:
                visit(child)
        elif kind == "list":
            table[name] = ("list", shape["member"]["shape"])
            visit(shape["member"]["shape"])
        elif kind == "map":
            table[name] = ("map", shape["key"]["shape"], shape["value"]["shape"])
            visit(shape["key"]["shape"])
            visit(shape["value"]["shape"])
        elif kind == "blob":
            table[name] = ("blob",)
        elif kind == "timestamp":
            raise NotImplementedError(f"{name}: timestamps are not in ConverseStream output; add them if they appear")

    stream = {member: spec["shape"] for member, spec in shapes[STREAM_SHAPE]["members"].items()}
    for child in stream.values():
        visit(child)
    return dict(sorted(table.items())), stream


def _literal(value: tuple[Any, ...]) -> str:
    if value[0] != "structure":
        return repr(value)
    members = "".join(f"\n        {member!r}," for member in value[1])
    return f"(\n        'structure', ({members}\n        ), {value[2]!r}),"[:-1]


def render(model: dict[str, Any]) -> str:
    """The module text; one shape per entry, ruff-clean."""
    table, stream = build_table(model)
    lines = [
        f'"""ConverseStream output shapes: generated from botocore {botocore.__version__}\'s bedrock-runtime model '
        f"({model['metadata']['apiVersion']}).",
        "",
        "Regenerate: ``python -m tests.function.converse_shapes_oracle > "
        "function/bedrock_stream/converse_stream_shapes.py``.",
        "A test fails when this drifts from the installed botocore. Shapes not listed (strings, numbers, booleans)",
        "pass through unchanged, as in botocore's JSON event-stream parser.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "STREAM_MEMBERS: dict[str, str] = {",
        *(f"    {member!r}: {shape!r}," for member, shape in stream.items()),
        "}",
        "",
        "SHAPES: dict[str, tuple[Any, ...]] = {",
        *(f"    {name!r}: {_literal(spec)}," for name, spec in table.items()),
        "}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(load_model()), end="")
