"""Servers that answer ``200`` to anything without being S3: a console port, a proxy catch-all.

:class:`ImpostorServer` serves plain HTTP on loopback and answers every request (after reading
its body) with HTTP 200 and one of the :data:`ANSWERS`:

- ``"empty"``: no body at all (what botocore parses into ``{}``);
- ``"html"``: a web page (a console's index);
- ``"xml"``: an XML document of another shape (a listing where an upload's answer should be);
- ``"etag"``: an ``ETag`` header and no checksum (a cache, or a server that ignores checksums);
- ``"wrong-checksum"``: an ``ETag`` and, for each checksum the uploader and replay send (CRC32,
  SHA-256: :mod:`voice_recordings.checksums`), an ``x-amz-checksum-*`` of other bytes;
- ``"upload-id"``: a ``CreateMultipartUpload``-shaped answer to every POST, empty answers else.

The uploader tests use them to prove such an answer is never taken for "stored".
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Final, Literal

from devtools.fake_servers.loopback_http import LoopbackHTTPServer, QuietServer
from voice_recordings.checksums import BY_HEADER

Answer = Literal["empty", "html", "xml", "etag", "wrong-checksum", "upload-id"]
ANSWERS: Final[tuple[Answer, ...]] = (
    "empty",
    "html",
    "xml",
    "etag",
    "wrong-checksum",
    "upload-id",
)
# Well-formed checksums of other bytes, one per algorithm a request may carry.
_OTHER_CHECKSUMS: Final = {header: a.b64(b"other bytes") for header, a in BY_HEADER.items()}
_BODIES: Final[dict[str, bytes]] = {
    "html": b"<!doctype html><html><body>MinIO Console</body></html>",
    "xml": b'<?xml version="1.0"?><ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>',
}
_UPLOAD_ID: Final = (
    b'<?xml version="1.0"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>'
    b"<UploadId>fake-upload</UploadId></InitiateMultipartUploadResult>"
)


class ImpostorServer(LoopbackHTTPServer):
    """A loopback HTTP server giving one of the :data:`ANSWERS`; ``endpoint`` is ``host:port``."""

    def __init__(self, answer: Answer) -> None:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}, got {answer!r}")
        self.answer = answer
        self.requests: list[str] = []
        super().__init__(QuietServer(("127.0.0.1", 0), self._handler()))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the tests read ``requests``."""

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Expect", "").lower() == "100-continue":
                    self.send_response_only(100)
                    self.end_headers()
                self.rfile.read(length)
                server.requests.append(f"{self.command} {self.path}")
                body = _BODIES.get(server.answer, b"")
                if server.answer == "upload-id" and self.command == "POST":
                    body = _UPLOAD_ID if "uploads" in self.path else b""
                self.send_response(200)
                if server.answer in ("etag", "wrong-checksum"):
                    self.send_header("ETag", '"d41d8cd98f00b204e9800998ecf8427e"')
                if server.answer == "wrong-checksum":
                    for header, value in _OTHER_CHECKSUMS.items():
                        self.send_header(header, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has headers only
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

        return Handler
