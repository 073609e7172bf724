"""The runtime closes its Runtime API connection after a streamed response (AWS's custom-runtime streaming steps).

A raw loopback server plays the Runtime API byte for byte, so the test sees exactly which connection each
request arrives on and whether the runtime closed it.
"""

from __future__ import annotations

import socket
import threading

from bedrock_stream.contract import InvocationContext, ResponseStream
from bedrock_stream.runtime import RuntimeConnection, RuntimeLoop

EVENT = b'{"hello": "world"}'
NEXT_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-%d\r\n"
    b"Lambda-Runtime-Deadline-Ms: 99999999999999\r\nContent-Length: %d\r\n\r\n%s"
)
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def read_until(conn: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        piece = conn.recv(65536)
        if not piece:
            raise AssertionError(f"connection closed before {marker!r}: {data!r}")
        data += piece
    return data


def handler(event: object, context: InvocationContext, stream: ResponseStream) -> None:
    stream.start(200, {"Content-Type": "text/plain"})
    stream.write(b"streamed")


def test_streamed_response_closes_the_connection_and_next_opens_a_new_one() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[tuple[int, bytes]] = []  # (connection number, what arrived on it)
    closed_after_response: list[bool] = []

    def serve() -> None:
        for number in range(2):
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(5)
                seen.append((number, read_until(conn, b"\r\n\r\n")))
                conn.sendall(NEXT_ANSWER % (number, len(EVENT), EVENT))
                if number == 1:
                    return
                seen.append((number, read_until(conn, b"0\r\n\r\n")))  # the streamed POST, up to its last chunk
                conn.sendall(ACCEPTED)
                closed_after_response.append(conn.recv(1) == b"")  # EOF: the runtime closed it

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    with listener:
        connection = RuntimeConnection(f"127.0.0.1:{listener.getsockname()[1]}")
        loop = RuntimeLoop(connection, handler)
        loop.serve_one()
        context, body = loop.next_invocation()
        server.join(5)
        connection.close()
    assert closed_after_response == [True]
    assert [number for number, _ in seen] == [0, 0, 1]
    assert seen[0][1].startswith(b"GET /2018-06-01/runtime/invocation/next ")
    assert seen[1][1].startswith(b"POST /2018-06-01/runtime/invocation/req-0/response ")
    assert seen[2][1].startswith(b"GET /2018-06-01/runtime/invocation/next ")
    assert (context.request_id, body) == ("req-1", EVENT)
