"""What the local stack prints, and where.

stdout: the start banner (URL, model, key, a ready curl line, the demo page) and, on Enter, the key and curl
line again. stderr: one line per request (``text``: short and human; ``json``: the gateway's full record), the
function's own log lines with ``--function-logs`` (otherwise only its warnings, errors and any line that is not
JSON, such as a traceback), and the CLI's warnings.

The formatting functions are pure; :class:`LineWriter` and :func:`watch_enter` are the thin I/O around them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

LOG_FORMATS = ("text", "json")
# Function log levels that are shown without --function-logs (the function's runtime logs WARN and ERROR).
PROBLEM_LEVELS = frozenset({"WARN", "WARNING", "ERROR", "CRITICAL", "FATAL"})


class LineWriter:
    """Writes whole lines from many threads: each line in one write, never inside another."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def _milliseconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return "-"
    if value < 1024:
        return f"{value} B"
    return f"{value / 1024:.1f} KB" if value < 1024 * 1024 else f"{value / 1024 / 1024:.1f} MB"


# Outcomes that need no word in the short line: the status code says it all.
_ORDINARY_OUTCOMES = frozenset({"complete", "gateway_response", "demo_page"})


def access_line(record: Mapping[str, Any]) -> str:
    """One short line for a request: time (UTC), method, path, status, time to first byte, duration, bytes,
    client, and the outcome when it is not the ordinary one (``12:00:01 POST /prod/stream 200 ttfb 35 ms
    1.02 s 812 B 127.0.0.1:53422``)."""
    started = str(record.get("time", ""))[11:19] or "--:--:--"
    parts = [
        started,
        str(record.get("method", "?")),
        str(record.get("path", "?")),
        str(record.get("status", "---")),
        f"ttfb {_milliseconds(record.get('ttfbMs'))}",
        _milliseconds(record.get("durationMs")),
        _size(record.get("bytes")),
        str(record.get("client", "")),
    ]
    outcome = record.get("outcome")
    if outcome and outcome not in _ORDINARY_OUTCOMES:
        error = record.get("error")
        parts.append(f"{outcome}" + (f" ({error})" if error else ""))
    return " ".join(part for part in parts if part)


def access_json(record: Mapping[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


def access_logger(writer: LineWriter, log_format: str) -> Callable[[Mapping[str, Any]], None]:
    """The gateway's per-request callback for ``--log-format``."""
    render = access_json if log_format == "json" else access_line
    return lambda record: writer.write(render(record))


def is_function_problem(line: str) -> bool:
    """Whether a function log line is shown without ``--function-logs``: a warning or error, or not JSON."""
    try:
        document = json.loads(line)
    except ValueError:
        return True
    if not isinstance(document, dict):
        return True
    level = document.get("level")
    return isinstance(level, str) and level.upper() in PROBLEM_LEVELS


def function_log_sink(writer: LineWriter, show_all: bool, log_format: str) -> Callable[[str, bytes], None]:
    """The pool's per-line callback: which worker lines reach the terminal, and how they look."""

    def sink(worker: str, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line or not (show_all or is_function_problem(line)):
            return
        writer.write(line if log_format == "json" else f"  {worker} | {line}")

    return sink


@dataclass(frozen=True)
class Banner:
    """What the start banner says (every field already in words)."""

    stack: str
    url: str
    model: str
    function: str
    auth_line: str | None
    key_lines: Sequence[str]  # "api key: …", or one per named client
    ready_ms: float
    curl: str
    demo: Sequence[str]
    openai_base_url: str | None = None  # with the OpenAI-compatible routes on


def openai_base_url(url: str, prefix: str) -> str:
    """``base_url`` for OpenAI clients, next to the native endpoint ``url`` (…/{stage}/{path})."""
    return f"{url.rsplit('/', 1)[0]}{'/' + prefix if prefix else ''}/v1"


def curl_line(url: str, api_key: str | None) -> str:
    key = f' -H "x-api-key: {api_key}"' if api_key else ""
    return (
        f'curl --no-buffer -X POST {url}{key} -H "Content-Type: application/json" '
        "-d '{\"prompt\":\"Explain response streaming in two sentences.\"}'"
    )


def banner_lines(banner: Banner) -> list[str]:
    lines = [
        f"Streaming Bedrock API (local, stack {banner.stack}) at {banner.url}",
        f"  model: {banner.model}",
        f"  function: {banner.function}",
    ]
    lines.extend(f"  {line}" for line in banner.key_lines)
    if banner.auth_line:
        lines.append(f"  {banner.auth_line}")
    lines.append(f"  listening after {banner.ready_ms:.0f} ms; Ctrl-C to stop, Enter to show the key and curl line")
    lines.append(banner.curl)
    if banner.openai_base_url:
        lines.append(f"  OpenAI base_url: {banner.openai_base_url} (the key as Bearer)")
    lines.extend(f"  {line}" for line in banner.demo)
    return lines


def reminder_lines(banner: Banner) -> list[str]:
    """What Enter prints: the URL, the key and the curl line (the banner scrolled away)."""
    lines = [f"API at {banner.url}"]
    lines.extend(f"  {line}" for line in banner.key_lines)
    lines.append(banner.curl)
    if banner.openai_base_url:
        lines.append(f"  OpenAI base_url: {banner.openai_base_url} (the key as Bearer)")
    lines.extend(f"  {line}" for line in banner.demo)
    return lines


def watch_enter(stream: TextIO, on_enter: Callable[[], None]) -> threading.Thread:
    """Call ``on_enter`` for every line read from ``stream`` (Enter in a terminal) until end of file."""

    def read() -> None:
        try:
            for _ in iter(stream.readline, ""):
                on_enter()
        except (OSError, ValueError):  # stdin closed under us
            return

    thread = threading.Thread(target=read, name="enter-reprints", daemon=True)
    thread.start()
    return thread
