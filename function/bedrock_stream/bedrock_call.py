"""One ConverseStream call read on its own thread, so the relay can wait with a timeout.

The relay needs to wake up for heartbeats and its deadline while Bedrock is silent, and a blocking read
cannot be interrupted. So a short-lived reader thread makes the call and feeds a queue; the relay waits on
the queue. ``close`` stops the call at once: it shuts the underlying socket down, which also wakes a reader
blocked in ``recv`` (a plain ``close`` does not while the response still references the socket).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Mapping
from typing import Any, Literal

Item = tuple[Literal["event"], Mapping[str, Any]] | tuple[Literal["end"], None] | tuple[
    Literal["error"], BaseException
]


def _underlying_socket(raw: object) -> socket.socket | None:
    """The socket below a urllib3 response (urllib3 1.x and 2.x), if it can be found."""
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def abort_stream(stream: object) -> None:
    """Stop a botocore EventStream now and drop its connection (best effort, never raises)."""
    raw = getattr(stream, "_raw_stream", None)
    sock = _underlying_socket(raw)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    try:
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    except Exception:  # closing a half-read response can raise inside urllib3; it is gone either way
        pass


class BedrockCall:
    """Start ``client.converse_stream(**arguments)`` in the background; read items from ``items``."""

    def __init__(self, client: Any, arguments: Mapping[str, Any]) -> None:
        self.items: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._client = client
        self._arguments = dict(arguments)
        self._lock = threading.Lock()
        self._stream: object | None = None
        self._closed = False
        threading.Thread(target=self._run, name="bedrock-reader", daemon=True).start()

    def _run(self) -> None:
        try:
            response = self._client.converse_stream(**self._arguments)
            stream = response["stream"]
            with self._lock:
                if self._closed:
                    abort_stream(stream)
                    return
                self._stream = stream
            for event in stream:
                if self._closed:
                    return
                self.items.put(("event", event))
            self.items.put(("end", None))
        except BaseException as exc:
            if not self._closed:
                self.items.put(("error", exc))
        finally:
            self._client = None

    def close(self) -> None:
        """Stop consuming; abort the Bedrock stream if it is still open. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            stream = self._stream
        if stream is not None:
            abort_stream(stream)
