"""A minimal S3 sink: answers every upload at once, as S3 would, and keeps nothing.

The embedded endpoint (moto) spends more on each upload than any client does (parsing, storing,
its own checksums), which hides what a client costs. :class:`SinkS3` does the least an S3 server
can: it reads each request's body (into one reused buffer, nothing kept, nothing hashed) and
answers with what a client and the uploader's answer checks (``voice_recordings/answers.py``)
need: an ``ETag`` for a PUT or a part, the ``x-amz-checksum-*`` the request carried (in a header,
or in an aws-chunked trailer) echoed back, an ``UploadId`` for a multipart start, an ``ETag``
for its completion. It checks no signature and no checksum: it measures clients, never
verifies them (``make bench`` runs the same clients against the embedded endpoint for that).

TLS by default (a throwaway CA, as the embedded endpoint), handshakes in each connection's
thread, connections kept open and Nagle off (as MinIO): a ``100 Continue`` goes out at once.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import socket
import ssl
import tempfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from devtools.endpoint.tls import ThrowawayCA
from devtools.fake_servers.loopback_http import LoopbackHTTPServer, QuietServer
from voice_recordings.settings import Env

_BUFFER: Final = 1024 * 1024
_NAMESPACE: Final = "http://s3.amazonaws.com/doc/2006-03-01/"
_CHECKSUM_PREFIX: Final = "x-amz-checksum-"
# The end of a chunked body is kept to find its trailing checksum (a line of ~70 bytes).
_TAIL: Final = 256
_TRAILER: Final = re.compile(rb"x-amz-checksum-(\w+)\s*:\s*([A-Za-z0-9+/=]+)", re.IGNORECASE)
HANDSHAKE_TIMEOUT: Final = 10.0


class _Server(QuietServer):
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Nagle off, then TLS in this connection's own thread (never in the accept loop)."""
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                with contextlib.suppress(OSError):
                    request.close()
                return
            request.settimeout(None)
        super().finish_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    _buffer: bytearray

    def setup(self) -> None:
        super().setup()
        self._buffer = bytearray(_BUFFER)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a benchmark's thousands of requests."""

    def _drain(self, length: int) -> bytes:
        """Read ``length`` bytes into the reused buffer; return the last few (for a trailer)."""
        view, tail = memoryview(self._buffer), b""
        while length > 0:
            got = self.rfile.readinto(view[: min(length, _BUFFER)])
            if not got:
                raise ConnectionError("the client hung up mid-body")
            tail = (tail + view[max(0, got - _TAIL) : got].tobytes())[-_TAIL:]
            length -= got
        return tail

    def _read_body(self) -> dict[str, str]:
        """Read (and drop) the body; return the checksums it carried, header or trailer."""
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        checksums = {
            name.lower(): value
            for name, value in self.headers.items()
            if name.lower().startswith(_CHECKSUM_PREFIX) and name.lower() != "x-amz-checksum-type"
        }
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # HTTP chunked: hex size, data, ..., a zero-size chunk, then trailer lines. botocore's
            # aws-chunked body (same framing, its checksum in a trailer) travels inside it, so
            # the checksum is the last line of the data, or a trailer line if sent unwrapped.
            tail = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    break
                tail = (tail + self._drain(size))[-_TAIL:]
                self.rfile.readline()
            while line := self.rfile.readline().strip():
                tail += b"\r\n" + line
            for name, value in _TRAILER.findall(tail):
                checksums[_CHECKSUM_PREFIX + name.decode().lower()] = value.decode()
        else:
            self._drain(int(self.headers.get("Content-Length") or 0))
        return checksums

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/xml")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_PUT(self) -> None:
        """An object or a part: its ETag and the checksum it carried."""
        checksums = self._read_body()
        self._send(200, headers={"ETag": f'"{secrets.token_hex(16)}"', **checksums})

    def do_POST(self) -> None:
        """A multipart upload's start (``?uploads``) or completion (``?uploadId=``)."""
        self._read_body()
        path = urlsplit(self.path)
        query = parse_qs(path.query, keep_blank_values=True)
        bucket, _, key = path.path.lstrip("/").partition("/")
        where = f"<Bucket>{bucket}</Bucket><Key>{key}</Key>"
        if "uploads" in query:
            upload_id = secrets.token_hex(16)
            xml = f"<InitiateMultipartUploadResult>{where}<UploadId>{upload_id}</UploadId>"
            self._send(200, _xml(xml + "</InitiateMultipartUploadResult>"))
        elif "uploadId" in query:
            etag = f"&quot;{secrets.token_hex(16)}-1&quot;"
            xml = f"<CompleteMultipartUploadResult>{where}<ETag>{etag}</ETag>"
            self._send(200, _xml(xml + "</CompleteMultipartUploadResult>"))
        else:
            self._send(501)

    def do_GET(self) -> None:
        """Only what a client asks before uploading (a bucket's region); nothing is stored."""
        if "location" in parse_qs(urlsplit(self.path).query, keep_blank_values=True):
            self._send(200, _xml("<LocationConstraint></LocationConstraint>"))
        else:
            self._send(404)

    def do_HEAD(self) -> None:
        """A bucket exists (whatever is asked); objects are never kept."""
        self._send(200)


def _xml(element: str) -> bytes:
    opening, _, rest = element.partition(">")
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f'{declaration}\n{opening} xmlns="{_NAMESPACE}">{rest}'.encode()


class SinkS3(LoopbackHTTPServer):
    """The sink on loopback; ``endpoint`` is ``host:port``, ``ca_bundle`` the CA to trust."""

    def __init__(self, tls: bool = True) -> None:
        self.tls = tls
        server = _Server(("127.0.0.1", 0), _Handler)
        super().__init__(server)
        self._tls_dir: Path | None = None
        self.ca_bundle: str | None = None
        if tls:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="sink-s3-tls-"))
            ca = ThrowawayCA(self._tls_dir)
            server.tls = ca.issue().server_context()
            self.ca_bundle = str(ca.ca_path)

    def env(self, bucket: str) -> dict[str, str]:
        """The MINIO_* environment for this sink (any keys: it checks none)."""
        env = {
            Env.ENDPOINT: self.endpoint,
            Env.ACCESS_KEY: "sink-access-key",
            Env.SECRET_KEY: "sink-secret-key-not-checked",
            Env.BUCKET: bucket,
            Env.USE_SSL: str(self.tls).lower(),
        }
        if self.ca_bundle is not None:
            env[Env.CA_BUNDLE] = self.ca_bundle
        return env

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        super().__exit__(kind, value, traceback)
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
