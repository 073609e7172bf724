"""The Runtime API fake answers malformed requests from a runtime with an error instead of hanging."""

from __future__ import annotations

import socket

import pytest
from streaming_bedrock_local.runtime_api import RuntimeAPIServer


@pytest.mark.parametrize("length", ["-1", "abc", "1e3"])
def test_bad_content_length_is_refused_at_once(length: str) -> None:
    with RuntimeAPIServer() as api:
        host, port = api.address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                f"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
            )
            # The connection stays open: a server that trusts the length would wait for EOF here.
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 4"), answer[:80]
        assert api.init_errors() == []
