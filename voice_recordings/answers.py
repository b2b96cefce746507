"""Every answer the uploader relies on must prove it came from S3.

A console port, a proxy's catch-all or a health page answers ``200`` to anything. botocore parses
an empty ``200`` into ``{}`` and s3transfer then fails with ``KeyError: 'UploadId'``, or a PUT
comes back "stored" with nothing stored. So, on the client's event hooks, for the requests that
store an object (and the listing and HEAD that availability, ``check`` and replay read):

- ``before-call``: the SHA-256 the request carries is remembered (a part s3transfer sends without
  one gets it here, in a header, instead of botocore's aws-chunked trailer whose value is out of
  reach once sent);
- ``after-call``: a successful answer must hold what the operation needs (an ``UploadId``, an
  ``ETag``) and echo the SHA-256 that was sent. Anything else raises :class:`NotS3Answer`, a
  ``BotoCoreError``: the upload fails like any other storage failure, and the recording is spooled.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The header botocore's flexible checksums use for SHA-256 (botocore/httpchecksum.py).
CHECKSUM_HEADER: Final = "x-amz-checksum-sha256"
# Where the SHA-256 that was sent waits for the answer (botocore hands both hooks one context).
_SENT: Final = "voice_recordings_sha256_sent"
_INSTALLED: Final = "_voice_recordings_answer_checks"
# What each storing operation's answer must carry, and whether it must echo the checksum sent.
REQUIRED_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "PutObject": ("ETag",),
    "CreateMultipartUpload": ("UploadId",),
    "UploadPart": ("ETag",),
    "CompleteMultipartUpload": ("ETag",),
    # What is_available, check and replay read: S3 always names the bucket it listed, and
    # always gives an object's ETag.
    "ListObjectsV2": ("Name",),
    "HeadObject": ("ETag",),
    # An erasure marker replay reads (voice_recordings.erasure): a catch-all's 200 must not
    # read as "erased", or it would drop every spooled recording.
    "GetObject": ("ETag",),
}
ECHOES_CHECKSUM: Final = frozenset({"PutObject", "UploadPart"})
_READ_CHUNK: Final = 1024 * 1024


class NotS3Answer(BotoCoreError):
    """A successful HTTP answer that is not S3's answer to the request (a wrong port, a proxy)."""

    fmt = "{detail}"


def _sha256_of(body: Any) -> str | None:
    """The base64 SHA-256 of a request body (bytes, or a seekable file read and rewound)."""
    digest = hashlib.sha256()
    if isinstance(body, bytes | bytearray):
        digest.update(body)
    elif hasattr(body, "read") and hasattr(body, "seek") and hasattr(body, "tell"):
        start = body.tell()
        while chunk := body.read(_READ_CHUNK):
            digest.update(chunk)
        body.seek(start)
    else:
        return None
    return base64.b64encode(digest.digest()).decode()


def _before_call(params: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name not in ECHOES_CHECKSUM:
        return
    headers = params["headers"]
    sent = headers.get(CHECKSUM_HEADER)
    algorithm = context.get("checksum", {}).get("request_algorithm")
    if sent is not None and algorithm is None:
        # A caller-given checksum (the uploader's, replay's) leaves botocore no checksum context
        # (httpchecksum.py skips it), so its signer takes the body for one without a checksum
        # and hashes it again for a signed payload (auth.py, S3SigV4Auth): a second pass over
        # every byte, and the server's, for nothing. Naming the header's place says what is
        # true; botocore computes nothing for a header already there, and still signs the
        # payload over plain HTTP, where TLS does not protect it.
        context.setdefault("checksum", {})["request_algorithm"] = {
            "algorithm": "sha256",
            "in": "header",
            "name": CHECKSUM_HEADER,
        }
    if sent is None and isinstance(algorithm, dict) and algorithm.get("name") == CHECKSUM_HEADER:
        sent = _sha256_of(params.get("body"))
        if sent is not None:
            # botocore adds no trailer when the header is there, and signs the request as a
            # plain one once the checksum's place says "header" (httpchecksum.py, auth.py).
            headers[CHECKSUM_HEADER] = sent
            algorithm["in"] = "header"
    context[_SENT] = sent


def _after_call(
    http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
) -> None:
    if http_response.status_code >= 300:
        return  # botocore raises the ClientError itself
    operation = model.name
    missing = [name for name in REQUIRED_FIELDS.get(operation, ()) if not parsed.get(name)]
    if missing:
        raise NotS3Answer(
            detail=f"the server answered {operation} with HTTP {http_response.status_code} but "
            f"without {', '.join(missing)}: not an S3 answer"
        )
    sent = context.get(_SENT)
    if operation in ECHOES_CHECKSUM and sent is not None and parsed.get("ChecksumSHA256") != sent:
        echoed = parsed.get("ChecksumSHA256")
        raise NotS3Answer(
            detail=f"the server answered {operation} without echoing the SHA-256 sent "
            f"({'none echoed' if echoed is None else 'a different one echoed'}): the bytes "
            f"are not proven stored"
        )


def install(client: S3Client) -> None:
    """Check every storing answer ``client`` receives (once per client)."""
    if getattr(client, _INSTALLED, False):
        return
    for operation in REQUIRED_FIELDS:
        client.meta.events.register(f"before-call.s3.{operation}", _before_call)
        client.meta.events.register(f"after-call.s3.{operation}", _after_call)
    setattr(client, _INSTALLED, True)
