"""One stack's storage in the sandbox: an embedded endpoint at an address that stays.

The endpoint runs in a child process (:class:`devtools.endpoint.child_process.EndpointProcess`: TLS,
authentication on, the sandbox's one admin), behind a :class:`devtools.sandbox.tcp_relay.TcpRelay`
whose address is the stack's ``endpoint``. So the storage can go down (:meth:`Storage.stop`:
connections refused, as from a stopped MinIO) and come back (:meth:`Storage.start`) at the same
address with everything it holds, and be replaced by a new server
(:meth:`Storage.replace`, the specification's hand-made state for the takeover) without a new
address. Its CA is one of those in the sandbox's CA bundle (:func:`write_ca_bundle`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from devtools.endpoint.child_process import EndpointProcess
from devtools.endpoint.clients import Credentials, plain_client
from devtools.sandbox.tcp_relay import HOST, TcpRelay

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client


class Storage:
    """The storage of the stack ``name``: started by :meth:`launch`, closed by :meth:`close`."""

    def __init__(self, name: str, admin_secret: str, ca_bundle: Path) -> None:
        self.name = name
        self._admin_secret = admin_secret
        self._ca_bundle = ca_bundle
        self._server: EndpointProcess | None = None
        self._relay: TcpRelay | None = None

    def launch(self, *, handmade: bool = False) -> Storage:
        """Start its server (``handmade``: with the hand-made state) and the relay; self."""
        self._server = self._new_server(handmade)
        self._relay = TcpRelay(self._target(self._server)).start()
        return self

    def replace(self, *, handmade: bool) -> None:
        """A new, empty server (``handmade``: the hand-made state) at the same address; the old
        one and what it held are gone."""
        old, self._server = self.server, self._new_server(handmade)
        self.relay.retarget(self._target(self._server))
        self.relay.stop()  # drop the connections to the old server
        self.relay.start()
        old.stop()

    def stop(self) -> None:
        """Down: connections to its address are refused; the server keeps what it holds."""
        self.relay.stop()

    def start(self) -> None:
        """Up again, at the same address."""
        self.relay.start()

    def close(self) -> None:
        """Stop the relay and the server for good; safe to call twice."""
        if self._relay is not None:
            self._relay.stop()
        if self._server is not None:
            self._server.stop()
        self._relay = self._server = None

    def _new_server(self, handmade: bool) -> EndpointProcess:
        return EndpointProcess(admin_secret=self._admin_secret, handmade=handmade).start()

    @staticmethod
    def _target(server: EndpointProcess) -> tuple[str, int]:
        host, port = server.endpoint.rsplit(":", 1)
        return host, int(port)

    @property
    def server(self) -> EndpointProcess:
        """The endpoint process behind the relay."""
        if self._server is None:
            raise RuntimeError(f"the {self.name} storage is not running: launch() it first")
        return self._server

    @property
    def relay(self) -> TcpRelay:
        """The relay at the storage's address."""
        if self._relay is None:
            raise RuntimeError(f"the {self.name} storage is not running: launch() it first")
        return self._relay

    @property
    def up(self) -> bool:
        """Whether its address accepts connections."""
        return self._relay is not None and self._relay.running

    # What a stack is pointed at (devtools.endpoint.clients.ServedEndpoint).

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``: the relay's address."""
        return f"{HOST}:{self.relay.port}"

    @property
    def endpoint_url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"https://{self.endpoint}"

    @property
    def tls(self) -> bool:
        """Always: the sandbox's endpoints serve HTTPS."""
        return True

    @property
    def ca_bundle(self) -> str:
        """The sandbox's CA bundle (every storage's CA): the file a stack and a client trust."""
        return str(self._ca_bundle)

    @property
    def region(self) -> str:
        """The endpoint's region."""
        return self.server.region

    @property
    def admin(self) -> Credentials:
        """The sandbox's admin (``MINIO_USER``/``MINIO_PASSWORD``)."""
        return self.server.admin

    @property
    def console(self) -> Credentials | None:
        """The hand-made state's console service account, when it holds one."""
        return self.server.console

    def s3(self, credentials: Credentials | None = None) -> S3Client:
        """A plain S3 client at its address (admin unless ``credentials``)."""
        client: S3Client = plain_client(
            "s3", self.endpoint_url, self.region, credentials or self.admin, self.ca_bundle
        )
        return client

    def iam(self, credentials: Credentials | None = None) -> IAMClient:
        """A plain IAM client at its address (admin unless ``credentials``)."""
        client: IAMClient = plain_client(
            "iam", self.endpoint_url, self.region, credentials or self.admin, self.ca_bundle
        )
        return client


def write_ca_bundle(path: Path, storages: Iterable[Storage]) -> None:
    """``path``: the CA certificate of every running storage's server, one PEM after another
    (Python's ``ssl`` and Go's ``crypto/x509`` read every certificate of such a file)."""
    parts = [
        Path(storage.server.ca_bundle).read_text(encoding="ascii")
        for storage in storages
        if storage.server.ca_bundle
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("".join(parts), encoding="ascii")
    temporary.replace(path)
