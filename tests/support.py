"""Helpers shared by the test packages (not fixtures: see the conftest files for those).

Tests import helpers from here, never from a ``conftest.py`` (pytest loads those itself; importing
one as a module loads it twice). The integration tests' *targets* (an endpoint, a bucket, the
stack's identities: see ``tests/integration/conftest.py``) are defined here too.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import pytest
import requests

from devtools.endpoint.embedded_s3 import Credentials, plain_client
from infra.config import full_key
from infra.mocked_run import ProgramRun, run_program
from infra.mocks import ResourceRecord
from infra.render import render_stack
from voice_recordings import VOICE, Kind, MinioUploader, StorageSettings
from voice_recordings.endpoints import normalize_endpoint
from voice_recordings.settings import Env, parse_bool
from voice_recordings.spool.spool import Spool

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

    from tests.deployments import Deployment

ROOT = Path(__file__).resolve().parents[1]


def disk_tree(top: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ``top`` (``top`` too) with its mode, size and modification time: a
    directory made, a mode changed, a file written (even one removed again: its directory's
    time moves) all show when two snapshots are compared."""
    return {
        str(path.relative_to(top)): (info.st_mode, info.st_size, info.st_mtime_ns)
        for path in [top, *top.rglob("*")]
        for info in [path.lstat()]
    }


class GeneratedStream(io.RawIOBase):
    """A non-seekable stream of ``size`` bytes made on the fly (like a pipe or a socket).

    It never exists whole in memory; ``sha`` is the digest of what was read so far, and
    ``largest_read`` the largest read asked of it (to prove a reader streams in chunks).
    """

    def __init__(self, size: int) -> None:
        self.remaining, self.largest_read = size, 0
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.largest_read = max(self.largest_read, len(buffer))
        n = min(len(buffer), self.remaining)
        chunk = bytes([self.remaining % 251]) * n
        buffer[:n] = chunk
        self.sha.update(chunk)
        self.remaining -= n
        return n


def run_command(
    argv: list[str], *, cwd: Path, env: Mapping[str, str], stdin: Any = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``argv`` in a process of its own, as a person runs it (``env`` is its whole environment,
    no stdin unless given): its exit code and output, whatever the code."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(script: str, *args: str, timeout: float = 120) -> str:
    """Run ``script`` in a child Python at the repository root; return its standard output.

    For what must not share this process: moto keeps one state per process, and the session's
    embedded endpoint already holds it.
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- integration targets (the MINIO_TEST_* variables) ------------------------------------------

ENDPOINT_VAR: Final = "MINIO_TEST_ENDPOINT"
UPLOADER_VARS: Final = ("MINIO_TEST_ACCESS_KEY", "MINIO_TEST_SECRET_KEY")
READER_VARS: Final = ("MINIO_TEST_READER_ACCESS_KEY", "MINIO_TEST_READER_SECRET_KEY")
ADMIN_VARS: Final = ("MINIO_TEST_ADMIN_ACCESS_KEY", "MINIO_TEST_ADMIN_SECRET_KEY")
OBSERVER_VARS: Final = ("MINIO_TEST_OBSERVER_ACCESS_KEY", "MINIO_TEST_OBSERVER_SECRET_KEY")
STEWARD_VARS: Final = ("MINIO_TEST_STEWARD_ACCESS_KEY", "MINIO_TEST_STEWARD_SECRET_KEY")
BUCKET_VAR: Final = "MINIO_TEST_BUCKET"
SSL_VAR: Final = "MINIO_TEST_USE_SSL"
CA_BUNDLE_VAR: Final = "MINIO_TEST_CA_BUNDLE"
STACK_VAR: Final = "MINIO_TEST_STACK"
EMBEDDED_STACKS: Final = ("dev", "prod")
# The stack output each variable is set from (docs/developing.md, "Integration tests against a
# real MinIO", step 3): the real-MinIO recipe and the embedded targets read the same outputs.
OUTPUT_OF_VAR: Final = {
    ENDPOINT_VAR: "endpoint",
    SSL_VAR: "use_ssl",
    BUCKET_VAR: "bucket",
    UPLOADER_VARS[0]: "voice_ai_access_key",
    UPLOADER_VARS[1]: "voice_ai_secret_key",
    READER_VARS[0]: "omniplay_reader_access_key",
    READER_VARS[1]: "omniplay_reader_secret_key",
    OBSERVER_VARS[0]: "observer_access_key",
    OBSERVER_VARS[1]: "observer_secret_key",
    STEWARD_VARS[0]: "steward_access_key",
    STEWARD_VARS[1]: "steward_secret_key",
}
# The required keys of a stack config: the smallest config that validates.
MINIMAL_STACK_CONFIG: Final = {
    full_key("endpoint"): "storage.example.net",
    full_key("omniplayApiUrl"): "https://omniplay.example.net",
}
# The opt-in render: anonymous GET of recordings (the specification's public-URL flow).
PUBLIC_OVERRIDES: Final = {
    full_key("publicRecordings"): "true",
    full_key("acknowledgePublicRecordings"): "true",
}


class TrustingSession(requests.Session):
    """A requests session that trusts ``ca_bundle`` (None: the system's CAs) on every request.

    A session's own ``verify`` is not enough: requests lets ``REQUESTS_CA_BUNDLE`` and
    ``CURL_CA_BUNDLE`` override it, and many machines set them.
    """

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """Requests' own merge, then this session's CA unless the call named one."""
        merged: dict[str, Any] = super().merge_environment_settings(
            url, proxies, stream, verify, cert
        )
        if self.ca_bundle is not None and verify in (None, True):
            merged["verify"] = self.ca_bundle
        return merged


def real_minio_configured() -> bool:
    """True when the MINIO_TEST_* variables point the tests at a real MinIO."""
    return all(os.environ.get(name) for name in (ENDPOINT_VAR, *UPLOADER_VARS))


def _keys(env: Mapping[str, str], names: tuple[str, str]) -> Credentials | None:
    access, secret = (env.get(name, "") for name in names)
    return Credentials(access, secret) if access and secret else None


@dataclass(frozen=True)
class Target:
    """An endpoint with the stack's bucket and identities; tests are written once against it."""

    name: str
    render: Mapping[str, Any]  # the desired state the server should match
    endpoint: str  # host:port
    use_ssl: bool
    region: str
    bucket: str
    uploader: Credentials
    reader_keys: Credentials | None
    admin_keys: Credentials | None
    embedded: bool
    ca_bundle: str | None = None  # the PEM file of the CA to trust (None: the system's)
    # The embedded stack's `pulumi up` (its workspace, state and output); None on a real MinIO.
    deployment: Deployment | None = None
    observer_keys: Credentials | None = None
    steward_keys: Credentials | None = None
    # One client per (service, key pair): building a boto3 client costs more than a request.
    _clients: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def endpoint_url(self) -> str:
        """``http(s)://host:port``."""
        return f"{'https' if self.use_ssl else 'http'}://{self.endpoint}"

    @property
    def reader(self) -> Credentials:
        """OmniPlay's reader keys (skips the test when the target has none)."""
        if self.reader_keys is None:
            pytest.skip(f"set {' and '.join(READER_VARS)} to test OmniPlay's reader")
        return self.reader_keys

    @property
    def admin(self) -> Credentials:
        """The server admin's keys (skips the test when the target has none)."""
        if self.admin_keys is None:
            pytest.skip(f"set {' and '.join(ADMIN_VARS)} to inspect the server as its admin")
        return self.admin_keys

    @property
    def steward(self) -> Credentials:
        """The data-protection steward's keys (skips the test when the target has none)."""
        if self.steward_keys is None:
            pytest.skip(f"set {' and '.join(STEWARD_VARS)} to test the steward")
        return self.steward_keys

    @property
    def observer(self) -> Credentials:
        """The read-only observer's keys (skips the test when the target has none)."""
        if self.observer_keys is None:
            pytest.skip(f"set {' and '.join(OBSERVER_VARS)} to test the read-only observer")
        return self.observer_keys

    def env(self, creds: Credentials, spool: Path | str, **extra: str) -> dict[str, str]:
        """The MINIO_* environment of a process acting with ``creds`` (short timeouts, one
        attempt: a failure in a test shows at once)."""
        return {
            Env.ENDPOINT: self.endpoint,
            Env.ACCESS_KEY: creds.access_key,
            Env.SECRET_KEY: creds.secret_key,
            Env.BUCKET: self.bucket,
            Env.USE_SSL: str(self.use_ssl).lower(),
            Env.REGION: self.region,
            Env.SPOOL_DIR: str(spool),
            Env.MAX_ATTEMPTS: "1",
            Env.CONNECT_TIMEOUT: "2",
            **({Env.CA_BUNDLE: self.ca_bundle} if self.ca_bundle else {}),
            **extra,
        }

    def settings(self, credentials: Credentials, **extra: Any) -> StorageSettings:
        """Runtime settings for ``credentials`` (one attempt: a denial must not be retried)."""
        options: dict[str, Any] = {"max_attempts": 1, "ca_bundle": self.ca_bundle, **extra}
        return StorageSettings(
            endpoint=self.endpoint,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            bucket=self.bucket,
            use_ssl=self.use_ssl,
            region=self.region,
            **options,
        )

    def uploader_client(self, **extra: Any) -> MinioUploader:
        """The runtime package's uploader as the Voice AI identity."""
        return MinioUploader(self.settings(self.uploader, **extra))

    @property
    def http(self) -> requests.Session:
        """Unsigned HTTP, as a browser playing a URL (trusting the target's CA)."""
        session = self._clients.get(("http",))
        if session is None:
            session = self._clients[("http",)] = TrustingSession(self.ca_bundle)
        assert isinstance(session, TrustingSession)
        return session

    def s3(self, credentials: Credentials) -> S3Client:
        """A plain S3 client signed by ``credentials``."""
        client: S3Client = self._client("s3", credentials)
        return client

    def iam(self, credentials: Credentials) -> IAMClient:
        """A plain IAM client signed by ``credentials`` (embedded endpoint only)."""
        if not self.embedded:
            pytest.skip(
                "MinIO serves no AWS IAM API (identities live behind its admin API): check the "
                "uploader cannot administer with `mc admin user list` under its keys"
            )
        client: IAMClient = self._client("iam", credentials)
        return client

    def _client(self, service: str, creds: Credentials) -> Any:
        cache_key = (service, creds.access_key, creds.secret_key)
        if cache_key not in self._clients:
            self._clients[cache_key] = plain_client(
                service, self.endpoint_url, self.region, creds, self.ca_bundle
            )
        return self._clients[cache_key]


def deployment_env(deployment: Deployment) -> dict[str, str]:
    """The MINIO_TEST_* variables of an embedded deployment, as docs/developing.md's recipe
    sets them for a real MinIO: each from its stack output (:data:`OUTPUT_OF_VAR`), the admin
    the one that deployed (MINIO_USER/MINIO_PASSWORD), the endpoint's CA, the stack's name."""
    env = {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, output in OUTPUT_OF_VAR.items()
        if (value := deployment.outputs.get(output)) is not None
    }
    admin = deployment.endpoint.admin
    env.update(
        {
            ADMIN_VARS[0]: admin.access_key,
            ADMIN_VARS[1]: admin.secret_key,
            STACK_VAR: deployment.stack,
        }
    )
    if deployment.endpoint.ca_bundle:
        env[CA_BUNDLE_VAR] = deployment.endpoint.ca_bundle
    return env


def deployed_target(deployment: Deployment) -> Target:
    """The target an embedded deployment is: the same path as a real MinIO's
    (:func:`target_from_env`), from its outputs (:func:`deployment_env`)."""
    return target_from_env(
        deployment_env(deployment),
        f"embedded:{deployment.name}",
        deployment.render,
        deployment=deployment,
    )


def minio_target() -> Target:
    """The real MinIO named by the MINIO_TEST_* variables of this process."""
    stack = os.environ.get(STACK_VAR) or "dev"
    return target_from_env(os.environ, f"minio:{stack}", render_stack(stack))


def target_from_env(
    env: Mapping[str, str],
    name: str,
    render: Mapping[str, Any],
    deployment: Deployment | None = None,
) -> Target:
    """The target the MINIO_TEST_* variables in ``env`` name, whose desired state is
    ``render``; ``deployment``: the embedded stack they came from (None: a real MinIO)."""
    raw_ssl = env.get(SSL_VAR)
    use_ssl = parse_bool(SSL_VAR, raw_ssl) if raw_ssl else None
    endpoint, scheme_ssl = normalize_endpoint(env[ENDPOINT_VAR], use_ssl)
    uploader = _keys(env, UPLOADER_VARS)
    assert uploader is not None
    ca_bundle = env.get(CA_BUNDLE_VAR) or None
    if ca_bundle is not None and not os.path.isfile(ca_bundle):
        raise pytest.UsageError(
            f"{CA_BUNDLE_VAR} must name the PEM file of the CA that signed the server's "
            f"certificate, got {ca_bundle!r}"
        )
    return Target(
        name=name,
        render=render,
        endpoint=endpoint,
        use_ssl=use_ssl if use_ssl is not None else bool(scheme_ssl),
        region=str(render["config"][full_key("region")]),
        bucket=env.get(BUCKET_VAR) or str(render["config"][full_key("bucket")]),
        uploader=uploader,
        reader_keys=_keys(env, READER_VARS),
        admin_keys=_keys(env, ADMIN_VARS),
        embedded=deployment is not None,
        observer_keys=_keys(env, OBSERVER_VARS),
        steward_keys=_keys(env, STEWARD_VARS),
        ca_bundle=ca_bundle,
        deployment=deployment,
    )


# -- the Pulumi program under mocks (tests/infra) -----------------------------------------------

STACKS: Final = ("prod", "dev")
# The opt-in to anonymous recordings (the same overrides as the integration targets').
PUBLIC_OPT_IN: Final = PUBLIC_OVERRIDES

_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], ProgramRun] = {}


def program_run(stack: str, overrides: dict[str, str] | None = None) -> ProgramRun:
    """The (cached) mocked run of ``stack`` with ``overrides``."""
    key = (stack, tuple(sorted((overrides or {}).items())))
    if key not in _CACHE:
        _CACHE[key] = run_program(stack, overrides)
    return _CACHE[key]


def only(run: ProgramRun, type_suffix: str, name: str | None = None) -> ResourceRecord:
    """The one resource whose type ends with ``type_suffix`` (and has ``name``, if given)."""
    found = [
        r
        for r in run.resources
        if r.type.endswith(type_suffix) and (name is None or r.name == name)
    ]
    assert len(found) == 1, f"expected one {type_suffix} {name or ''}, got {found}"
    return found[0]


def offline_uploader(spool_dir: Path | None) -> MinioUploader:
    """An uploader whose server does not exist (connections refused at once, one attempt)."""
    return MinioUploader(
        StorageSettings(
            endpoint="127.0.0.1:9",
            access_key="AKIAEXAMPLE",
            secret_key="unit-test-secret-not-real",
            use_ssl=False,
            max_attempts=1,
            spool_dir=spool_dir,
        )
    )


def spool_entry(
    spool: Spool,
    key: str,
    metadata: dict[str, str],
    body: bytes | bytearray | memoryview | IO[bytes],
    *,
    kind: Kind = VOICE,
    reason: str = "unreachable",
    bucket: str = "voice-recordings",
) -> Path:
    """A committed spool entry, written as the uploader writes one after a failed upload
    (voice_recordings.bodies: :meth:`Spool.writer`, the body written or copied, then
    :meth:`~voice_recordings.spool.spool.SpoolWriter.commit`); its directory."""
    writer = spool.writer()
    try:
        if isinstance(body, bytes | bytearray | memoryview):
            writer.write(body)
        else:
            writer.copy_from(body)
        return writer.commit(key, kind, metadata, reason, bucket)
    except BaseException:
        writer.abort()
        raise
