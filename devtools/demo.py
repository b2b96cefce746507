"""`make demo`: the specification's flow on an embedded S3 endpoint, end to end.

Starts the endpoint, creates the bucket, uploads a sample recording and its transcript through
MinioUploader (as the Voice AI service would at the end of a call), reads them back, and plays the
recording through its presigned URL with a plain HTTP client, as an OmniPlay attendant would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys

import requests

from devtools.embedded_s3 import EmbeddedS3
from voice_recordings import KIND_TAG_KEY, MinioUploader, parse_key, parse_object_metadata

SAMPLE_AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 64
SAMPLE_TRANSCRIPT = "Atendente virtual: Olá! Cliente: Quero falar com o suporte."


def show(uploader: MinioUploader, key: str) -> None:
    """Print what the server holds for ``key``."""
    s3, bucket = uploader.client, uploader.settings.bucket
    head = s3.head_object(Bucket=bucket, Key=key)
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
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


def main() -> int:
    """Run the demo; exit status 0 when every step checked out."""
    when = dt.datetime.now(dt.UTC)
    with EmbeddedS3(authentication=True) as endpoint:
        print(f"Embedded S3 endpoint on {endpoint.endpoint_url} (authentication on)")
        settings = endpoint.settings()
        endpoint.s3().create_bucket(Bucket=settings.bucket)
        uploader = MinioUploader(settings)
        print(f"MinIO available: {uploader.is_available}\n")

        recording = uploader.upload_audio(
            audio_data=SAMPLE_AUDIO,
            call_uuid="abc-123-def-456",
            company_id=5,
            domain_uuid="xyz-789",
            secretary_uuid="sec-456",
            when=when,
        )
        transcript = uploader.upload_transcript(
            SAMPLE_TRANSCRIPT,
            call_uuid="abc-123-def-456",
            company_id=5,
            domain_uuid="xyz-789",
            secretary_uuid="sec-456",
            when=when,
        )
        print("Recording")
        show(uploader, recording.key)
        print(f"  presigned URL {recording}\n")
        print("Transcript")
        show(uploader, transcript.key)
        print()

        played = requests.get(str(recording), timeout=10)
        ok = played.status_code == 200 and played.content == SAMPLE_AUDIO
        digest = hashlib.sha256(played.content).hexdigest()[:16]
        print(
            f"Played through the presigned URL: HTTP {played.status_code}, "
            f"{len(played.content)} bytes, sha256 {digest}... "
            f"{'identical to what was uploaded' if ok else 'MISMATCH'}"
        )
        anonymous = requests.get(uploader.public_url(recording.key), timeout=10)
        print(
            f"Anonymous GET of the public URL: HTTP {anonymous.status_code} "
            f"(the bucket is private by default; tag {KIND_TAG_KEY} drives lifecycle)"
        )
        uploader.close()
    print("Embedded endpoint stopped.")
    return 0 if ok and anonymous.status_code == 403 else 1


if __name__ == "__main__":
    sys.exit(main())
