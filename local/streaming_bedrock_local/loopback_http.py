"""The HTTP server the local stack's three servers (gateway, Runtime API, Bedrock stand-in) are built on.

Threaded with daemon threads, and quiet about peers that vanish mid-request (a killed worker or an aborted client
is routine here), while any other error still gets a traceback. Handlers set ``disable_nagle_algorithm = True``
so small frames leave at once; without it the peer's delayed ACK adds ~40 ms stalls that are not ours.
"""

from __future__ import annotations

import logging
import sys
from http.server import ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            log.debug("connection from %s ended: %s", client_address, error)
        else:
            log.exception("%s failed serving %s", type(self).__name__, client_address)
