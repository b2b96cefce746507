"""Servers that stall a client on loopback: the two shapes of "up but useless" storage.

- :class:`StallingServer` ``("black-hole")`` accepts TCP connections and then does nothing: it
  never reads and never answers (a hung process, a firewall that lets SYN through).
- :class:`StallingServer` ``("trickle")`` reads and discards what it is sent and answers one byte
  of an HTTP response per second, forever (a saturated link, a stuck proxy): no read timeout ever
  fires, since bytes keep coming.

Each runs in one daemon thread and stops (closing every connection) when its ``with`` block ends.
The handoff benchmark and the deadline tests use them.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from types import TracebackType
from typing import Final, Literal

Behaviour = Literal["black-hole", "trickle"]
BEHAVIOURS: Final[tuple[Behaviour, ...]] = ("black-hole", "trickle")
# What the trickle server sends, a byte at a time (a response that never ends).
TRICKLE: Final = b"HTTP/1.1 200 OK\r\nServer: trickle\r\nX-Padding: " + b"a" * 1_000_000
TRICKLE_INTERVAL: Final = 1.0


class StallingServer:
    """A loopback server with one of the :data:`BEHAVIOURS`; ``endpoint`` is ``127.0.0.1:PORT``."""

    def __init__(self, behaviour: Behaviour, interval: float = TRICKLE_INTERVAL) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}, got {behaviour!r}")
        self.behaviour, self.interval = behaviour, interval
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.endpoint = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"{behaviour}-server")
        self._thread.daemon = True

    def __enter__(self) -> StallingServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        clients: dict[socket.socket, int] = {}  # connection -> bytes of TRICKLE sent
        next_byte = time.monotonic()
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    if key.fileobj is self._listener:
                        conn, _ = self._listener.accept()
                        self.connections += 1
                        clients[conn] = 0
                        if self.behaviour == "trickle":
                            conn.setblocking(False)
                            selector.register(conn, selectors.EVENT_READ)
                    else:
                        self._discard(selector, clients, key.fileobj)  # type: ignore[arg-type]
                if self.behaviour == "trickle" and time.monotonic() >= next_byte:
                    next_byte += self.interval
                    for conn, sent in list(clients.items()):
                        try:
                            conn.send(TRICKLE[sent : sent + 1])
                            clients[conn] = sent + 1
                        except OSError:
                            self._drop(selector, clients, conn)
        finally:
            for conn in clients:
                conn.close()
            selector.close()

    def _discard(
        self,
        selector: selectors.BaseSelector,
        clients: dict[socket.socket, int],
        conn: socket.socket,
    ) -> None:
        try:
            if conn.recv(65536):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        self._drop(selector, clients, conn)  # the client hung up

    def _drop(
        self,
        selector: selectors.BaseSelector,
        clients: dict[socket.socket, int],
        conn: socket.socket,
    ) -> None:
        if self.behaviour == "trickle":
            selector.unregister(conn)
        clients.pop(conn, None)
        conn.close()
