"""Every answer any command relies on must prove it came from S3.

A console port, a proxy's catch-all or a health page answers ``200`` to anything. botocore parses
an empty ``200`` into ``{}`` and s3transfer then fails with ``KeyError: 'UploadId'``, or a PUT
comes back "stored" with nothing stored, a listing comes back empty ("would erase 0 version(s)")
with nothing listed. So, on the event hooks of the one client every command uses
(:func:`voice_recordings.client.make_s3_client`), for every operation the package calls (a test
holds the table to the calls in the source):

- ``before-call``: the checksum the request carries (its algorithm and value) is remembered: the
  upload path's CRC32, replay's SHA-256 (:mod:`voice_recordings.checksums`). A part s3transfer
  sends without one gets it here, in a header, instead of botocore's aws-chunked trailer whose
  value is out of reach once sent;
- ``before-parse``: an answer that is a web page (a console's) is refused, whatever its status;
- ``after-call``: a successful answer must hold what the operation needs (an ``UploadId``, an
  ``ETag``, the bucket a listing names, a delete's status or result) and echo the checksum that
  was sent, the same algorithm and value (MinIO echoes the header it verified:
  ``hash.TransferChecksumHeader``). Anything else raises :class:`NotS3Answer`, a
  ``BotoCoreError``: an upload fails like any other storage failure and the recording is
  spooled; ``erase``, ``export``, ``check`` and ``replay`` fail naming the endpoint problem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError

from voice_recordings.checksums import BY_HEADER, ChecksumAlgorithm

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Where the checksum that was sent waits for the answer (botocore hands both hooks one context).
_SENT: Final = "voice_recordings_checksum_sent"
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
    # An erasure marker replay reads (voice_recordings.subject_requests.erasure): a catch-all's
    # 200 must not read as "erased", or it would drop every spooled recording.
    "GetObject": ("ETag",),
    # What erase lists and export reads: S3 names the bucket of every listing, and gives a
    # tag set (maybe empty) for every object.
    "ListObjectVersions": ("Name",),
    "GetObjectTagging": ("TagSet",),
}
# Answers that carry one of several fields: with Quiet off, S3 says of every key in a batch
# delete whether it was deleted or not, so an answer with neither is not S3's.
REQUIRED_ONE_OF: Final[dict[str, tuple[str, ...]]] = {"DeleteObjects": ("Deleted", "Errors")}
# Answers with no body to prove anything: S3 answers a DeleteObject "204 No Content", a
# catch-all "200".
REQUIRED_STATUS: Final[dict[str, int]] = {"DeleteObject": 204, "AbortMultipartUpload": 204}
CHECKED_OPERATIONS: Final = (
    frozenset(REQUIRED_FIELDS) | frozenset(REQUIRED_ONE_OF) | frozenset(REQUIRED_STATUS)
)
ECHOES_CHECKSUM: Final = frozenset({"PutObject", "UploadPart"})


class NotS3Answer(BotoCoreError):
    """A successful HTTP answer that is not S3's answer to the request (a wrong port, a proxy)."""

    fmt = "{detail}"


def _before_call(params: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name not in ECHOES_CHECKSUM:
        return
    headers = params["headers"]
    given = [BY_HEADER[name] for name in headers if name in BY_HEADER]
    algorithm = context.get("checksum", {}).get("request_algorithm")
    sent: tuple[ChecksumAlgorithm, str] | None = None
    if len(given) == 1:
        (checksum,) = given
        sent = (checksum, headers[checksum.header])
        if algorithm is None:
            # A caller-given checksum (the uploader's for a file, replay's) leaves botocore no
            # checksum context (httpchecksum.py skips it), so its signer takes the body for one
            # without a checksum and hashes it again for a signed payload (auth.py,
            # S3SigV4Auth): a second pass over every byte, and the server's, for nothing.
            # Naming the header's place says what is true; botocore computes nothing for a
            # header already there, and still signs the payload over plain HTTP, where TLS does
            # not protect it.
            context.setdefault("checksum", {})["request_algorithm"] = {
                "algorithm": checksum.botocore_name,
                "in": "header",
                "name": checksum.header,
            }
    elif not given and isinstance(algorithm, dict) and algorithm.get("name") in BY_HEADER:
        checksum = BY_HEADER[algorithm["name"]]
        value = checksum.of_body(params.get("body"))
        if value is not None:
            # botocore adds no trailer when the header is there, and signs the request as a
            # plain one once the checksum's place says "header" (httpchecksum.py, auth.py).
            headers[checksum.header] = value
            algorithm["in"] = "header"
            sent = (checksum, value)
    context[_SENT] = sent


def _after_call(
    http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
) -> None:
    if http_response.status_code >= 300:
        return  # botocore raises the ClientError itself
    operation = model.name
    status = http_response.status_code
    # An empty tag set ([]) is S3's; an absent field or an empty ETag is not.
    missing = [n for n in REQUIRED_FIELDS.get(operation, ()) if parsed.get(n) in (None, "")]
    one_of = REQUIRED_ONE_OF.get(operation, ())
    if one_of and not any(parsed.get(name) for name in one_of):
        missing.append(" or ".join(one_of))
    if missing:
        raise NotS3Answer(
            detail=f"the server answered {operation} with HTTP {status} but without "
            f"{', '.join(missing)}: not an S3 answer"
        )
    if REQUIRED_STATUS.get(operation, status) != status:
        raise NotS3Answer(
            detail=f"the server answered {operation} with HTTP {status}, where S3 answers "
            f"{REQUIRED_STATUS[operation]}: not an S3 answer"
        )
    sent = context.get(_SENT)
    if operation not in ECHOES_CHECKSUM or sent is None:
        return
    checksum, value = sent
    echoed = parsed.get(checksum.field)
    if echoed != value:
        raise NotS3Answer(
            detail=f"the server answered {operation} without echoing the {checksum.label} sent "
            f"({'none echoed' if echoed is None else 'a different one echoed'}): the bytes "
            f"are not proven stored"
        )


def _before_parse(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:
    # botocore turns a 200 whose body is not XML into a 500 (handlers._handle_200_error), so a
    # console's web page would read as "S3 server error"; S3 never answers with a web page.
    # The body, not the Content-Type: some S3 servers label empty answers text/html.
    body = response_dict.get("body")
    start = body[:64].lstrip().lower() if isinstance(body, bytes) else b""
    if start.startswith((b"<!doctype html", b"<html")):
        raise NotS3Answer(
            detail=f"the server answered {operation_model.name} with a web page: not an S3 answer"
        )


def install(client: S3Client) -> None:
    """Check every answer ``client`` receives to an operation the package calls (once per
    client)."""
    if getattr(client, _INSTALLED, False):
        return
    for operation in CHECKED_OPERATIONS:
        client.meta.events.register(f"before-call.s3.{operation}", _before_call)
        client.meta.events.register(f"after-call.s3.{operation}", _after_call)
        client.meta.events.register(f"before-parse.s3.{operation}", _before_parse)
    setattr(client, _INSTALLED, True)
