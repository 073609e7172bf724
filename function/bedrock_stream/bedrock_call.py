"""One ConverseStream call, read so that the relay can wait with a timeout.

The relay needs to wake up for heartbeats and its deadline while Bedrock is silent. The call itself (request,
retries, response head) runs on a short-lived thread that feeds a queue the relay waits on. Once the stream
has started, the lean client's stream is read by the relay's own thread with a socket timeout
(``next_event``); a botocore stream, whose reads cannot time out that way, stays on the thread. ``close``
stops the call at once: it shuts the underlying socket down, which also wakes a reader blocked in ``recv``
(a plain ``close`` does not while the response still references the socket).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
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


class _Items:
    """What the relay reads: ``get(timeout)`` returns the next item or raises ``queue.Empty``.

    Until the response has started, items come from the call's thread through a queue. A stream that can be
    read with a timeout (the lean client's ``next_event``) is then read right here on the caller's thread:
    one wake-up per event, and no hand-over through the queue. A botocore stream keeps being iterated on the
    thread, which feeds the queue.
    """

    def __init__(self, call: BedrockCall) -> None:
        self._call = call
        self.queue: queue.SimpleQueue[Item | tuple[Literal["pull"], Any]] = queue.SimpleQueue()
        self._pull: Any = None

    def get(self, timeout: float | None = None) -> Item:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._pull is None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            item = self.queue.get(timeout=left)
            if item[0] != "pull":
                return item
            self._pull = item[1]
        left = _LONG_WAIT if deadline is None else deadline - time.monotonic()
        if left <= 0:
            raise queue.Empty
        try:
            event = self._pull.next_event(left)
        except TimeoutError:
            raise queue.Empty from None
        except Exception as exc:
            return ("error", exc)
        if event is None:
            return ("end", None)
        return ("event", event)


_LONG_WAIT = 3600.0


class BedrockCall:
    """Start ``client.converse_stream(**arguments)`` in the background; read items from ``items``."""

    def __init__(self, client: Any, arguments: Mapping[str, Any]) -> None:
        self.items = _Items(self)
        self._client = client
        self._arguments = dict(arguments)
        self._lock = threading.Lock()
        self._stream: object | None = None
        self._closed = False
        threading.Thread(target=self._run, name="bedrock-reader", daemon=True).start()

    def _run(self) -> None:
        out = self.items.queue
        try:
            response = self._client.converse_stream(**self._arguments)
            stream = response["stream"]
            with self._lock:
                if self._closed:
                    abort_stream(stream)
                    return
                self._stream = stream
            if callable(getattr(stream, "next_event", None)):
                out.put(("pull", stream))  # the relay reads it on its own thread from here on
                return
            for event in stream:
                if self._closed:
                    return
                out.put(("event", event))
            out.put(("end", None))
        except BaseException as exc:
            if not self._closed:
                out.put(("error", exc))
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
