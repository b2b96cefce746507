"""The embedded endpoint shakes hands per connection, off its accept loop (issue 19.8).

Clients that connect and send nothing, or send half a handshake, or plaintext to the TLS port,
hold only their own connection: every other client is served at once. Uses the session's
endpoint (TLS on); a stall would show as the signed request timing out.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3

# A served request takes milliseconds; a stalled accept loop would hold it until the idle
# clients give up (seconds), so a short read timeout makes the stall a failure.
TIMEOUT = 3.0
STALLERS = {
    "silent": b"",
    "half-hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a ClientHello cut short
    "plaintext": b"GET / HTTP/1.1\r\nHost: x\r\n",  # HTTP to the TLS port, unfinished
}


@contextlib.contextmanager
def stalling_clients(endpoint: EmbeddedS3, sends: bytes, count: int) -> Iterator[None]:
    host, port = endpoint.endpoint.rsplit(":", 1)
    sockets = [socket.create_connection((host, int(port)), timeout=TIMEOUT) for _ in range(count)]
    try:
        for sock in sockets:
            if sends:
                sock.sendall(sends)
        time.sleep(0.1)  # let the server accept them first
        yield
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize("shape", sorted(STALLERS))
def test_idle_or_broken_clients_never_stall_another_clients_handshake(
    embedded_s3: EmbeddedS3, shape: str
) -> None:
    assert embedded_s3.tls and embedded_s3.ca_bundle is not None
    host, port = embedded_s3.endpoint.rsplit(":", 1)
    client = embedded_s3.s3()
    with stalling_clients(embedded_s3, STALLERS[shape], count=3):
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as raw:
            context = ssl.create_default_context(cafile=embedded_s3.ca_bundle)
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() is not None  # handshake done while the others idle
        client.list_buckets()
        assert time.monotonic() - started < TIMEOUT
