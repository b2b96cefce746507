"""`make demo`: the whole story, from `pulumi up` to a recording playing, on one machine.

1. Start an embedded S3+IAM endpoint (moto with authentication on, over TLS as production is:
   a throwaway CA signs its certificate, clients trust it through ``MINIO_CA_BUNDLE``).
2. ``pulumi up`` of the ``dev`` stack pointed at it, by the real Pulumi engine (the pinned CLI and
   language host, ``make engine``) on a throwaway local backend, with the ``minio`` plugin built
   from the real pulumi-terraform-bridge over our Terraform provider (``make provider``):
   bucket, versioning, lifecycle, policies, users, service accounts, each made by the engine's
   Create calls through the bridge. The engine's progress is shown.
3. Upload a recording and its transcript through MinioUploader configured from the stack's own
   ``voice_ai_env`` block, as the service does at the end of a call.
4. Play the recording as OmniPlay's reader (keys from ``omniplay_env``) through a presigned
   ``https://`` URL with a plain HTTP client that trusts the CA; one that does not is refused.
5. Show least privilege at work: the uploader may not delete; nobody anonymous may read; CI's
   read-only observer (``observer_*`` outputs) reads the bucket's configuration and changes
   nothing.
6. Print a short report. Exit status 0 only when every check holds; the endpoint is stopped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from devtools.demos.checks import Checks, error_code, short_type
from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from devtools.engine import minio_plugin, pulumi_cli
from devtools.engine.workspace import (
    MINIO_PLUGIN_VERSION,
    EngineWorkspace,
    admin_env,
    block_settings,
    embedded_stack_config,
)
from infra import render_format
from infra.program import OMNIPLAY_MINIO_PREFIX
from voice_recordings import MinioUploader, parse_key, parse_object_metadata

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STACK = "dev"
SAMPLE_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 64
SAMPLE_TRANSCRIPT = "Atendente virtual: Olá! Cliente: Quero falar com o suporte."


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


def print_deployed(state: dict[str, Any]) -> int:
    """What the engine made (from ``pulumi stack export``); the number of resources."""
    resources = [r for r in state["deployment"]["resources"] if r["type"] != render_format.STACK]
    counts = Counter(short_type(r["type"]) for r in resources)
    print(f"\nThe engine made {len(resources)} resources:")
    for token, count in sorted(counts.items()):
        print(f"  {count} x {token}")
    print()
    return len(resources)


def main() -> int:
    """Run the demo; exit status 0 when every check held."""
    when = dt.datetime.now(dt.UTC)
    check = Checks()
    engine_dir = pulumi_cli.build()  # `make demo` built it already: then this only finds it
    plugin_dir = minio_plugin.build()
    with EmbeddedS3(authentication=True) as endpoint, tempfile.TemporaryDirectory() as root:
        print(f"Embedded S3+IAM endpoint on {endpoint.endpoint_url} (authentication on)")
        certificate = endpoint.certificate
        print(
            f"  TLS: certificate for {', '.join(certificate.names)} until "
            f"{certificate.not_after:%Y-%m-%d}, signed by a throwaway CA "
            f"(MINIO_CA_BUNDLE={endpoint.ca_bundle})\n"
        )
        workspace = EngineWorkspace(engine_dir, Path(root), env=admin_env(endpoint))
        version = workspace.run("version").stdout.strip()
        print(
            f"Pulumi engine {version} (CLI, engine and Python language host built here, "
            f"{engine_dir}); provider: minio {MINIO_PLUGIN_VERSION}, pulumi-terraform-bridge "
            f"{minio_plugin.required_version(minio_plugin.BRIDGE_MODULE)} over our Terraform "
            f"provider ({plugin_dir}; tools/provider), on the embedded endpoint.\n"
        )
        workspace.init_stack(STACK, embedded_stack_config(endpoint))
        print(f"$ pulumi up -s {STACK} --yes")
        workspace.run("up", "-s", STACK, "--yes", show=True)
        resources = print_deployed(workspace.export(STACK))
        outputs = workspace.outputs(STACK)
        bucket = str(outputs["bucket"])
        admin = endpoint.s3()
        voice_ai = MinioUploader(block_settings(outputs["voice_ai_env"], endpoint.ca_bundle))
        omniplay = MinioUploader(
            block_settings(outputs["omniplay_env"], endpoint.ca_bundle, OMNIPLAY_MINIO_PREFIX)
        )
        print("Identities (from the stack's outputs; secret keys are never shown):")
        for name in ("voice_ai", "omniplay_reader", "observer"):
            print(f"  {name:16} access key {outputs[f'{name}_access_key']}")
        print()

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
        denied = error_code(lambda: voice_ai.client.delete_object(Bucket=bucket, Key=recording.key))
        print(f"  Voice AI tries to delete the recording: {denied or 'it worked'}")
        check("the uploader may not delete (AccessDenied)", denied == "AccessDenied")
        still_there = admin.get_object(Bucket=bucket, Key=recording.key)["Body"].read()
        check("the recording is still there", still_there == SAMPLE_AUDIO)
        anonymous = requests.get(
            voice_ai.public_url(recording.key), timeout=10, verify=endpoint.ca_bundle
        )
        print(f"  anonymous GET of the public URL: HTTP {anonymous.status_code}")
        check("no anonymous reads (the bucket is private by default)", anonymous.status_code == 403)
        observer = endpoint.s3(
            Credentials(outputs["observer_access_key"], outputs["observer_secret_key"])
        )
        versioning = observer.get_bucket_versioning(Bucket=bucket).get("Status")
        print(f"  CI's observer (pulumi preview --refresh) reads versioning: {versioning}")
        check("the observer reads what a refresh reads", versioning == "Enabled")
        suspend = error_code(
            lambda: observer.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
            )
        )
        peek = error_code(lambda: observer.get_object(Bucket=bucket, Key=recording.key))
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
        f"\nReport: pulumi up '{STACK}' ({version}) -> {resources} resources "
        f"made -> {passed}/{len(check.results)} checks OK"
    )
    for name, ok in check.results:
        print(f"  {'OK    ' if ok else 'FAILED'} {name}")
    return 0 if check.all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
