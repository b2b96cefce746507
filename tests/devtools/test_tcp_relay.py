"""The relay in front of a sandbox's storage: an outage at a fixed address, and back."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from devtools.sandbox.tcp_relay import HOST, TcpRelay


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        tag: bytes = self.server.tag  # type: ignore[attr-defined]
        while data := self.request.recv(1024):
            self.request.sendall(tag + data)


@contextlib.contextmanager
def _server(tag: bytes) -> Iterator[tuple[str, int]]:
    server = socketserver.ThreadingTCPServer((HOST, 0), _Echo)
    server.daemon_threads = True
    server.tag = tag  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    finally:
        server.shutdown()
        server.server_close()


def _ask(port: int, text: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=5) as connection:
        connection.sendall(text)
        return connection.recv(1024)


def test_down_means_refused_and_back_means_the_same_address() -> None:
    with _server(b"one:") as target:
        relay = TcpRelay(target).start()
        port = relay.port
        held = socket.create_connection((HOST, port), timeout=5)
        held.sendall(b"a")
        assert held.recv(1024) == b"one:a"
        relay.stop()
        assert not relay.running
        with pytest.raises(ConnectionRefusedError):
            _ask(port, b"b")
        assert held.recv(1024) == b"", "an open connection is closed with it"
        held.close()
        relay.start()
        assert relay.port == port
        assert _ask(port, b"c") == b"one:c"
        relay.stop()


def test_retarget_sends_new_connections_to_another_server() -> None:
    with _server(b"one:") as first, _server(b"two:") as second:
        relay = TcpRelay(first).start()
        assert _ask(relay.port, b"x") == b"one:x"
        relay.retarget(second)
        assert _ask(relay.port, b"y") == b"two:y"
        relay.stop()
