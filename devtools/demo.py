"""`make demo`: the whole story, from the Pulumi program to a recording playing, on one machine.

1. Render the ``dev`` stack (the Pulumi program under mocks: :func:`infra.render.render_stack`).
2. Provision an embedded S3+IAM endpoint (moto with authentication on, over TLS as production is:
   a throwaway CA signs its certificate, clients trust it through ``MINIO_CA_BUNDLE``) from that
   render: bucket, versioning, lifecycle, policies, users, service accounts
   (:mod:`devtools.provision`).
3. Upload a recording and its transcript through MinioUploader as the Voice AI service account,
   as the service does at the end of a call.
4. Play the recording as OmniPlay's reader through a presigned ``https://`` URL with a plain HTTP
   client that trusts the CA; one that does not is refused (the "SSL Certificate Error").
5. Show least privilege at work: the uploader may not delete; nobody anonymous may read; CI's
   read-only observer reads the bucket's configuration (what a refresh reads) and changes nothing.
6. Print a short report. Exit status 0 only when every check holds; the endpoint is stopped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests
from botocore.exceptions import ClientError

from devtools.embedded_s3 import EmbeddedS3
from devtools.provision import ProvisionedStack, provision_embedded
from infra.config import full_key
from infra.render import render_stack
from voice_recordings import KIND_TAG_KEY, MinioUploader, parse_key, parse_object_metadata

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STACK = "dev"
SAMPLE_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 64
SAMPLE_TRANSCRIPT = "Atendente virtual: Olá! Cliente: Quero falar com o suporte."


class Checks:
    """The demo's checks, in order; printed as they happen and summed up at the end."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []

    def __call__(self, name: str, ok: bool) -> bool:
        self.results.append((name, ok))
        print(f"  [{'OK' if ok else 'FAILED'}] {name}")
        return ok

    @property
    def all_ok(self) -> bool:
        """True when there were checks and every one held."""
        return bool(self.results) and all(ok for _, ok in self.results)


def short_type(token: str) -> str:
    """``minio:index/s3Bucket:S3Bucket`` -> ``S3Bucket``; ``pulumi:providers:minio`` kept."""
    return token if token.startswith("pulumi:providers:") else token.rsplit(":", 1)[-1]


def show(admin: S3Client, uploader: MinioUploader, key: str) -> None:
    """Print what the server holds for ``key`` (read as the admin: the uploader may not read
    tags back)."""
    bucket = uploader.settings.bucket
    head = admin.head_object(Bucket=bucket, Key=key)
    tags = admin.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    meta = parse_object_metadata(head["Metadata"])
    parsed = parse_key(key)
    print(f"  key           {key}")
    print(
        f"  layout        company {parsed.company_id}, {parsed.kind}, {parsed.date}, "
        f"call {parsed.call_uuid}"
    )
    print(f"  content type  {head['ContentType']}  ({head['ContentLength']} bytes)")
    print(f"  metadata      {dict(sorted(head['Metadata'].items()))}")
    print(f"  uploaded at   {meta.uploaded_at.isoformat()}")
    tag_text = ", ".join(f"{t['Key']}={t['Value']}" for t in tags)
    print(f"  tags          {tag_text}")
    print(f"  public URL    {uploader.public_url(key)}")


def error_code(call: Callable[[], object]) -> str | None:
    """The S3 error code ``call`` failed with, or None if it succeeded."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def tls_refusal(url: str) -> str | None:
    """Why a client that trusts only the system's CAs refuses ``url`` (None if it does not)."""
    try:
        requests.get(url, timeout=10)
    except requests.exceptions.SSLError as exc:
        reason = str(exc.__context__ or exc)
        return "SSL Certificate Error" + (
            " (certificate verify failed)" if "CERTIFICATE_VERIFY_FAILED" in reason else ""
        )
    return None


def print_provisioned(stack: ProvisionedStack) -> None:
    """What the render asked for and the endpoint now holds."""
    total = sum(stack.resource_counts.values())
    print(f"Provisioned {total} resources of the '{stack.stack}' render:")
    for token, count in sorted(stack.resource_counts.items(), key=lambda i: short_type(i[0])):
        print(f"  {count} x {short_type(token)}")
    print(f"  bucket        {stack.bucket} (versioning on, lifecycle by tag '{KIND_TAG_KEY}')")
    print("Identities (service account -> user; secret keys are never shown):")
    for account, user in sorted(stack.service_account_users.items()):
        print(f"  {account:24} -> {user:18} access key {stack.credentials(account).access_key}")
    print()


def main() -> int:
    """Run the demo; exit status 0 when every check held."""
    when = dt.datetime.now(dt.UTC)
    check = Checks()
    render = render_stack(STACK)
    config = render["config"]
    with EmbeddedS3(authentication=True) as endpoint:
        print(f"Embedded S3+IAM endpoint on {endpoint.endpoint_url} (authentication on)")
        certificate = endpoint.certificate
        print(
            f"  TLS: certificate for {', '.join(certificate.names)} until "
            f"{certificate.not_after:%Y-%m-%d}, signed by a throwaway CA "
            f"(MINIO_CA_BUNDLE={endpoint.ca_bundle})\n"
        )
        stack = provision_embedded(endpoint, render)
        print_provisioned(stack)
        admin = endpoint.s3()
        voice_ai = MinioUploader(
            endpoint.settings(
                stack.credentials(config[full_key("uploaderServiceAccount")]), bucket=stack.bucket
            )
        )
        omniplay = MinioUploader(
            endpoint.settings(
                stack.credentials(config[full_key("readerServiceAccount")]), bucket=stack.bucket
            )
        )

        print("Voice AI (its own service account) at the end of a call:")
        check("the Voice AI identity sees the bucket", voice_ai.is_available)
        recording = voice_ai.upload_audio(
            audio_data=SAMPLE_AUDIO,
            call_uuid="abc-123-def-456",
            company_id=5,
            domain_uuid="xyz-789",
            secretary_uuid="sec-456",
            when=when,
        )
        transcript = voice_ai.upload_transcript(
            SAMPLE_TRANSCRIPT,
            call_uuid="abc-123-def-456",
            company_id=5,
            domain_uuid="xyz-789",
            secretary_uuid="sec-456",
            when=when,
        )
        check("recording and transcript stored", not recording.spooled and not transcript.spooled)
        print("\nRecording")
        show(admin, voice_ai, recording.key)
        print("Transcript")
        show(admin, voice_ai, transcript.key)
        print()

        print("OmniPlay (the reader's service account) plays the recording:")
        url = omniplay.presigned_url(recording.key, expires_in=3600)
        print(f"  presigned URL {url}")
        played = requests.get(url, timeout=10, verify=endpoint.ca_bundle)
        digest = hashlib.sha256(played.content).hexdigest()[:16]
        print(f"  HTTP {played.status_code}, {len(played.content)} bytes, sha256 {digest}...")
        check(
            "played through the reader's presigned URL, bytes identical to the upload",
            played.status_code == 200 and played.content == SAMPLE_AUDIO,
        )
        untrusted = tls_refusal(url)
        print(f"  the same URL without the CA: {untrusted or 'it worked'}")
        check(
            "over TLS: a client without the CA refuses the certificate",
            url.startswith("https://") and untrusted is not None,
        )
        print()

        print("Least privilege:")
        denied = error_code(
            lambda: voice_ai.client.delete_object(Bucket=stack.bucket, Key=recording.key)
        )
        print(f"  Voice AI tries to delete the recording: {denied or 'it worked'}")
        check("the uploader may not delete (AccessDenied)", denied == "AccessDenied")
        still_there = admin.get_object(Bucket=stack.bucket, Key=recording.key)["Body"].read()
        check("the recording is still there", still_there == SAMPLE_AUDIO)
        anonymous = requests.get(
            voice_ai.public_url(recording.key), timeout=10, verify=endpoint.ca_bundle
        )
        print(f"  anonymous GET of the public URL: HTTP {anonymous.status_code}")
        check("no anonymous reads (the bucket is private by default)", anonymous.status_code == 403)
        observer = endpoint.s3(stack.credentials(config[full_key("observerServiceAccount")]))
        versioning = observer.get_bucket_versioning(Bucket=stack.bucket).get("Status")
        print(f"  CI's observer (pulumi preview --refresh) reads versioning: {versioning}")
        check("the observer reads what a refresh reads", versioning == "Enabled")
        suspend = error_code(
            lambda: observer.put_bucket_versioning(
                Bucket=stack.bucket, VersioningConfiguration={"Status": "Suspended"}
            )
        )
        peek = error_code(lambda: observer.get_object(Bucket=stack.bucket, Key=recording.key))
        print(f"  it tries to suspend versioning: {suspend or 'it worked'}; to read it: {peek}")
        check(
            "the observer changes nothing and reads no recording (AccessDenied)",
            suspend == peek == "AccessDenied",
        )
        voice_ai.close()
        omniplay.close()
    print("\nEmbedded endpoint stopped.")

    passed = sum(ok for _, ok in check.results)
    print(
        f"\nReport: render '{STACK}' -> {sum(stack.resource_counts.values())} resources "
        f"provisioned -> {passed}/{len(check.results)} checks OK"
    )
    for name, ok in check.results:
        print(f"  {'OK    ' if ok else 'FAILED'} {name}")
    return 0 if check.all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
