"""An embedded S3+IAM endpoint in a child process of its own: a server nobody else resets.

moto keeps one state per process, and the tests' own endpoint (``embedded_s3``) is reset by
the modules that need an empty server. A stack that ``pulumi up`` deployed once, to be shared by
many test modules, therefore lives on a server in a child process: :class:`EndpointProcess`
starts ``python -m devtools.endpoint.child_process``, which runs an :class:`EmbeddedS3` (TLS,
authentication on) and prints one JSON line (:func:`announce`) with its address, region, CA
file and admin keys; the parent talks to it over HTTPS only, as the engine's plugins do. The
child stops, and removes its CA files, when its standard input closes: with the parent.

Two options, sent as the first line of the child's standard input (never in its arguments or
environment, which other users can read): an admin secret of the parent's choosing (the admin
then signs as ``embedded-admin`` with it, so several endpoints share one admin, as the sandbox's
do), and ``handmade``: the child starts with the specification's hand-made state
(:func:`devtools.endpoint.handmade.build_handmade`), for a takeover, and announces its console key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import IO, TYPE_CHECKING, Any

from devtools.endpoint.clients import Credentials, plain_client
from infra.project import REPOSITORY

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

    from devtools.endpoint.embedded_s3 import EmbeddedS3

STARTUP_TIMEOUT = 60.0


def announce(
    endpoint: EmbeddedS3, admin: Credentials | None = None, console: Credentials | None = None
) -> str:
    """The line the child prints once its endpoint serves (what the parent needs of it):
    ``admin`` if not the endpoint's own, ``console`` the hand-made state's console key."""
    signer = admin or endpoint.admin
    return json.dumps(
        {
            "endpoint": endpoint.endpoint,
            "region": endpoint.region,
            "tls": endpoint.tls,
            "ca_bundle": endpoint.ca_bundle,
            "admin": [signer.access_key, signer.secret_key],
            "console": [console.access_key, console.secret_key] if console else None,
        }
    )


class EndpointProcess:
    """A child endpoint (:meth:`start`, :meth:`stop`), with the attributes and clients of an
    :class:`EmbeddedS3` that callers use (address, TLS, CA, region, admin keys, admin
    clients)."""

    def __init__(self, *, admin_secret: str | None = None, handmade: bool = False) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._info: dict[str, Any] = {}
        self._options = {"admin_secret": admin_secret, "handmade": handmade}

    def start(self) -> EndpointProcess:
        """Start the child and wait for its announcement; return self."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "devtools.endpoint.child_process"],
            cwd=REPOSITORY,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            # A process group of its own: Ctrl-C in the terminal is the parent's to handle (it
            # stops the child by closing its stdin), not a traceback of the child's.
            process_group=0,
        )
        stdin: IO[str] | None = self._process.stdin
        stdout: IO[str] | None = self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(self._options) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the child endpoint exited before it served (see its stderr)")
        self._info = json.loads(line)
        return self

    def stop(self) -> None:
        """Close the child's standard input (it stops), wait for it; safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``."""
        return str(self._info["endpoint"])

    @property
    def tls(self) -> bool:
        """Whether it serves HTTPS (always: the child starts its endpoint with TLS)."""
        return bool(self._info["tls"])

    @property
    def endpoint_url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    @property
    def region(self) -> str:
        """The endpoint's region."""
        return str(self._info["region"])

    @property
    def ca_bundle(self) -> str | None:
        """The PEM file of the child's throwaway CA."""
        found = self._info["ca_bundle"]
        return None if found is None else str(found)

    @property
    def admin(self) -> Credentials:
        """The identity allowed everything."""
        access, secret = self._info["admin"]
        return Credentials(access, secret)

    @property
    def console(self) -> Credentials | None:
        """The hand-made state's console service account (``handmade`` only)."""
        found = self._info.get("console")
        return Credentials(*found) if found else None

    def s3(self, credentials: Credentials | None = None) -> S3Client:
        """A plain boto3 S3 client (admin unless ``credentials``)."""
        client: S3Client = self._client("s3", credentials)
        return client

    def iam(self, credentials: Credentials | None = None) -> IAMClient:
        """A plain boto3 IAM client (admin unless ``credentials``)."""
        client: IAMClient = self._client("iam", credentials)
        return client

    def _client(self, service: str, credentials: Credentials | None) -> Any:
        creds = credentials or self.admin
        return plain_client(service, self.endpoint_url, self.region, creds, self.ca_bundle)


def main() -> None:
    """Serve until standard input closes (the parent stopped or died)."""
    from devtools.endpoint.embedded_s3 import ADMIN_USER, EmbeddedS3  # moto: only in the child
    from devtools.endpoint.handmade import build_handmade

    options = json.loads(sys.stdin.readline() or "{}")
    with EmbeddedS3(authentication=True) as endpoint:
        admin = None
        if options.get("admin_secret"):
            admin = endpoint.set_user_secret(ADMIN_USER, str(options["admin_secret"]))
        console = build_handmade(endpoint).console_keys if options.get("handmade") else None
        print(announce(endpoint, admin, console), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
