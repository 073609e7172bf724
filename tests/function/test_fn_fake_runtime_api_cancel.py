"""Ending an invocation that already finished leaves its connection alone.

After a response ends, the runtime reuses the same kept-alive connection for its next ``/next``; a late
``cancel()`` (client gone), ``abandon()`` or deadline for the finished invocation must not shut that socket down.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from streaming_bedrock_local.runtime_invocation import Invocation


def _finished_invocation_holding(sock: socket.socket) -> Invocation:
    invocation = Invocation(b"{}", timeout_ms=1000, function_arn="arn", trace_id="t")
    # What the server holds while it answers the end of a streamed response on this connection.
    invocation._response_socket = sock
    assert invocation._finish("streaming")
    return invocation


@pytest.mark.parametrize(
    "end",
    [lambda inv: inv.cancel(), lambda inv: inv.abandon("Runtime.ExitError", "gone"), lambda inv: inv._expire()],
    ids=["cancel", "abandon", "expire"],
)
def test_ending_a_finished_invocation_does_not_touch_its_socket(end: Callable[[Invocation], bool]) -> None:
    server_side, runtime_side = socket.socketpair()
    with server_side, runtime_side:
        invocation = _finished_invocation_holding(server_side)
        assert end(invocation) is False
        assert invocation.result is not None and invocation.result.mode == "streaming"
        runtime_side.sendall(b"GET /next")  # the runtime's next request on the same connection
        server_side.settimeout(2)
        assert server_side.recv(16) == b"GET /next"


def test_cancelling_a_running_invocation_still_closes_its_response_connection() -> None:
    server_side, runtime_side = socket.socketpair()
    with server_side, runtime_side:
        invocation = Invocation(b"{}", timeout_ms=1000, function_arn="arn", trace_id="t")
        invocation._response_socket = server_side
        assert invocation.cancel() is True
        runtime_side.settimeout(2)
        assert runtime_side.recv(16) == b""  # the function sees its response connection close
