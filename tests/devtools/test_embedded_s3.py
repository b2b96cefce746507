"""The embedded endpoint: authentication on, clean stop, and what it adds in front of moto.

Each test here starts its own endpoint, so this module must not share a process with the session
fixture: it runs in a child process per test (moto's state is per process).
"""

from __future__ import annotations

import pytest

from tests.support import run_python


def test_requests_must_be_signed_by_a_known_key_and_stop_frees_the_port() -> None:
    out = run_python(
        """
        import socket
        from botocore.exceptions import ClientError
        from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
        with EmbeddedS3() as endpoint:
            host, port = endpoint.endpoint.split(":")
            endpoint.s3().create_bucket(Bucket="voice-recordings")
            try:
                endpoint.s3(Credentials("AKIANOTAREALKEY00000", "nope")).list_buckets()
            except ClientError as exc:
                print("unknown key:", exc.response["Error"]["Code"])
            try:
                endpoint.s3(Credentials(endpoint.admin.access_key, "wrong")).list_buckets()
            except ClientError as exc:
                print("wrong secret:", exc.response["Error"]["Code"])
            print("admin secret hidden:", endpoint.admin.secret_key not in repr(endpoint.admin))
        with socket.socket() as probe:
            print("port closed:", probe.connect_ex((host, int(port))) != 0)
        with EmbeddedS3() as again:
            print("restart starts empty:", again.s3().list_buckets()["Buckets"] == [])
        """
    )
    assert "unknown key: InvalidAccessKeyId" in out
    assert "wrong secret: SignatureDoesNotMatch" in out
    assert "admin secret hidden: True" in out
    assert "port closed: True" in out
    assert "restart starts empty: True" in out


def test_only_one_endpoint_per_process() -> None:
    out = run_python(
        """
        from unittest import mock
        import devtools.endpoint.embedded_s3 as module
        from devtools.endpoint.embedded_s3 import EmbeddedS3
        with EmbeddedS3():
            try:
                EmbeddedS3().start()
            except RuntimeError as exc:
                print(exc)
        with mock.patch.object(module, "ThrowawayCA", side_effect=OSError("disk full")):
            try:
                EmbeddedS3().start()
            except OSError as exc:
                print("failed start:", exc)
        with EmbeddedS3() as again:
            print("a failed start frees the slot:", again.endpoint_url.startswith("https://"))
        """
    )
    assert "already running in this process" in out
    assert "failed start: disk full" in out
    assert "a failed start frees the slot: True" in out


@pytest.mark.parametrize("tamper", ["signature", "expired"])
def test_presigned_urls_are_verified(tamper: str) -> None:
    out = run_python(
        f"""
        import time, requests
        from devtools.endpoint.embedded_s3 import EmbeddedS3
        with EmbeddedS3() as endpoint:
            s3 = endpoint.s3()
            s3.create_bucket(Bucket="voice-recordings")
            s3.put_object(Bucket="voice-recordings", Key="a.mp3", Body=b"audio")
            params = {{"Bucket": "voice-recordings", "Key": "a.mp3"}}
            # A minute to play the fresh URL: a loaded machine can take more than a second.
            url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
            print("fresh:", requests.get(url, timeout=10, verify=endpoint.ca_bundle).status_code)
            if {tamper!r} == "signature":
                bad = url[:-1] + ("0" if url[-1] != "0" else "1")
            else:
                bad = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=1)
                time.sleep(2)
            response = requests.get(bad, timeout=10, verify=endpoint.ca_bundle)
            print("tampered:", response.status_code, response.text)
        """
    )
    assert "fresh: 200" in out
    expected = "SignatureDoesNotMatch" if tamper == "signature" else "Request has expired"
    assert "tampered: 403" in out and expected in out


def test_tls_by_default_with_a_throwaway_ca_and_plain_http_on_request() -> None:
    out = run_python(
        """
        import os, requests
        from pathlib import Path
        from devtools.endpoint.embedded_s3 import EmbeddedS3
        with EmbeddedS3() as endpoint:
            ca = Path(endpoint.ca_bundle)
            print("url:", endpoint.endpoint_url.split(":")[0])
            env = endpoint.env()
            print("env:", env["MINIO_USE_SSL"], env["MINIO_CA_BUNDLE"] == str(ca))
            settings = endpoint.settings()
            print("settings:", settings.use_ssl, settings.ca_bundle == str(ca))
            print("names:", endpoint.certificate.names)
            pem = ca.read_text()
            print("ca is one certificate:", pem.count("BEGIN CERTIFICATE") == 1, "KEY" not in pem)
            # The CA's private key never touches the disk: only the server's key is there.
            keys = sorted(p.name for p in ca.parent.iterdir() if "KEY" in p.read_text())
            print("keys on disk:", keys)
            print("key mode:", oct(os.stat(ca.parent / keys[0]).st_mode & 0o777))
            endpoint.s3().create_bucket(Bucket="voice-recordings")
            print("admin over TLS:", [b["Name"] for b in endpoint.s3().list_buckets()["Buckets"]])
            try:
                requests.get(endpoint.endpoint_url, timeout=10, verify=True)
            except requests.exceptions.SSLError:
                print("untrusted without the CA")
        print("files removed at stop:", not ca.parent.exists())
        with EmbeddedS3(tls=False) as plain:
            env = plain.env()
            scheme = plain.endpoint_url.split(":")[0]
            print("plain:", scheme, plain.ca_bundle, env["MINIO_USE_SSL"],
                  "MINIO_CA_BUNDLE" in env, plain.settings().use_ssl)
            print("plain works:", plain.s3().list_buckets()["Buckets"] == [])
        """
    )
    assert "url: https" in out
    assert "env: true True" in out and "settings: True True" in out
    assert "names: ('127.0.0.1', 'localhost')" in out
    assert "ca is one certificate: True True" in out
    assert "keys on disk: ['server-1.key']" in out and "key mode: 0o600" in out
    assert "admin over TLS: ['voice-recordings']" in out
    assert "untrusted without the CA" in out
    assert "files removed at stop: True" in out
    assert "plain: http None false False False" in out and "plain works: True" in out


def test_keep_alive_serves_requests_on_one_connection_even_after_an_unread_body() -> None:
    """The endpoint keeps connections open (as MinIO does): a body the server
    refused without reading, or a chunked one, must not be taken for the next request."""
    out = run_python(
        """
        import http.client, ssl
        from devtools.endpoint.embedded_s3 import EmbeddedS3
        with EmbeddedS3(keep_alive=True) as endpoint:
            endpoint.s3().create_bucket(Bucket="voice-recordings")
            host, port = endpoint.endpoint.split(":")
            context = ssl.create_default_context(cafile=endpoint.ca_bundle)
            conn = http.client.HTTPSConnection(host, int(port), context=context)
            sockets, statuses = set(), []
            for body in (b"x" * 100_000, iter([b"y" * 70_000, b"z" * 5]), b""):
                chunked = not isinstance(body, bytes)
                headers = {"Transfer-Encoding": "chunked"} if chunked else {}
                conn.request(
                    "PUT", "/voice-recordings/unsigned.mp3", body=body, headers=headers,
                    encode_chunked=chunked,
                )
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
                sockets.add(id(conn.sock))
            s3 = endpoint.s3()
            for size in (0, 1, 2 * 1024 * 1024):
                s3.put_object(Bucket="voice-recordings", Key=f"k{size}", Body=b"a" * size)
            print("statuses:", statuses, "connections:", len(sockets))
            listed = s3.list_objects_v2(Bucket="voice-recordings")["Contents"]
            print("stored:", sorted(o["Size"] for o in listed))
        """
    )
    assert "statuses: [403, 403, 403] connections: 1" in out
    assert "stored: [0, 1, 2097152]" in out
