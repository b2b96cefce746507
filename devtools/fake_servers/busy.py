"""A server that is up and refuses every upload as busy: ``503 SlowDown``, what S3 and MinIO
answer when overloaded, which botocore retries after a backoff. Plain HTTP on loopback, a thread
per connection, a backlog for a burst of connections; it counts the requests it refused.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from typing import Final

from devtools.fake_servers.loopback_http import LoopbackHTTPServer, QuietServer

SLOW_DOWN: Final = b"<Error><Code>SlowDown</Code><Message>busy</Message></Error>"


class _Server(QuietServer):
    # A burst opens dozens of connections at once; the default backlog (5) would drop their
    # SYNs, and the kernel retries a dropped SYN only after a second.
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Busy)
        self.lock = threading.Lock()
        self.requests = 0


class _Busy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # so it answers "100 Continue" (botocore would wait 1 s)
    server: _Server

    def do_PUT(self) -> None:
        with self.server.lock:
            self.server.requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(503)
        self.send_header("Content-Length", str(len(SLOW_DOWN)))
        self.end_headers()
        self.wfile.write(SLOW_DOWN)

    do_POST = do_PUT

    def log_message(self, format: str, *args: object) -> None:
        """Nothing to log."""


class BusyServer(LoopbackHTTPServer):
    """The busy server, serving inside ``with``; ``endpoint`` is ``127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self._busy = _Server()
        super().__init__(self._busy)

    @property
    def requests(self) -> int:
        """How many requests it has refused so far."""
        with self._busy.lock:
            return self._busy.requests
