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
        from devtools.embedded_s3 import Credentials, EmbeddedS3
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
        from devtools.embedded_s3 import EmbeddedS3
        with EmbeddedS3():
            try:
                EmbeddedS3().start()
            except RuntimeError as exc:
                print(exc)
        """
    )
    assert "already running in this process" in out


@pytest.mark.parametrize("tamper", ["signature", "expired"])
def test_presigned_urls_are_verified(tamper: str) -> None:
    out = run_python(
        f"""
        import time, requests
        from devtools.embedded_s3 import EmbeddedS3
        with EmbeddedS3() as endpoint:
            s3 = endpoint.s3()
            s3.create_bucket(Bucket="voice-recordings")
            s3.put_object(Bucket="voice-recordings", Key="a.mp3", Body=b"audio")
            params = {{"Bucket": "voice-recordings", "Key": "a.mp3"}}
            url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=1)
            print("fresh:", requests.get(url, timeout=10, verify=endpoint.ca_bundle).status_code)
            if {tamper!r} == "signature":
                bad = url[:-1] + ("0" if url[-1] != "0" else "1")
            else:
                time.sleep(2)
                bad = url
            response = requests.get(bad, timeout=10, verify=endpoint.ca_bundle)
            print("tampered:", response.status_code, response.text)
        """
    )
    assert "fresh: 200" in out
    expected = "SignatureDoesNotMatch" if tamper == "signature" else "Request has expired"
    assert "tampered: 403" in out and expected in out
