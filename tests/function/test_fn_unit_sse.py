"""SSE event encoding: exact bytes, and a spec-following parser reads back what was sent."""

from __future__ import annotations

import json

from bedrock_stream import sse
from hypothesis import given
from hypothesis import strategies as st


def parse_sse(stream: str) -> list[tuple[str, str]]:
    """A minimal parser following the WHATWG event-stream rules (lines split on CR, LF or CRLF)."""
    events: list[tuple[str, str]] = []
    name, data = "", list[str]()
    for line in stream.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data:
                events.append((name or "message", "\n".join(data)))
            name, data = "", list[str]()
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    return events


def test_exact_bytes_of_each_event() -> None:
    assert sse.delta_event("Hi") == b'event: delta\ndata: {"text":"Hi"}\n\n'
    assert sse.usage_event(3, 5, 8) == (
        b'event: usage\ndata: {"input_tokens":3,"output_tokens":5,"total_tokens":8'
        b',"cache_read_input_tokens":0,"cache_write_input_tokens":0}\n\n'
    )
    assert sse.done_event("end_turn") == b'event: done\ndata: {"stop_reason":"end_turn"}\n\n'
    assert sse.error_event("throttled", "wait", True) == (
        b'event: error\ndata: {"code":"throttled","message":"wait","retryable":true}\n\n'
    )
    assert sse.HEARTBEAT == b": keep-alive\n\n"


def test_non_ascii_is_sent_as_utf8_not_escaped() -> None:
    assert sse.delta_event("café 日本") == 'event: delta\ndata: {"text":"café 日本"}\n\n'.encode()


def test_line_breaks_in_text_cannot_split_the_event() -> None:
    raw = sse.delta_event("a\nevent: error\r\ndata: x\rb")
    assert raw.count(b"\n") == 3 and b"\r" not in raw


@given(st.lists(st.text(), max_size=10))
def test_parser_reads_back_every_delta_and_heartbeats_are_invisible(texts: list[str]) -> None:
    wire = b"".join(sse.delta_event(t) + sse.HEARTBEAT for t in texts) + sse.done_event("end_turn")
    events = parse_sse(wire.decode("utf-8"))
    assert [name for name, _ in events] == ["delta"] * len(texts) + ["done"]
    assert [json.loads(data)["text"] for _, data in events[:-1]] == texts
