"""The specification's hand-made production state, built on the embedded endpoint.

Production already ran the specification's hand steps (``seed/minio-integration.pt.md``, "Via
MinIO CLI (mc)" and "Via MinIO Console"). :func:`build_handmade` repeats exactly those steps on
an :class:`~devtools.endpoint.embedded_s3.EmbeddedS3`, as its admin, so the takeover can be
proven here:

- ``mc mb omniplay/voice-recordings``: ``CreateBucket`` (versioning off, no lifecycle);
- ``mc admin user add omniplay voice-ai-service PASSWORD``: an IAM user and its name/password as
  an S3 key pair (:meth:`~devtools.endpoint.embedded_s3.EmbeddedS3.set_user_secret`), as on MinIO;
- ``mc admin policy add omniplay voice-ai-policy /tmp/voice-ai-policy.json``: an IAM policy with
  the specification's JSON, verbatim; ``mc admin policy set ... user=voice-ai-service``:
  ``AttachUserPolicy``;
- the console's service account (description ``voice-ai-realtime``): an access key of the user;
- the old uploader's recordings and transcripts: ``PutObject`` with that account's keys, the
  specification's metadata and content types, and **no tag**, plus a few keys outside the layout;
- optionally ``mc anonymous set download omniplay/voice-recordings``: the bucket policy ``mc``
  writes for it (anyone may list and read every object).

Dev-only: the tests and ``make takeover-demo`` use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Final

from devtools.endpoint.clients import ServedEndpoint
from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from infra.config import full_key
from voice_recordings import KINDS, TRANSCRIPT, VOICE, Kind, object_metadata
from voice_recordings.keys import object_key

BUCKET: Final = "voice-recordings"
USER: Final = "voice-ai-service"
POLICY: Final = "voice-ai-policy"
CONSOLE_ACCOUNT: Final = "voice-ai-realtime"  # the console's description of the account

# The specification's /tmp/voice-ai-policy.json, verbatim.
SPEC_POLICY: Final[dict[str, Any]] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::voice-recordings", "arn:aws:s3:::voice-recordings/*"],
        }
    ],
}

# What `mc anonymous set download ALIAS/BUCKET` writes: anyone may list and read everything.
ANONYMOUS_DOWNLOAD_POLICY: Final[dict[str, Any]] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{BUCKET}"],
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{BUCKET}/*"],
        },
    ],
}

# Keys an old deployment left outside the layout: a test upload at the root, an unpadded date
# (a bug of a hand-written uploader), a company 0 and a stray file. The lifecycle never sees them.
NONCONFORMING_KEYS: Final = (
    "teste-upload.mp3",
    "company_5/voice/2026/1/15/abc-123.mp3",
    "company_0/voice/2026/01/15/abc-123.mp3",
    "company_5/voice/2026/01/15/notes.docx",
)


@dataclass(frozen=True)
class OldObject:
    """One object the old uploader stored: what the takeover must leave exactly as it is."""

    key: str
    body: bytes = field(repr=False)
    content_type: str
    metadata: dict[str, str]

    @property
    def sha256(self) -> str:
        """Digest of the body."""
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class HandMadeState:
    """What :func:`build_handmade` made (secrets hidden from repr)."""

    bucket: str
    user: str
    user_keys: Credentials  # the user's name and its hand-chosen password
    policy: str
    console_keys: Credentials  # the console's service account the Voice AI runs with
    objects: tuple[OldObject, ...]
    nonconforming: tuple[str, ...]
    anonymous_read: bool

    @property
    def conforming(self) -> tuple[OldObject, ...]:
        """The old objects whose keys follow the layout (the ones tag-existing must tag)."""
        return tuple(o for o in self.objects if o.key not in self.nonconforming)


def stack_config_for(endpoint: ServedEndpoint) -> dict[str, str]:
    """The stack config keys that point a stack at ``endpoint``: its address, TLS and its CA."""
    config = {full_key("endpoint"): endpoint.endpoint, full_key("ssl"): str(endpoint.tls).lower()}
    if endpoint.ca_bundle:
        config[full_key("caBundle")] = endpoint.ca_bundle
    return config


def old_objects(count: int, start: dt.datetime) -> list[OldObject]:
    """``count`` recordings (and a transcript for every other call) as the old uploader made
    them: the specification's key layout and metadata, its content types, no tag."""
    made: list[OldObject] = []
    for n in range(count):
        when = start + dt.timedelta(hours=7 * n)
        company, call = 1 + n % 3, f"old-{n:04d}-{secrets.token_hex(4)}"
        meta = object_metadata(call, company, f"dom-{n % 2}", f"sec-{n % 5}", when)
        kinds: list[Kind] = [VOICE, TRANSCRIPT] if n % 2 == 0 else [VOICE]
        for kind in kinds:
            body = (
                b"ID3\x04\x00" + secrets.token_bytes(512 + 37 * n)
                if kind == VOICE
                else f"Atendente: chamada {call}\n".encode()
            )
            key = object_key(kind, company, call, when)
            made.append(OldObject(key, body, KINDS[kind].content_type, meta))
    return made


def build_handmade(
    endpoint: EmbeddedS3,
    *,
    recordings: int = 8,
    anonymous_read: bool = False,
    object_lock: bool = False,
    start: dt.datetime | None = None,
) -> HandMadeState:
    """Run the specification's hand steps on ``endpoint`` (reset it first for a clean server).

    ``object_lock``: the bucket was made with ``mc mb --with-lock`` (a server unlike the
    specification's, which the survey must flag)."""
    s3, iam = endpoint.s3(), endpoint.iam()
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=object_lock)  # mc mb
    iam.create_user(UserName=USER)  # mc admin user add ... PASSWORD
    user_keys = endpoint.set_user_secret(USER, secrets.token_urlsafe(24))
    arn = iam.create_policy(PolicyName=POLICY, PolicyDocument=json.dumps(SPEC_POLICY))
    iam.attach_user_policy(UserName=USER, PolicyArn=arn["Policy"]["Arn"])  # mc admin policy set
    console = iam.create_access_key(UserName=USER)["AccessKey"]  # the console's account
    console_keys = Credentials(console["AccessKeyId"], console["SecretAccessKey"])

    old = endpoint.s3(console_keys)  # the old uploader ran with the console's keys
    when = start or dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)
    objects = old_objects(recordings, when)
    meta = object_metadata("stray", 5, "dom", "sec", when)
    objects += [
        OldObject(k, b"stray " + k.encode(), "audio/mpeg", meta) for k in NONCONFORMING_KEYS
    ]
    for item in objects:
        old.put_object(
            Bucket=BUCKET,
            Key=item.key,
            Body=item.body,
            ContentType=item.content_type,
            Metadata=item.metadata,
        )
    if anonymous_read:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(ANONYMOUS_DOWNLOAD_POLICY))
    return HandMadeState(
        bucket=BUCKET,
        user=USER,
        user_keys=user_keys,
        policy=POLICY,
        console_keys=console_keys,
        objects=tuple(objects),
        nonconforming=NONCONFORMING_KEYS,
        anonymous_read=anonymous_read,
    )
