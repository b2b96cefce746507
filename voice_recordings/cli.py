"""``voice-recordings``: the specification's troubleshooting as commands.

    voice-recordings check                       every check, one line each, with the fix
    voice-recordings upload FILE --company N --call ID [--transcript]
    voice-recordings url KEY [--expires SECONDS]
    voice-recordings replay                      upload what the spool holds

Settings come from the MINIO_* environment, as in the service. Exit codes: 0 success; 1 a check
or an operation failed (the output says which, with the fix); 2 usage or configuration error;
3 (``upload`` only) the server could not take the file and it was spooled for ``replay``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
import ssl
import stat
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Final, Literal

from botocore.exceptions import BotoCoreError, ClientError

from voice_recordings.diagnostics import (
    FIX_SSL,
    FIX_UNREACHABLE,
    diagnose,
    diagnose_tls,
)
from voice_recordings.errors import ConfigError, InvalidInputError, StorageError
from voice_recordings.keys import TRANSCRIPT, VOICE, parse_key
from voice_recordings.settings import Env, StorageSettings
from voice_recordings.spool import Spool
from voice_recordings.uploader import MinioUploader

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_SPOOLED: Final = 3

# The probe ``check`` writes: a fixed key outside every company_{id}/ prefix (ids are positive
# integers, so no company can own it), overwritten by each run. It is tagged like a transcript
# so that the lifecycle rules, which select by tag, expire its old versions.
PROBE_KEY: Final = "healthcheck/voice-recordings-check.txt"
PROBE_BODY: Final = b"voice-recordings check probe: safe to delete\n"
HEALTH_PATH: Final = "/minio/health/live"
CERT_WARN_DAYS: Final = 14
FIX_PUBLIC_URL: Final = (
    f"{Env.PUBLIC_URL} must reach the server from where recordings are played, and be the host "
    f"presigned URLs are signed for"
)
FIX_CAN_DELETE: Final = (
    "this identity may delete recordings: its policy grants more than "
    "policies/voice-ai-uploader.json; restore it with `pulumi up -s <stack>` (and `mc admin "
    "policy info omniplay voice-ai-policy` to see what it has now)"
)

Status = Literal["OK", "WARN", "FAIL", "SKIP"]


@dataclass(frozen=True)
class CheckResult:
    """One line of ``voice-recordings check``."""

    name: str
    status: Status
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4} {self.name:<13} {self.detail}"


# -- check --------------------------------------------------------------------------------------


def run_checks(settings: StorageSettings, uploader: MinioUploader) -> Iterator[CheckResult]:
    """The troubleshooting section, in order; a failed step skips the steps that need it."""
    host, _, port_text = settings.endpoint.rpartition(":")
    if not host or not port_text.isdigit():
        host, port_text = settings.endpoint, "443" if settings.use_ssl else "80"
    host = host.strip("[]")
    port = int(port_text)

    try:
        addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})
    except OSError as exc:
        yield CheckResult("dns", "FAIL", f"{host} does not resolve ({exc}). Fix: {FIX_UNREACHABLE}")
        yield from _skipped("tcp", "tls", "health", "credentials", "bucket", "put", "get")
        yield from _skipped("presigned-url", "delete-denied")
        yield _check_spool(settings)
        return
    yield CheckResult("dns", "OK", f"{host} resolves to {', '.join(addresses)}")

    try:
        with socket.create_connection((host, port), timeout=settings.connect_timeout):
            pass
    except OSError as exc:
        yield CheckResult(
            "tcp", "FAIL", f"cannot connect to {host}:{port} ({exc}). Fix: {FIX_UNREACHABLE}"
        )
        yield from _skipped("tls", "health", "credentials", "bucket", "put", "get")
        yield from _skipped("presigned-url", "delete-denied")
        yield _check_spool(settings)
        return
    yield CheckResult("tcp", "OK", f"{host}:{port} accepts connections")

    tls = _check_tls(settings, host, port)
    yield tls
    if tls.status == "FAIL":
        yield from _skipped("health", "credentials", "bucket", "put", "get")
        yield from _skipped("presigned-url", "delete-denied")
        yield _check_spool(settings)
        return
    yield _check_health(settings)

    access = _check_access(settings, uploader)
    yield from access
    if any(r.status == "FAIL" for r in access):
        yield from _skipped("put", "get", "presigned-url", "delete-denied")
        yield _check_spool(settings)
        return
    yield from _check_permissions(settings, uploader)
    yield _check_spool(settings)


def _skipped(*names: str) -> Iterator[CheckResult]:
    for name in names:
        yield CheckResult(name, "SKIP", "needs the checks above")


def _ssl_context(settings: StorageSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_bundle)


def _check_tls(settings: StorageSettings, host: str, port: int) -> CheckResult:
    if not settings.use_ssl:
        return CheckResult("tls", "SKIP", f"{Env.USE_SSL}=false: plain HTTP (development only)")
    try:
        with (
            socket.create_connection((host, port), timeout=settings.connect_timeout) as raw,
            _ssl_context(settings).wrap_socket(raw, server_hostname=host) as tls,
        ):
            cert = tls.getpeercert() or {}
    except (ssl.SSLError, ssl.CertificateError) as exc:
        diagnosis = diagnose_tls(exc)
        reason = getattr(exc, "verify_message", None) or exc
        return CheckResult("tls", "FAIL", f"{diagnosis.summary}: {reason}. Fix: {diagnosis.fix}")
    except OSError as exc:
        return CheckResult("tls", "FAIL", f"TLS handshake failed ({exc}). Fix: {FIX_SSL}")
    not_after = cert.get("notAfter")
    if not isinstance(not_after, str):
        return CheckResult("tls", "OK", "certificate trusted")
    expires = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), dt.UTC)
    days = (expires - dt.datetime.now(dt.UTC)).days
    detail = f"certificate trusted, valid until {expires:%Y-%m-%d} ({days} days)"
    if days < CERT_WARN_DAYS:
        return CheckResult("tls", "WARN", f"{detail}: renew it soon")
    return CheckResult("tls", "OK", detail)


def _check_health(settings: StorageSettings) -> CheckResult:
    url = settings.endpoint_url + HEALTH_PATH
    context = _ssl_context(settings) if settings.use_ssl else None
    try:
        with urllib.request.urlopen(url, timeout=settings.read_timeout, context=context) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        body = exc.read(512)
        if status in (400, 403, 404) and b"<Error>" in body:
            # MinIO answers this path itself, unauthenticated; a plain S3 server (or the embedded
            # test endpoint) reads it as a bucket "minio" and refuses.
            return CheckResult(
                "health",
                "WARN",
                f"{HEALTH_PATH} answered HTTP {status} with an S3 error: not a MinIO server, "
                f"no health endpoint; skipped",
            )
    except (urllib.error.URLError, OSError) as exc:
        return CheckResult("health", "FAIL", f"{url}: {exc}. Fix: {FIX_UNREACHABLE}")
    if status == 200:
        return CheckResult("health", "OK", f"{HEALTH_PATH} answered 200")
    return CheckResult(
        "health", "FAIL", f"{HEALTH_PATH} answered HTTP {status}. Fix: {FIX_UNREACHABLE}"
    )


def _check_access(settings: StorageSettings, uploader: MinioUploader) -> list[CheckResult]:
    """Credentials, then the bucket. A GET (not HEAD) so the error carries its code: a HEAD
    answer has no body, and a bad signature would look like Access Denied."""
    accepted = CheckResult(
        "credentials", "OK", f"{Env.ACCESS_KEY} {_masked(settings.access_key)} accepted"
    )
    try:
        uploader.client.list_objects_v2(Bucket=settings.bucket, MaxKeys=1, Prefix=PROBE_KEY)
    except (ClientError, BotoCoreError, OSError) as exc:
        found = diagnose(exc)
        if found.category in ("access_denied", "missing_bucket"):
            return [accepted, CheckResult("bucket", "FAIL", f"{settings.bucket}: {found}")]
        return [CheckResult("credentials", "FAIL", str(found)), *_skipped("bucket")]
    return [accepted, CheckResult("bucket", "OK", f"{settings.bucket} reachable (s3:ListBucket)")]


def _check_permissions(settings: StorageSettings, uploader: MinioUploader) -> list[CheckResult]:
    results: list[CheckResult] = []
    try:
        uploader.put(TRANSCRIPT, PROBE_KEY, PROBE_BODY, {})
    except StorageError as exc:
        results.append(CheckResult("put", "FAIL", _storage_detail(exc)))
        return [*results, *_skipped("get", "presigned-url", "delete-denied")]
    results.append(
        CheckResult("put", "OK", f"{PROBE_KEY} written with tag and checksum (s3:PutObject*)")
    )

    try:
        body = uploader.client.get_object(Bucket=settings.bucket, Key=PROBE_KEY)["Body"].read()
    except (ClientError, BotoCoreError, OSError) as exc:
        results.append(CheckResult("get", "FAIL", str(diagnose(exc))))
    else:
        if body == PROBE_BODY:
            results.append(CheckResult("get", "OK", "read back, bytes identical (s3:GetObject)"))
        else:
            results.append(
                CheckResult("get", "FAIL", "read back different bytes. Fix: check the server")
            )

    results.append(_check_presigned(settings, uploader))

    try:
        uploader.client.delete_object(Bucket=settings.bucket, Key=PROBE_KEY)
    except ClientError as exc:
        if diagnose(exc).category == "access_denied":
            results.append(CheckResult("delete-denied", "OK", "delete refused (least privilege)"))
        else:
            results.append(CheckResult("delete-denied", "FAIL", str(diagnose(exc))))
    except (BotoCoreError, OSError) as exc:
        results.append(CheckResult("delete-denied", "FAIL", str(diagnose(exc))))
    else:
        results.append(
            CheckResult("delete-denied", "FAIL", f"delete allowed. Fix: {FIX_CAN_DELETE}")
        )
    return results


def _check_presigned(settings: StorageSettings, uploader: MinioUploader) -> CheckResult:
    if settings.url_mode != "presigned":
        return CheckResult(
            "presigned-url", "SKIP", f"{Env.URL_MODE}=public: recordings use public URLs"
        )
    try:
        url = uploader.presigned_url(PROBE_KEY, expires_in=300)
        context = _ssl_context(settings) if url.startswith("https:") else None
        with urllib.request.urlopen(url, timeout=settings.read_timeout, context=context) as resp:
            played = resp.read() == PROBE_BODY
    except (urllib.error.URLError, OSError, ConfigError) as exc:
        return CheckResult("presigned-url", "FAIL", f"{exc}. Fix: {FIX_PUBLIC_URL}")
    if not played:
        return CheckResult("presigned-url", "FAIL", f"different bytes. Fix: {FIX_PUBLIC_URL}")
    return CheckResult("presigned-url", "OK", f"plays from {settings.public_url}")


def _check_spool(settings: StorageSettings) -> CheckResult:
    if settings.spool_dir is None:
        return CheckResult(
            "spool",
            "WARN",
            f"disabled ({Env.SPOOL_DIR}=off): a storage outage loses recordings",
        )
    spool = Spool(settings.spool_dir)
    try:
        spool.ensure_directory()  # 0700: repaired if ours, refused if others' and writable
        with tempfile.TemporaryFile(dir=spool.directory):
            pass
    except OSError as exc:
        return CheckResult(
            "spool",
            "FAIL",
            f"{spool.directory} is not usable ({exc}). Fix: mount a writable volume there or "
            f"set {Env.SPOOL_DIR}",
        )
    waiting = spool.count()
    if waiting:
        return CheckResult(
            "spool",
            "WARN",
            f"{waiting} recording(s) wait in {spool.directory}: run `voice-recordings replay`",
        )
    return CheckResult("spool", "OK", f"{spool.directory} writable, empty")


def _storage_detail(exc: StorageError) -> str:
    cause = exc.__cause__
    return str(diagnose(cause)) if cause is not None else str(exc)


def _masked(access_key: str) -> str:
    return f"{access_key[:4]}..." if len(access_key) > 4 else "..."


def command_check(settings: StorageSettings, out: IO[str]) -> int:
    """Print every check; 0 if none failed, else 1."""
    uploader = MinioUploader(settings)
    print(
        f"OK   {'settings':<13} endpoint={settings.endpoint_url} bucket={settings.bucket} "
        f"region={settings.region} url_mode={settings.url_mode}",
        file=out,
        flush=True,
    )
    failed = False
    for result in run_checks(settings, uploader):
        print(result, file=out, flush=True)
        failed = failed or result.status == "FAIL"
    uploader.close()
    return EXIT_FAILED if failed else EXIT_OK


# -- upload, url, replay ------------------------------------------------------------------------


class ProgressPrinter:
    """Bytes sent so far, on stderr, at most twice a second (a line each 5 s when not a tty)."""

    def __init__(self, label: str, total: int | None, stream: IO[str]) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.done = 0
        self._tty = stream.isatty()
        self._interval = 0.5 if self._tty else 5.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, sent: int) -> None:
        with self._lock:
            self.done += sent
            now = time.monotonic()
            if now - self._last >= self._interval:
                self._last = now
                self._print()

    def finish(self) -> None:
        """The last figure (and a newline on a tty)."""
        with self._lock:
            self._print()
            if self._tty:
                self.stream.write("\n")

    def _print(self) -> None:
        mib = 1024 * 1024
        line = f"{self.label}: {self.done / mib:.1f} MiB"
        if self.total:
            line += f" of {self.total / mib:.1f} MiB ({100 * self.done // self.total}%)"
        self.stream.write(f"\r{line}" if self._tty else f"{line}\n")
        self.stream.flush()


def command_upload(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Upload one file as a recording (or transcript); print its URL."""
    uploader = MinioUploader(settings)
    when = args.date or dt.datetime.now(dt.UTC)
    kind = TRANSCRIPT if args.transcript else VOICE
    source: IO[bytes]
    if args.file == "-":
        source = sys.stdin.buffer
    else:
        try:
            source = open(args.file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    try:
        total = _check_input(args.file, source)
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        if source is not sys.stdin.buffer:
            source.close()
        return EXIT_USAGE
    progress = ProgressPrinter(f"uploading {args.file}", total, sys.stderr)
    try:
        result = uploader.upload(
            kind,
            source,
            args.call,
            args.company,
            args.domain,
            args.secretary,
            when,
            progress,
        )
    except InvalidInputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"FAIL upload: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        uploader.close()
    progress.finish()
    print(result.url, file=out)
    if result.spooled:
        print(
            f"spooled {result.key} ({result.size} bytes) to {settings.spool_dir}: the server "
            f"could not take it; `voice-recordings replay` uploads it later",
            file=sys.stderr,
        )
        return EXIT_SPOOLED
    print(f"stored {result.key} ({result.size} bytes)", file=sys.stderr)
    return EXIT_OK


def _check_input(name: str, source: IO[bytes]) -> int | None:
    """The input's size (None for a pipe); InvalidInputError unless it is a regular file or a
    pipe (a socket too, for stdin) and holds at least one byte: a device such as /dev/zero
    never ends, a terminal is a forgotten redirection, and an empty recording is a mistake."""
    label = "standard input" if name == "-" else name
    mode = os.fstat(source.fileno()).st_mode
    allowed = stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or (name == "-" and stat.S_ISSOCK(mode))
    if not allowed:
        raise InvalidInputError(
            f"{label} is not a regular file or a pipe ({_file_kind(mode)}): give the path of "
            f"the recording, or pipe it in with `... | voice-recordings upload -`"
        )
    if stat.S_ISREG(mode):
        size = os.fstat(source.fileno()).st_size - source.tell()
        if size <= 0:
            raise InvalidInputError(f"{label} is empty: there is no recording to upload")
        return size
    peek = getattr(source, "peek", None)
    if peek is not None and not peek(1):
        raise InvalidInputError(f"{label} is empty: there is no recording to upload")
    return None


def _file_kind(mode: int) -> str:
    kinds = {
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISDIR: "a directory",
        stat.S_ISSOCK: "a socket",
    }
    return next((text for test, text in kinds.items() if test(mode)), "a special file")


def command_url(args: argparse.Namespace, settings: StorageSettings, out: IO[str]) -> int:
    """Print the URL of a stored object (presigned for ``--expires`` seconds if given)."""
    try:
        key = parse_key(args.key).key
        uploader = MinioUploader(settings)
        url = (
            uploader.presigned_url(key, args.expires)
            if args.expires is not None
            else uploader.url_for(key)
        )
    except (InvalidInputError, ConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    print(url, file=out)
    return EXIT_OK


def command_replay(settings: StorageSettings, out: IO[str]) -> int:
    """Upload the spool; 0 when it is empty afterwards, else 1."""
    uploader = MinioUploader(settings)
    if uploader.spool is None:
        print(f"the spool is disabled ({Env.SPOOL_DIR}=off): nothing to replay", file=out)
        return EXIT_OK
    waiting = uploader.spool.count()
    print(f"{waiting} item(s) in {uploader.spool.directory}", file=sys.stderr, flush=True)
    report = uploader.replay_spool(progress=lambda line: print(line, file=sys.stderr, flush=True))
    uploader.close()
    print(
        f"uploaded {len(report.uploaded)}, already stored {len(report.already_stored)}, "
        f"corrupt {len(report.corrupt)} (kept), failed {len(report.failed)} (kept), busy "
        f"{report.busy}, remaining {report.remaining}",
        file=out,
    )
    for name, reason in report.corrupt:
        print(f"CORRUPT {name}: {reason}", file=out)
    for key, reason in report.failed:
        print(f"FAILED  {key}: {reason}", file=out)
    if report.stopped is not None:
        print(f"STOPPED {report.stopped}", file=out)
    return EXIT_OK if report.ok else EXIT_FAILED


# -- entry point --------------------------------------------------------------------------------


def _date(raw: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {raw!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a timezone, e.g. {raw}+00:00 or {raw}Z")
    return when


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands check, upload, url, replay)."""
    parser = argparse.ArgumentParser(
        prog="voice-recordings",
        description="Voice AI call recordings on MinIO: check, upload, url, replay. Settings "
        "come from the MINIO_* environment variables.",
        epilog="Exit codes: 0 ok; 1 a check or operation failed; 2 usage or configuration "
        "error; 3 upload spooled (the server could not take it).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the library's lines")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="the troubleshooting checks, one line each, with the fix")
    upload = commands.add_parser("upload", help="upload FILE (- for stdin) and print its URL")
    upload.add_argument("file")
    # Validated by the uploader: the library's rule and message.
    upload.add_argument("--company", required=True, help="company id (a positive integer)")
    upload.add_argument("--call", required=True, help="call uuid")
    upload.add_argument("--transcript", action="store_true", help="a transcript, not audio")
    upload.add_argument("--domain", help="domain uuid (metadata)")
    upload.add_argument("--secretary", help="secretary uuid (metadata)")
    upload.add_argument("--date", type=_date, help="call date-time, ISO 8601 (default: now)")
    url = commands.add_parser("url", help="print the URL of KEY")
    url.add_argument("key")
    url.add_argument("--expires", type=int, help="presigned, valid this many seconds")
    commands.add_parser("replay", help="upload what the spool holds, remove what is verified")
    return parser


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    out: IO[str] | None = None,
) -> int:
    """Run the command; return the exit code (``env`` defaults to ``os.environ``)."""
    args = build_parser().parse_args(argv)
    stdout = out or sys.stdout
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = StorageSettings.from_env(env)
    except ConfigError as exc:
        print(f"FAIL settings      {exc}", file=stdout)
        return EXIT_USAGE
    handlers: dict[str, Callable[[], int]] = {
        "check": lambda: command_check(settings, stdout),
        "upload": lambda: command_upload(args, settings, stdout),
        "url": lambda: command_url(args, settings, stdout),
        "replay": lambda: command_replay(settings, stdout),
    }
    return handlers[args.command]()


if __name__ == "__main__":
    sys.exit(main())
