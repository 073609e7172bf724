"""The lean event-stream decoder and ConverseStream parser against botocore's ``EventStream`` (the oracle).

Every stream, recorded (the stand-in's frames, as Bedrock pads them) or generated from the service model with
hypothesis (unknown members, nulls, unknown union members, blobs, documents, exceptions, error messages,
unknown event types, corrupt bytes), is fed to both in the same arbitrary pieces; the yielded events must be
identical, and a failure must be raised by both and classified by ``classify_exception`` the same way.
"""

from __future__ import annotations

import base64
import itertools
import json
import warnings
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from bedrock_stream.bedrock_events import classify_exception
from bedrock_stream.converse_stream_parser import parse_message
from bedrock_stream.converse_stream_shapes import SHAPES, STREAM_MEMBERS
from bedrock_stream.eventstream_decoder import EventStreamDecoder
from botocore.eventstream import EventStream
from botocore.parsers import EventStreamJSONParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streaming_bedrock_local.bedrock_standin import MidStreamFault, answer_frames, standin_answer
from streaming_bedrock_local.eventstream import encode_event, encode_exception, encode_message

from tests.function.converse_shapes_oracle import build_table, load_model, render

MODEL = load_model()
SCALAR_TYPES = {name: shape["type"] for name, shape in MODEL["shapes"].items()}
_CLIENT = botocore.session.Session().create_client(
    "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
STREAM_SHAPE = _CLIENT.meta.service_model.operation_model("ConverseStream").output_shape.members["stream"]


class _Raw:
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def stream(self) -> Iterator[bytes]:
        yield from self.pieces

    def close(self) -> None:
        pass


def run_botocore(pieces: list[bytes]) -> tuple[list[Any], BaseException | None]:
    events: list[Any] = []
    try:
        for event in EventStream(_Raw(pieces), STREAM_SHAPE, EventStreamJSONParser(), "ConverseStream"):
            events.append(event)
    except Exception as exc:
        return events, exc
    return events, None


def run_lean(pieces: list[bytes]) -> tuple[list[Any], BaseException | None]:
    events: list[Any] = []
    decoder = EventStreamDecoder()
    try:
        for piece in pieces:
            for message in decoder.feed(piece):
                event = parse_message(message.headers, message.payload)
                if event:
                    events.append(event)
    except Exception as exc:
        return events, exc
    return events, None


def assert_same(pieces: list[bytes]) -> list[Any]:
    expected_events, expected_error = run_botocore(pieces)
    events, error = run_lean(pieces)
    assert events == expected_events
    assert (error is None) == (expected_error is None), (error, expected_error)
    if error is not None and expected_error is not None:
        assert classify_exception(error, "m") == classify_exception(expected_error, "m")
        assert getattr(error, "response", None) == getattr(expected_error, "response", None)
        assert str(error) == str(expected_error) or not hasattr(expected_error, "response")
    return events


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _agrees(ours: tuple[Any, ...], theirs: tuple[Any, ...] | None) -> bool:
    """A shape we decode means the same in botocore's model; a structure may have gained members since."""
    if theirs is None or ours == theirs:
        return theirs is not None
    return ours[0] == theirs[0] == "structure" and ours[2] == theirs[2] and set(ours[1]) <= set(theirs[1])


def test_shape_table_agrees_with_botocore_s_model() -> None:
    # The installed botocore is whatever the dev range resolves to on the day, so exact equality would fail a
    # clean clone on a botocore release alone. What must hold: every shape and stream member we decode means
    # what botocore's model says. Shapes the model added since generation pass through undecoded (a blob would
    # stay base64): they are reported, and regenerating picks them up.
    shapes, members = build_table(MODEL)
    assert [name for name, spec in SHAPES.items() if not _agrees(spec, shapes.get(name))] == []
    assert {name: members.get(name) for name in STREAM_MEMBERS} == STREAM_MEMBERS
    added = sorted((set(shapes) - set(SHAPES)) | (set(members) - set(STREAM_MEMBERS)))
    if added:
        warnings.warn(f"botocore's model has ConverseStream shapes the table lacks: {added}; regenerate it "
                      "(python -m tests.function.converse_shapes_oracle)", stacklevel=1)


def test_shape_table_file_is_the_generator_s_output() -> None:
    # Hand edits are caught where the model is the one it was generated from (the header names that version).
    from pathlib import Path

    import bedrock_stream.converse_stream_shapes as module

    if build_table(MODEL) != (SHAPES, STREAM_MEMBERS):
        pytest.skip("botocore's model differs from the one the table was generated from")
    text = Path(module.__file__).read_text()
    assert text.split("\n", 1)[1] == render(MODEL).split("\n", 1)[1]


def test_shape_agreement_rejects_a_changed_meaning() -> None:
    structure = ("structure", (("text", "text", "String"),), False)
    assert _agrees(structure, ("structure", (("text", "text", "String"), ("new", "new", "Blob")), False))
    assert not _agrees(structure, ("structure", (("text", "text", "Blob"),), False))
    assert not _agrees(structure, ("structure", (("text", "text", "String"),), True))
    assert not _agrees(("blob",), ("list", "Blob")) and not _agrees(("blob",), None)


@pytest.mark.parametrize("fault", [None, "modelStreamErrorException", "throttlingException", "validationException"])
def test_recorded_standin_streams_decode_identically(fault: str | None) -> None:
    request = {"messages": [{"role": "user", "content": [{"text": "café 日本語"}]}]}
    mid = MidStreamFault(fault, after_deltas=3) if fault else None
    data = b"".join(frame for _, frame in answer_frames(standin_answer(request, answer_tokens=12), mid, 7))
    events = assert_same([data])
    assert events and all("p" not in next(iter(e.values())) for e in events)  # the padding is dropped
    for size in (1, 7, 64):
        assert_same([data[i : i + size] for i in range(0, len(data), size)])


RECORDED_KINDS = [
    encode_event("contentBlockStart", {"start": {"toolUse": {"toolUseId": "t1", "name": "get", "type": "x"}},
                                       "contentBlockIndex": 1}),
    encode_event("contentBlockDelta", {"delta": {"toolUse": {"input": "{\"a\":"}}, "contentBlockIndex": 1}),
    encode_event("contentBlockDelta", {"delta": {"reasoningContent": {"redactedContent": base64.b64encode(
        b"\x00secret").decode()}}, "contentBlockIndex": 0}),
    encode_event("contentBlockDelta", {"delta": {"reasoningContent": {"signature": "sig"}}, "contentBlockIndex": 0}),
    encode_event("contentBlockDelta", {"delta": {"citation": {"title": "t", "location": {"web": {"url": "u"}}}},
                                       "contentBlockIndex": 0}),
    encode_event("contentBlockDelta", {"delta": {"brandNew": {"x": 1}}, "contentBlockIndex": 0}),
    encode_event("messageStop", {"stopReason": "tool_use", "additionalModelResponseFields": {"any": [1, {"b": None}]}}),
    encode_event("metadata", {"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3,
                                        "cacheReadInputTokens": 4}, "metrics": {"latencyMs": 9},
                              "trace": {"promptRouter": {"invokedModelId": "m"}}}),
    encode_event("somethingNew", {"x": 1}),
    encode_message({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b""),
    encode_exception("accessDeniedException", {"message": "not a stream member"}),
]


@pytest.mark.parametrize("index", range(len(RECORDED_KINDS)))
def test_tool_use_reasoning_citations_documents_and_errors_decode_identically(index: int) -> None:
    assert_same([encode_event("messageStart", {"role": "assistant"}) + RECORDED_KINDS[index]])


_MEMO: dict[tuple[str, int], st.SearchStrategy[Any]] = {}


def value_for(shape: str, depth: int) -> st.SearchStrategy[Any]:
    key = (shape, depth)
    if key not in _MEMO:
        _MEMO[key] = _value_for(shape, depth)
    return _MEMO[key]


def _value_for(shape: str, depth: int) -> st.SearchStrategy[Any]:
    spec = SHAPES.get(shape)
    kind = spec[0] if spec else SCALAR_TYPES[shape]
    leaf = st.none() | st.integers(-3, 3)
    if depth > 3 and kind in ("structure", "list", "map"):
        return st.just({}) if kind in ("structure", "map") else st.just([])
    if kind == "structure" and spec is not None:
        members = {json_name: value_for(child, depth + 1) for _, json_name, child in spec[1]}
        if spec[2]:  # a union: usually one member, sometimes an unknown one or two
            names = sorted(members)
            one = st.sampled_from(names).flatmap(lambda k: members[k].map(lambda v: {k: v}))
            pair: dict[str, str | None] = {names[0]: "a", names[-1]: "b"} if len(names) > 1 else {names[0]: None}
            two = st.just(pair)
            return st.one_of(one, one, st.just({"unknownMember": {"x": 1}}), two)
        extra = st.fixed_dictionaries({}, optional={"p": st.text(max_size=5), "notModelled": leaf})
        return st.tuples(st.fixed_dictionaries({}, optional=members), extra).map(lambda t: {**t[0], **t[1]})
    if kind == "document":
        return st.recursive(leaf | st.text(max_size=5), lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=5)
    if kind == "list":
        return st.lists(value_for(spec[1], depth + 1) if spec else leaf, max_size=2)
    if kind == "map":
        return st.dictionaries(st.text(max_size=4), value_for(spec[2], depth + 1) if spec else leaf, max_size=2)
    if kind == "blob":
        return st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
    if kind in ("integer", "long"):
        return st.integers(-(2**40), 2**40)
    if kind in ("double", "float"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    return st.text(max_size=8)


def _message(kind: str, payload: Any) -> bytes:
    body = json.dumps(payload).encode()
    if kind in STREAM_MEMBERS and kind.endswith("Exception"):
        return encode_message({":message-type": "exception", ":exception-type": kind,
                               ":content-type": "application/json"}, body)
    return encode_message({":message-type": "event", ":event-type": kind, ":content-type": "application/json"}, body)


messages = st.sampled_from(sorted(STREAM_MEMBERS)).flatmap(
    lambda kind: value_for(STREAM_MEMBERS[kind], 0).map(lambda payload: _message(kind, payload)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(messages, min_size=1, max_size=6), cuts=st.lists(st.integers(0, 10**6), max_size=6))
def test_generated_streams_decode_identically(frames: list[bytes], cuts: list[int]) -> None:
    assert_same(split(b"".join(frames), cuts))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(messages, min_size=1, max_size=3), flip=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_corrupt_streams_fail_in_both(frames: list[bytes], flip: int, bit: int) -> None:
    data = bytearray(b"".join(frames))
    data[flip % len(data)] ^= 1 << bit
    assert_same([bytes(data)])
