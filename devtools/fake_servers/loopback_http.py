"""An HTTP server on 127.0.0.1 that serves from a daemon thread while a ``with`` block runs: the
one shape of the stand-in servers (the impostors, the sink, the busy server)."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class QuietServer(ThreadingHTTPServer):
    """A thread per connection, never waited for at shutdown; a client that hangs up mid-answer
    (a deadline, the benchmark's end) is expected here, not reported."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Nothing to report."""


class LoopbackHTTPServer:
    """``server`` (bound to 127.0.0.1) serving in a thread inside ``with``; ``endpoint`` is
    ``127.0.0.1:PORT``."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.endpoint = f"127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
