"""An embedded S3 + IAM endpoint for development and tests: moto's server on loopback.

Dev-only: the runtime package never imports this. With ``authentication=True`` every request must
be signed by an IAM access key that exists on the server, and IAM policies are evaluated, so policy
documents are enforced on real signed requests. An admin identity is created before authentication
is switched on; :attr:`EmbeddedS3.admin` holds its keys.

moto keeps its state per process: one running server per process.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from devtools import moto_compat
from devtools.request_auth import RequestAuthMiddleware
from voice_recordings.settings import DEFAULT_BUCKET, DEFAULT_REGION, StorageSettings

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


@dataclass(frozen=True)
class Credentials:
    """An access key pair (its repr hides the secret)."""

    access_key: str
    secret_key: str

    def __repr__(self) -> str:
        return f"Credentials(access_key={self.access_key!r}, secret_key='***')"


class EmbeddedS3:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, *, authentication: bool = True, region: str = DEFAULT_REGION) -> None:
        self.authentication = authentication
        self.region = region
        self._server: Any = None
        self._admin: Credentials | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> EmbeddedS3:
        """Start the server (and switch authentication on, if asked); return self."""
        if not _running_lock.acquire(blocking=False):
            raise RuntimeError("an EmbeddedS3 is already running in this process; stop it first")
        try:
            # The server logs every request through werkzeug; keep test and demo output readable.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            moto_compat.apply()
            self._server = _AuthenticatingMotoServer(self._admin_keys)
            self._server.start()
            self._bootstrap()
        except BaseException:
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
            _running_lock.release()

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
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.endpoint}"

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
        return StorageSettings(
            endpoint=self.endpoint,
            access_key=creds.access_key,
            secret_key=creds.secret_key,
            bucket=bucket,
            use_ssl=False,
            region=self.region,
            **extra,
        )

    def env(
        self, credentials: Credentials | None = None, bucket: str = DEFAULT_BUCKET
    ) -> dict[str, str]:
        """The MINIO_* environment for this endpoint, as the Voice AI service would have it."""
        creds = credentials or self.admin
        return {
            "MINIO_ENDPOINT": self.endpoint,
            "MINIO_ACCESS_KEY": creds.access_key,
            "MINIO_SECRET_KEY": creds.secret_key,
            "MINIO_BUCKET": bucket,
            "MINIO_USE_SSL": "false",
            "MINIO_REGION": self.region,
        }

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
        where the provisioner writes an ``IamUser``'s secret (:meth:`user_secret` reads it): one
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
        """The user's login profile password (where the provisioner writes a user's secret)."""
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
        return plain_client(service, self.endpoint_url, self.region, creds)

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
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def plain_client(service: str, endpoint_url: str, region: str, creds: Credentials) -> Any:
    """A boto3 client of ``service`` signed by ``creds`` (SigV4, path-style, one attempt: a
    denial in a test must surface at once, not after retries)."""
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
        ),
    )


class _AuthenticatingMotoServer(ThreadedMotoServer):
    """moto's threaded server with :class:`RequestAuthMiddleware` in front of its app."""

    def __init__(self, admin: Callable[[], tuple[str, str]]) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self._admin = admin

    def _server_entry(self) -> None:
        app = RequestAuthMiddleware(DomainDispatcherApplication(create_backend_app), self._admin)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
