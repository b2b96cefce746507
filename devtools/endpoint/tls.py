"""A throwaway certificate authority for the embedded endpoint's TLS (development only).

Production is ``https://``; so are the demo, the integration tests and the benchmark. At start the
embedded endpoint makes a CA and a server certificate for ``127.0.0.1``/``localhost`` with the
``cryptography`` library. The CA's private key never touches the disk and dies with the process,
so nothing it signed can be trusted anywhere else; only the CA's certificate (the file a client
sets as ``MINIO_CA_BUNDLE``) and the server's key pair are written, to a private directory that
is removed when the endpoint stops.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The names a loopback endpoint is reached by.
LOOPBACK_NAMES: Final = ("127.0.0.1", "localhost")
# Short-lived, yet beyond `voice-recordings check`'s renewal warning (14 days), so a fresh
# endpoint checks all OK; a test asks for less to see the warning.
DEFAULT_VALIDITY: Final = dt.timedelta(days=30)
# Tolerate a little clock skew between the issuing and a verifying process.
_BACKDATE: Final = dt.timedelta(minutes=5)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "voice-recordings embedded endpoint"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _subject_alt_names(names: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


@dataclass(frozen=True)
class ServerCertificate:
    """A server certificate's PEM files (chain and key) and what it was issued for."""

    cert_path: Path
    key_path: Path
    names: tuple[str, ...]
    not_after: dt.datetime

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


class ThrowawayCA:
    """A CA made in memory; issues server certificates into ``directory``."""

    def __init__(self, directory: Path, validity: dt.timedelta = DEFAULT_VALIDITY) -> None:
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        name = _name("voice-recordings throwaway CA")
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.ca_path = directory / "ca.pem"
        self.ca_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._issued = 0

    def issue(
        self, names: Sequence[str] = LOOPBACK_NAMES, validity: dt.timedelta = DEFAULT_VALIDITY
    ) -> ServerCertificate:
        """A server certificate for ``names`` (IP addresses or DNS names), valid for
        ``validity`` from now (a negative one: expired that long ago), written as PEM files
        beside the CA's."""
        if not names:
            raise ValueError("a server certificate needs at least one name (e.g. 127.0.0.1)")
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        not_after = now + validity
        not_before = min(now - _BACKDATE, not_after - dt.timedelta(days=1))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(_subject_alt_names(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        self._issued += 1
        cert_path = self.directory / f"server-{self._issued}.pem"
        key_path = self.directory / f"server-{self._issued}.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return ServerCertificate(cert_path, key_path, tuple(names), not_after)

    def client_context(self, check_hostname: bool = True) -> ssl.SSLContext:
        """A client TLS context that trusts this CA only."""
        context = ssl.create_default_context(cafile=str(self.ca_path))
        context.check_hostname = check_hostname
        return context
