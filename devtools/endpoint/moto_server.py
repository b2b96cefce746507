"""moto's threaded server as MinIO serves: Nagle off, connections kept open, requests signed.

The HTTP plumbing under :class:`devtools.endpoint.embedded_s3.EmbeddedS3`: a request handler with
TCP_NODELAY (:class:`QuickRequestHandler`), one that keeps connections open across requests
(:class:`KeepAliveRequestHandler`), and moto's server with
:class:`~devtools.endpoint.request_auth.RequestAuthMiddleware` in front of its app
(:class:`AuthenticatingMotoServer`).
"""

from __future__ import annotations

import io
import ssl
from collections.abc import Callable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import DechunkedInput
from werkzeug.wsgi import LimitedStream

from devtools.endpoint.request_auth import RequestAuthMiddleware
from devtools.endpoint.tls_server import TLSPerConnectionServer


class QuickRequestHandler(MotoRequestHandler):
    """moto's handler with Nagle's algorithm off on every connection, as MinIO (Go sets
    TCP_NODELAY by default): otherwise the small "100 Continue" a client waits for before a
    large body sits behind the client's delayed ACK, about 40 ms per upload on Linux."""

    disable_nagle_algorithm = True


class KeepAliveRequestHandler(QuickRequestHandler):
    """Keeps a connection open across requests, as MinIO does (werkzeug's server closes each
    one, so every request pays a TCP and a TLS handshake). werkzeug closes because Python's
    http.server cannot find the next request line after a body the application did not read,
    and after each response it reads whatever else arrives, which on an open connection is the
    next request. Here each body (Content-Length or chunked, as botocore sends over TLS) is
    drained to its end after the response, and that after-response read sees no data."""

    _body: io.RawIOBase | None = None
    _socket_input: Any = None

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        self._body = None
        if environ.get("wsgi.input_terminated"):
            self._body = DechunkedInput(self._socket_input)
        else:
            try:
                self._body = LimitedStream(
                    self._socket_input, int(environ.get("CONTENT_LENGTH") or 0)
                )
            except ValueError:
                return environ  # a malformed length: the connection closes after the response
        environ["wsgi.input"] = self._body
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value == "close" and self._body is not None:
            return
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        self._body = None
        self._socket_input = self.rfile
        self.rfile = _NothingMore()  # werkzeug's after-response read
        try:
            super().run_wsgi()
        finally:
            self.rfile = self._socket_input
        if self._body is None:
            self.close_connection = True
            return
        try:
            while self._body.read(1 << 20):
                pass
        except OSError:  # a malformed chunk: the stream is lost
            self.close_connection = True


class _NothingMore(io.BufferedIOBase):
    """What werkzeug's after-response read gets: no data (the connection's next bytes belong
    to the next request)."""

    def read(self, size: int | None = -1) -> bytes:
        """Always nothing."""
        return b""


class AuthenticatingMotoServer(ThreadedMotoServer):
    """moto's threaded server with :class:`RequestAuthMiddleware` in front of its app."""

    def __init__(
        self,
        admin: Callable[[], tuple[str, str]],
        ssl_context: ssl.SSLContext | None,
        handler: type[QuickRequestHandler],
    ) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self._admin = admin
        self._ssl_context = ssl_context
        self._handler = handler

    def _server_entry(self) -> None:
        app = RequestAuthMiddleware(DomainDispatcherApplication(create_backend_app), self._admin)
        # TLS per connection, off the accept loop (devtools/endpoint/tls_server.py): werkzeug's own
        # server shakes hands in accept(), where one idle client stalls every other.
        self._server = TLSPerConnectionServer(
            self._ip_address, self._port, app, self._handler, tls=self._ssl_context
        )
        self._server_ready_event.set()
        self._server.serve_forever()
