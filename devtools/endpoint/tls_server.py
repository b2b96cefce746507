"""A threaded WSGI server that does each TLS handshake in the connection's own thread.

werkzeug wraps the *listening* socket (``ssl_context.wrap_socket(listener)``), so ``accept()``
performs the handshake in the accept loop (Python's ``SSLSocket.accept`` wraps the new socket
with ``do_handshake_on_connect``): one client that connects and sends nothing stalls every other
client's connection. Here the listener stays plain; :meth:`TLSPerConnectionServer.finish_request`
(run by ``socketserver.ThreadingMixIn`` in the connection's thread) wraps the connection and
shakes hands there, within :data:`HANDSHAKE_TIMEOUT`, as MinIO (Go's ``crypto/tls``) does.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from typing import TYPE_CHECKING, Any, Final

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

# A client that has not finished its handshake by then is dropped (its thread alone waited).
HANDSHAKE_TIMEOUT: Final = 10.0


class TLSPerConnectionServer(ThreadedWSGIServer):
    """werkzeug's threaded server, with TLS set up per connection off the accept loop."""

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApplication,
        handler: type[WSGIRequestHandler],
        *,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(host, port, app, handler, ssl_context=None)
        self._tls = tls
        # werkzeug reads ssl_context to say "https" in the WSGI environ and to log TLS errors.
        self.ssl_context = tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Shake hands (in this connection's thread), then serve the connection."""
        if self._tls is not None:
            raw: socket.socket = request
            raw.settimeout(HANDSHAKE_TIMEOUT)
            try:
                request = self._tls.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):  # a bad or idle client: only this one is dropped
                with contextlib.suppress(OSError):
                    raw.close()
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Close the connection, whether or not it ever became TLS."""
        with contextlib.suppress(OSError):
            super().shutdown_request(request)
