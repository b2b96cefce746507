"""What moto's server lacks to stand in for MinIO: presigned URLs and anonymous bucket-policy reads.

With authentication on, moto evaluates IAM identity policies only for requests that carry an
``Authorization`` header; a presigned URL or an anonymous request crashes it. This WSGI middleware
sits in front of moto and, for those two kinds of request only, does what S3 does:

- presigned (``X-Amz-Signature`` in the query): the SigV4 query signature is verified with the
  signer's secret and the expiry enforced; the request is then passed on signed (header form) by
  the same identity, so moto still evaluates that identity's IAM policies;
- anonymous (no signature at all): the bucket policy's statements for principal ``*`` are
  evaluated for the S3 action; if allowed, the request is passed on signed by the server's admin,
  else ``403 AccessDenied``.

Every other request reaches moto untouched, except that (like MinIO, unlike moto) a PUT whose body
does not match its ``x-amz-checksum-crc32``, ``-sha256`` or ``-sha1`` header or its ``Content-MD5``,
or the CRC32, SHA-256 or SHA-1 in its aws-chunked trailer, is refused (``BadDigest``), and so is
one with two ``x-amz-checksum-*`` headers (``InvalidArgument``, as MinIO's ``getContentChecksum``
in ``internal/hash/checksum.go``: a client that would hash the body twice is caught here).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import zlib
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_QUERY_AUTH = {
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
}
_ANONYMOUS = {"*", "AWS:*"}
_VERIFY_CHUNK = 256 * 1024


class RequestAuthMiddleware:
    """Wraps moto's WSGI app; ``admin`` returns the (access key, secret) of the server's admin."""

    def __init__(self, app: WsgiApp, admin: Callable[[], tuple[str, str]]) -> None:
        self.app = app
        self.admin = admin

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "PUT" and len(_header_checksums(environ)) > 1:
            return _error(start_response, 400, "InvalidArgument", "Invalid checksum provided.")
        if environ.get("REQUEST_METHOD") == "PUT" and not _body_matches_checksums(environ):
            return _error(
                start_response,
                400,
                "BadDigest",
                "The checksum you specified did not match the calculated checksum.",
            )
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api") or environ.get("HTTP_AUTHORIZATION"):
            return self.app(environ, start_response)
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if any(name == "X-Amz-Signature" for name, _ in query):
            return self._presigned(environ, start_response, query)
        return self._anonymous(environ, start_response, query)

    # -- presigned --------------------------------------------------------------------------

    def _presigned(
        self, environ: dict[str, Any], start_response: Callable[..., Any], query: list[Any]
    ) -> Any:
        params = dict(query)
        try:
            access_key, _date, region, service, _ = params["X-Amz-Credential"].split("/")
            signed_at = dt.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
                tzinfo=dt.UTC
            )
            expires = int(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            return _error(
                start_response, 400, "AuthorizationQueryParametersError", "malformed presigned URL"
            )
        secret = _secret_of(access_key, region)
        if secret is None:
            return _error(
                start_response,
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        host = environ.get("HTTP_HOST", "")
        rest = [(k, v) for k, v in query if k != "X-Amz-Signature"]
        url = f"http://{host}{environ.get('PATH_INFO', '')}?{urlencode(rest)}"
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=url, headers={"host": host})
        request.context["timestamp"] = params["X-Amz-Date"]
        auth = S3SigV4QueryAuth(BotoCredentials(access_key, secret), service, region, expires)
        expected = auth.signature(
            auth.string_to_sign(request, auth.canonical_request(request)), request
        )
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return _error(
                start_response,
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if dt.datetime.now(dt.UTC) > signed_at + dt.timedelta(seconds=expires):
            return _error(start_response, 403, "AccessDenied", "Request has expired")
        remaining = [(k, v) for k, v in query if k not in _QUERY_AUTH]
        return self._forward_signed(environ, start_response, remaining, access_key, secret, region)

    # -- anonymous --------------------------------------------------------------------------

    def _anonymous(
        self, environ: dict[str, Any], start_response: Callable[..., Any], query: list[Any]
    ) -> Any:
        bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        action = _anonymous_action(environ["REQUEST_METHOD"], key, {k for k, _ in query})
        resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
        if not bucket or action is None or not _bucket_policy_allows(bucket, action, resource):
            return _error(start_response, 403, "AccessDenied", "Access Denied")
        access_key, secret = self.admin()
        return self._forward_signed(environ, start_response, query, access_key, secret, "us-east-1")

    # -- forwarding -------------------------------------------------------------------------

    def _forward_signed(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        query: list[Any],
        access_key: str,
        secret: str,
        region: str,
    ) -> Any:
        """Pass the request on, signed in header form by ``access_key`` (moto's own check)."""
        host = environ.get("HTTP_HOST", "")
        query_string = urlencode(query)
        url = f"http://{host}{environ.get('PATH_INFO', '')}"
        if query_string:
            url += f"?{query_string}"
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=url, headers={"host": host})
        S3SigV4Auth(BotoCredentials(access_key, secret), "s3", region).add_auth(request)
        environ = dict(environ)
        environ["QUERY_STRING"] = query_string
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"):
            environ["HTTP_" + name.upper().replace("-", "_")] = request.headers[name]
        return self.app(environ, start_response)


def _header_checksums(environ: dict[str, Any]) -> dict[str, str]:
    """The ``x-amz-checksum-<algorithm>`` headers of a request known here, by header name."""
    found = {}
    for name in _CHECKSUMS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value:
            found[name] = value
    return found


def _body_matches_checksums(environ: dict[str, Any]) -> bool:
    """Check a plain (not aws-chunked) PUT body against its checksum headers; keep the body.

    Hashed as it arrives, a chunk at a time, as MinIO's hash reader does (not after the whole
    body is in): the server's hashing overlaps the client's sending, as it would in production,
    rather than adding to every client's time that sends a checksum."""
    if "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", ""):
        return _trailer_matches(environ)
    expected = _header_checksums(environ)
    if environ.get("HTTP_CONTENT_MD5"):
        expected[_MD5] = environ["HTTP_CONTENT_MD5"]
    if not expected:
        return True
    digests = {name: _CHECKSUMS[name]() if name != _MD5 else _Hash("md5") for name in expected}
    left = int(environ.get("CONTENT_LENGTH") or 0)
    stream, parts = environ["wsgi.input"], []
    while left > 0:
        chunk = stream.read(min(left, _VERIFY_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
        for digest in digests.values():
            digest.update(chunk)
    environ["wsgi.input"] = io.BytesIO(b"".join(parts))
    return all(digest.b64digest() == expected[name] for name, digest in digests.items())


def _trailer_matches(environ: dict[str, Any]) -> bool:
    """Check an aws-chunked PUT body (botocore's trailing checksum over TLS: hex size, data,
    ..., a zero-size chunk, then ``x-amz-checksum-<name>:<base64>``) against its trailer, as
    MinIO does; keep the body as it came for moto, which decodes it itself. A trailer of an
    algorithm not known here passes unchecked."""
    trailer = environ.get("HTTP_X_AMZ_TRAILER", "").strip().lower()
    if trailer not in _CHECKSUMS:
        return True
    raw = environ["wsgi.input"].read()
    environ["wsgi.input"] = io.BytesIO(raw)
    checksum = _CHECKSUMS[trailer]()
    view, pos = memoryview(raw), 0
    try:
        while True:
            end = raw.index(b"\r\n", pos)
            size = int(raw[pos:end].split(b";")[0], 16)
            pos = end + 2
            if size == 0:
                break
            checksum.update(view[pos : pos + size])
            pos += size + 2
    except ValueError:
        return False  # malformed framing: refused like a wrong checksum
    sent = {
        name.strip().lower(): value.strip()
        for name, _, value in (
            line.decode("latin-1").partition(":") for line in raw[pos:].split(b"\r\n") if line
        )
    }
    return sent.get(trailer) == checksum.b64digest()


class _Crc32:
    """zlib's CRC32 with hashlib's shape (S3 writes it as base64 of 4 big-endian bytes).

    Not :class:`voice_recordings.checksums.Crc32` on purpose: the endpoint stands in for MinIO,
    and a server that verified with the client's own code would agree with any mistake in it."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = zlib.crc32(data, self._value)

    def b64digest(self) -> str:
        return base64.b64encode(self._value.to_bytes(4, "big")).decode()


class _Hash:
    """A hashlib algorithm with :class:`_Crc32`'s shape."""

    def __init__(self, name: str) -> None:
        self._hash = hashlib.new(name)

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def b64digest(self) -> str:
        return base64.b64encode(self._hash.digest()).decode()


# The checksums verified, in a header or a trailer, by header name (Content-MD5 in a header only).
_CHECKSUMS: dict[str, Callable[[], _Crc32 | _Hash]] = {
    "x-amz-checksum-crc32": _Crc32,
    "x-amz-checksum-sha256": lambda: _Hash("sha256"),
    "x-amz-checksum-sha1": lambda: _Hash("sha1"),
}
_MD5: Final = "content-md5"


def _anonymous_action(method: str, key: str, subresources: set[str]) -> str | None:
    """The S3 action of an unsigned request; None for anything we do not map (denied)."""
    plain = not (
        subresources
        - {
            "versionId",
            "list-type",
            "prefix",
            "delimiter",
            "max-keys",
            "continuation-token",
            "encoding-type",
            "start-after",
        }
    )
    if not plain:
        return None
    if key:
        return {
            "GET": "s3:GetObject",
            "HEAD": "s3:GetObject",
            "PUT": "s3:PutObject",
            "DELETE": "s3:DeleteObject",
        }.get(method)
    return {"GET": "s3:ListBucket", "HEAD": "s3:ListBucket"}.get(method)


def _bucket_policy_allows(bucket: str, action: str, resource: str) -> bool:
    """Evaluate the bucket policy's statements whose principal is everyone."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import s3_backends

    try:
        policy = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(bucket).policy
    except Exception:  # no such bucket: S3 answers AccessDenied to anonymous callers
        return False
    if not policy:
        return False
    document = json.loads(policy)
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    public = [s for s in statements if _principal_is_everyone(s.get("Principal"))]
    if not public:
        return False
    result = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": public}))
    return bool(result.is_action_permitted(action, resource) == PermissionResult.PERMITTED)


def _principal_is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        values = aws if isinstance(aws, list) else [aws]
        return "*" in values
    return False


def _secret_of(access_key: str, region: str) -> str | None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.access_control import CreateAccessKeyFailure, IAMUserAccessKey

    try:
        key = IAMUserAccessKey(DEFAULT_ACCOUNT_ID, "aws", access_key, {})
    except CreateAccessKeyFailure:
        return None
    secret: str = key._secret_access_key
    return secret


def _error(start_response: Callable[..., Any], status: int, code: str, message: str) -> list[bytes]:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
    reason = {400: "Bad Request", 403: "Forbidden"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]
