"""The HTTP server the local stack's three servers (gateway, Runtime API, Bedrock stand-in) are built on.

Threaded with daemon threads, and quiet about peers that vanish mid-request (a killed worker or an aborted client
is routine here), while any other error still gets a traceback. Handlers set ``disable_nagle_algorithm = True``
so small frames leave at once; without it the peer's delayed ACK adds ~40 ms stalls that are not ours.

The accept loop sleeps in ``select()`` until a connection or :meth:`shutdown` wakes it. The standard library's
loop wakes every ``poll_interval`` instead: with one Runtime API listener per worker, a hundred idle listeners
at 50 ms took the GIL 2,000 times a second, the largest share of the stack process's samples in a py-spy
profile of 100 concurrent streams (local/README.md, "Concurrency").
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stop_requested = False
        self._loop_ended = threading.Event()
        self._loop_ended.set()
        super().__init__(*args, **kwargs)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown`; ``poll_interval`` is accepted for compatibility and not used."""
        self._loop_ended.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stop_requested:
                    for key, _ in selector.select():
                        if key.fileobj is self._wake_reader:
                            self._wake_reader.recv(64)
                        elif not self._stop_requested:
                            # What the stdlib loop calls once select() says a connection waits (3.11-3.14).
                            self._handle_request_noblock()  # type: ignore[attr-defined]
                    self.service_actions()
        finally:
            self._stop_requested = False
            self._loop_ended.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it returned (at once when it is not running)."""
        self._stop_requested = True
        with contextlib.suppress(OSError):  # already closed: shutdown after server_close, as the stdlib allows
            self._wake_writer.send(b"\0")
        self._loop_ended.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            log.debug("connection from %s ended: %s", client_address, error)
        else:
            log.exception("%s failed serving %s", type(self).__name__, client_address)
