"""An embedded S3 + IAM endpoint for development and tests: moto's server on loopback.

Dev-only: the runtime package never imports this. With ``authentication=True`` every request must
be signed by an IAM access key that exists on the server, and IAM policies are evaluated, so policy
documents are enforced on real signed requests. An admin identity is created before authentication
is switched on; :attr:`EmbeddedS3.admin` holds its keys.

TLS is on by default, as in production: a throwaway CA (:mod:`devtools.endpoint.tls`) signs a
certificate for ``127.0.0.1``/``localhost``, and :attr:`EmbeddedS3.ca_bundle` is the CA's PEM
file, which :meth:`EmbeddedS3.settings` and :meth:`EmbeddedS3.env` hand on as ``MINIO_CA_BUNDLE``.
``tls=False`` serves plain HTTP. Connections stay open across requests, as MinIO keeps them
(``keep_alive=False``: werkzeug's close after every response).

moto keeps its state per process: one running server per process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import ssl
import tempfile
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from devtools.endpoint import moto_compat

# Re-exported: the tests and demos take both from here, beside the endpoint.
from devtools.endpoint.clients import Credentials as Credentials
from devtools.endpoint.clients import plain_client as plain_client
from devtools.endpoint.moto_server import (
    AuthenticatingMotoServer,
    KeepAliveRequestHandler,
    QuickRequestHandler,
)
from devtools.endpoint.tls import DEFAULT_VALIDITY, LOOPBACK_NAMES, ServerCertificate, ThrowawayCA
from voice_recordings.settings import DEFAULT_BUCKET, DEFAULT_REGION, Env, StorageSettings

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

ADMIN_USER = "embedded-admin"
_ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# Only one embedded server may run per process (moto's backends are process-wide).
_running_lock = threading.Lock()


class EmbeddedS3:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port, over TLS unless ``tls=False``;
    use as a context manager."""

    def __init__(
        self,
        *,
        authentication: bool = True,
        region: str = DEFAULT_REGION,
        tls: bool = True,
        keep_alive: bool = True,
    ) -> None:
        self.authentication = authentication
        self.region = region
        self.tls = tls
        # Connections stay open across requests, as MinIO keeps them: a TLS handshake per
        # connection, not per request. False: werkzeug's own close after every response.
        self.keep_alive = keep_alive
        self._server: Any = None
        self._admin: Credentials | None = None
        self._tls_dir: Path | None = None
        self._ca: ThrowawayCA | None = None
        self._server_context: ssl.SSLContext | None = None
        self._certificate: ServerCertificate | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> EmbeddedS3:
        """Start the server (and switch authentication on, if asked); return self."""
        if not _running_lock.acquire(blocking=False):
            raise RuntimeError("an EmbeddedS3 is already running in this process; stop it first")
        try:
            # The server logs every request through werkzeug; keep test and demo output readable.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            moto_compat.apply()
            if self.tls:
                self._tls_dir = Path(tempfile.mkdtemp(prefix="embedded-s3-tls-"))
                self._ca = ThrowawayCA(self._tls_dir)
                self._certificate = self._ca.issue()
                self._server_context = self._certificate.server_context()
            self._server = AuthenticatingMotoServer(
                self._admin_keys,
                self._server_context,
                KeepAliveRequestHandler if self.keep_alive else QuickRequestHandler,
            )
            self._server.start()
            self._bootstrap()
        except BaseException:
            if self._server is None:  # failed before a server existed: stop() has nothing to do
                self._remove_tls_files()
                _running_lock.release()
            else:
                self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server, forget its state and free its port; safe to call twice."""
        if self._server is None:
            return
        try:
            # moto's state outlives its server in the process: forget it, so that a later
            # EmbeddedS3 starts empty, as a new server would.
            self._moto_api("reset-auth", b"inf")
            self._moto_api("reset", b"")
            self._server.stop()
        finally:
            self._server = None
            self._admin = None
            self._remove_tls_files()
            _running_lock.release()

    def _remove_tls_files(self) -> None:
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
        self._tls_dir = self._ca = self._server_context = self._certificate = None

    def reset(self) -> None:
        """Forget every bucket, object, user and key; a new admin is created."""
        self._moto_api("reset-auth", b"inf")
        self._moto_api("reset", b"")
        self._bootstrap()

    def __enter__(self) -> EmbeddedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and identities -----------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT`` (the MINIO_ENDPOINT form)."""
        if self._server is None:
            raise RuntimeError("EmbeddedS3 is not running: call start() first")
        host, port = self._server.get_host_and_port()
        return f"{host}:{port}"

    @property
    def endpoint_url(self) -> str:
        """``https://127.0.0.1:PORT`` (``http://`` when TLS is off)."""
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    @property
    def ca_bundle(self) -> str | None:
        """The throwaway CA's PEM file (``MINIO_CA_BUNDLE``); None when TLS is off."""
        if self.tls and self._ca is None:
            raise RuntimeError("EmbeddedS3 is not running: call start() first")
        return str(self._ca.ca_path) if self._ca is not None else None

    @property
    def certificate(self) -> ServerCertificate:
        """The server certificate presented now (TLS only)."""
        if self._certificate is None:
            raise RuntimeError("EmbeddedS3 serves no certificate: start it with tls=True")
        return self._certificate

    @contextmanager
    def serving_certificate(
        self,
        names: Sequence[str] = LOOPBACK_NAMES,
        validity: dt.timedelta = DEFAULT_VALIDITY,
    ) -> Iterator[ServerCertificate]:
        """Present another certificate from the same CA (e.g. for another host, or about to
        expire) to connections opened inside the block, as a server whose certificate was
        replaced; the usual one is back afterwards. Clients that verify the hostname, the admin
        clients included, fail on new connections meanwhile if ``names`` lacks 127.0.0.1."""
        if self._ca is None or self._server_context is None or self._certificate is None:
            raise RuntimeError("EmbeddedS3 serves no certificate: start it with tls=True")
        usual = self._certificate
        replacement = self._ca.issue(names, validity)
        # A context loads a new chain in place: every later handshake presents it.
        self._server_context.load_cert_chain(replacement.cert_path, replacement.key_path)
        self._certificate = replacement
        try:
            yield replacement
        finally:
            self._server_context.load_cert_chain(usual.cert_path, usual.key_path)
            self._certificate = usual

    @property
    def admin(self) -> Credentials:
        """The identity allowed everything (creates buckets, users, policies)."""
        if self._admin is None:
            raise RuntimeError("EmbeddedS3 is not running: call start() first")
        return self._admin

    def settings(
        self, credentials: Credentials | None = None, bucket: str = DEFAULT_BUCKET, **extra: Any
    ) -> StorageSettings:
        """StorageSettings pointing at this endpoint (admin keys unless ``credentials``)."""
        creds = credentials or self.admin
        options: dict[str, Any] = {"use_ssl": self.tls, "ca_bundle": self.ca_bundle, **extra}
        return StorageSettings(
            endpoint=self.endpoint,
            access_key=creds.access_key,
            secret_key=creds.secret_key,
            bucket=bucket,
            region=self.region,
            **options,
        )

    def env(
        self, credentials: Credentials | None = None, bucket: str = DEFAULT_BUCKET
    ) -> dict[str, str]:
        """The MINIO_* environment for this endpoint, as the Voice AI service would have it."""
        creds = credentials or self.admin
        env = {
            Env.ENDPOINT: self.endpoint,
            Env.ACCESS_KEY: creds.access_key,
            Env.SECRET_KEY: creds.secret_key,
            Env.BUCKET: bucket,
            Env.USE_SSL: str(self.tls).lower(),
            Env.REGION: self.region,
        }
        if self.ca_bundle is not None:
            env[Env.CA_BUNDLE] = self.ca_bundle
        return env

    def s3(self, credentials: Credentials | None = None) -> S3Client:
        """A plain boto3 S3 client (admin unless ``credentials``)."""
        client: S3Client = self._client("s3", credentials or self.admin)
        return client

    def iam(self, credentials: Credentials | None = None) -> IAMClient:
        """A plain boto3 IAM client (admin unless ``credentials``)."""
        client: IAMClient = self._client("iam", credentials or self.admin)
        return client

    def set_user_secret(self, user: str, secret: str) -> Credentials:
        """Give IAM user ``user`` the S3 key pair a MinIO user has: its name and its password.

        On MinIO, ``mc admin user add ALIAS NAME PASSWORD`` makes a user that signs S3 requests
        with access key NAME and secret PASSWORD. AWS IAM has no such thing (access key ids are
        generated), so the key is made in moto's backend (the server runs in this process) with
        the user's name as its id. The same secret is the user's login profile password, which is
        where the provider writes an ``IamUser``'s secret (:meth:`user_secret` reads it): one
        secret, seen both ways. Calling it again replaces the secret, as ``mc admin user add`` of
        an existing user does. The user must exist.
        """
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.iam.models import iam_backends

        if self._server is None:
            raise RuntimeError("EmbeddedS3 is not running: call start() first")
        backend = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
        iam_user = backend.get_user(user)
        for old in [k for k in iam_user.access_keys if k.access_key_id == user]:
            iam_user.access_keys.remove(old)
            backend.access_keys.pop(old.access_key_id, None)
        key = backend.create_access_key(user)
        del backend.access_keys[key.access_key_id]
        key.access_key_id, key.secret_access_key = user, secret
        backend.access_keys[user] = key
        iam_user.password = secret
        return Credentials(user, secret)

    def user_secret(self, user: str) -> str | None:
        """The user's login profile password (where the provider writes a user's secret)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.iam.models import iam_backends

        if self._server is None:
            raise RuntimeError("EmbeddedS3 is not running: call start() first")
        password: str | None = iam_backends[DEFAULT_ACCOUNT_ID]["aws"].get_user(user).password
        return password

    # -- internals --------------------------------------------------------------------------

    def _admin_keys(self) -> tuple[str, str]:
        return self.admin.access_key, self.admin.secret_key

    def _client(self, service: str, creds: Credentials) -> Any:
        return plain_client(service, self.endpoint_url, self.region, creds, self.ca_bundle)

    def _bootstrap(self) -> None:
        # Before authentication is on, any signature is accepted: create the admin with it.
        bootstrap = Credentials("bootstrap", "bootstrap")
        iam = self._client("iam", bootstrap)
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER, PolicyName="admin", PolicyDocument=json.dumps(_ADMIN_POLICY)
        )
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self._admin = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        if self.authentication:
            self._moto_api("reset-auth", b"0")

    def _moto_api(self, action: str, body: bytes) -> None:
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/{action}",
            data=body,
            method="POST",
            # A form content type would make the server parse (and swallow) the body.
            headers={"Content-Type": "text/plain"},
        )
        # Our own server on loopback: trust its CA, whatever names its certificate has now.
        context = self._ca.client_context(check_hostname=False) if self._ca else None
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            response.read()
