"""A TCP relay on a loopback port in front of a server: an outage at a fixed address.

A stack's endpoint address is in its config and in every ``.env`` block, so the storage behind
it must go down and come back at that address with what it holds (the spool and ``replay``,
tried by hand in the sandbox). :class:`TcpRelay` listens there and forwards each connection to
its target: :meth:`~TcpRelay.stop` closes the listening socket and every open connection
(clients then get "connection refused", as from a stopped server), :meth:`~TcpRelay.start`
listens again on the same port, :meth:`~TcpRelay.retarget` sends new connections to another
server. The bytes pass through untouched: TLS is between the client and the server.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Final

HOST: Final = "127.0.0.1"
CHUNK: Final = 64 * 1024


def _quick(sock: socket.socket) -> socket.socket:
    # Small requests go at once, as to the server itself (Nagle off on both legs).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class TcpRelay:
    """Forwards ``HOST:port`` to ``target`` (``(host, port)``) while started."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._port = 0
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port it listens on (chosen at the first start, the same ever after)."""
        return self._port

    @property
    def running(self) -> bool:
        """Whether it accepts connections now."""
        return self._listener is not None

    def retarget(self, target: tuple[str, int]) -> None:
        """Send new connections to ``target`` (open ones stay where they are)."""
        self._target = target

    def start(self) -> TcpRelay:
        """Listen (again) on the relay's port; return self. No-op while running."""
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The same port right after stop(), whatever connections are still closing.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self._port))
        listener.listen(64)
        self._port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection; safe to call twice."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        if self._accepting is not None:
            self._accepting.join(timeout=5)
        with self._lock:
            connections, self._open = self._open, set()
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self._target, timeout=10)
            except OSError:
                client.close()  # the server behind is gone: as refused
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    client.close()
                    server.close()
                    return
                self._open.update((client, server))
            for source, sink in ((_quick(client), _quick(server)), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)  # the other direction may still be talking
        with self._lock:
            # The second pump to finish closes both sockets.
            if source in self._open and sink not in self._open:
                self._open.discard(source)
                source.close()
                sink.close()
            else:
                self._open.discard(source)
