"""Take over storage made by hand: a read-only survey, and tagging what the old uploader stored.

    python -m infra.takeover survey --stack prod [--config KEY=VALUE ...] [--json]
    python -m infra.takeover tag-existing --stack prod [--config KEY=VALUE ...] [--apply]

Both read the live server through the S3 API as the provider's admin (``MINIO_USER`` /
``MINIO_PASSWORD``, the same variables the provider reads), at the stack's ``endpoint``, and
compare it with the stack's desired state: the offline render of the program
(:func:`infra.render.run_program`, under Pulumi's mocks; no engine, plugin or CLI is needed).

``survey`` changes nothing. It reports the bucket, its versioning, lifecycle, bucket policy
(and what it grants to anyone without a key), encryption, and the objects: how many follow the
key layout, how many lack the ``kind`` tag the lifecycle selects by, which do not follow the
layout. Each finding has a severity and the action to take. Identities (users, policies,
service accounts) live behind MinIO's admin API, which this tool does not fake: the survey lists
the ``mc admin`` commands that show them.

``tag-existing`` sets the ``kind`` tag on every stored object version whose key parses as a
recording or transcript and that has no ``kind`` tag (a dry run unless ``--apply``). It only
calls S3's object tagging API (``PutObjectTagging``, keeping any other tag), which never
rewrites an object's bytes or metadata. A second run finds nothing to do, so an interrupted run
is resumed by running it again.

Exit codes: ``survey``: 0 adoption is safe as configured, 1 a finding needs a decision, 2 usage,
configuration or connection error. ``tag-existing``: 0 done (or nothing to do), 1 some objects
could not be tagged (listed), 2 usage, configuration or connection error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import StackConfig, StackConfigError, full_key, parse_stack_config
from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from infra.render import load_stack_config, run_program
from voice_recordings import KIND_TAG_KEY, InvalidInputError, Kind, StorageSettings, parse_key
from voice_recordings.cli import PROBE_KEY
from voice_recordings.client import make_s3_client
from voice_recordings.keys import TRANSCRIPT

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EXIT_SAFE: Final = 0
EXIT_DECISION: Final = 1
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130

DEFAULT_ALIAS: Final = "omniplay"  # the specification's `mc alias set omniplay ...`
DEFAULT_CONCURRENCY: Final = 8
MAX_CONCURRENCY: Final = 64
DEFAULT_SAMPLE: Final = 20
MAX_TAGS: Final = 10  # S3 and MinIO allow at most 10 tags per object

Severity = Literal["info", "action", "warning", "decision"]
# "decision" findings make the survey exit 1: adopting as configured would change something
# that someone must choose knowingly. "action" is a runbook step; "warning" needs a look.
SEVERITIES: Final[tuple[Severity, ...]] = ("decision", "warning", "action", "info")

BUCKET_TYPE: Final = "minio:index/s3Bucket:S3Bucket"
LIFECYCLE_TYPE: Final = "minio:index/ilmPolicy:IlmPolicy"
BUCKET_POLICY_TYPE: Final = "minio:index/s3BucketPolicy:S3BucketPolicy"
ENCRYPTION_TYPE: Final = "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption"


class TakeoverError(Exception):
    """The server could not be read (or written) as asked; the message says what to fix."""


# -- what the stack wants --------------------------------------------------------------------------


@dataclass(frozen=True)
class Desired:
    """The parts of the stack's render the survey compares the server with."""

    stack: str
    config: StackConfig
    lifecycle_rule_ids: tuple[str, ...]
    bucket_policy: Mapping[str, Any] | None
    encryption: Mapping[str, Any] | None

    @classmethod
    def from_render(cls, stack: str, config: StackConfig, render: Mapping[str, Any]) -> Desired:
        """Read the desired state out of a render (the document of :func:`run_program`)."""

        def inputs(type_: str) -> Mapping[str, Any] | None:
            found = [r.get("inputs") or {} for r in render["resources"] if r["type"] == type_]
            return found[0] if found else None

        lifecycle = inputs(LIFECYCLE_TYPE) or {}
        policy = inputs(BUCKET_POLICY_TYPE)
        return cls(
            stack=stack,
            config=config,
            lifecycle_rule_ids=tuple(str(r.get("id", "")) for r in lifecycle.get("rules", [])),
            bucket_policy=policy.get("policy") if policy else None,
            encryption=inputs(ENCRYPTION_TYPE),
        )


def desired_state(stack: str, overrides: Mapping[str, str] | None = None) -> Desired:
    """The stack's desired state: its config validated, and the program rendered offline."""
    raw = load_stack_config(stack, overrides)
    config = parse_stack_config(raw)
    return Desired.from_render(stack, config, run_program(stack, overrides).document())


# -- the server ------------------------------------------------------------------------------------


def admin_client(config: StackConfig, env: Mapping[str, str] | None = None) -> S3Client:
    """An S3 client for the stack's endpoint signed by the provider's admin credentials."""
    source = os.environ if env is None else env
    user, password = source.get(ADMIN_USER_ENV, ""), source.get(ADMIN_PASSWORD_ENV, "")
    if not user or not password:
        raise StackConfigError(
            f"MinIO admin credentials not set: export {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV} "
            f"(the credentials `pulumi up` gives the provider) before running the takeover"
        )
    settings = StorageSettings(
        endpoint=config.endpoint,
        access_key=user,
        secret_key=password,
        bucket=config.bucket,
        use_ssl=config.ssl,
        region=config.region,
        ca_bundle=config.ca_bundle or None,  # voice-recordings:caBundle, as the provider
        max_attempts=3,
    )
    return make_s3_client(settings)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _server_error(what: str, exc: Exception) -> TakeoverError:
    denied = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403")
    if isinstance(exc, ClientError) and (_code(exc) in denied or _status(exc) == 403):
        hint = f"{ADMIN_USER_ENV}/{ADMIN_PASSWORD_ENV} must be the server admin's credentials"
    else:
        hint = "check the stack's endpoint, ssl and region, and that the server is up"
    return TakeoverError(f"{what}: {exc} ({hint})")


def bucket_exists(s3: S3Client, bucket: str) -> bool:
    """True when ``bucket`` exists (HEAD bucket); any answer but found/not found is an error."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if _status(exc) == 404 or _code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise _server_error(f"cannot read bucket {bucket!r}", exc) from None
    except BotoCoreError as exc:
        raise _server_error(f"cannot reach the server for bucket {bucket!r}", exc) from None
    return True


def _optional(call: Callable[[], Any], *missing: str) -> Any:
    """``call()``, or None when the server answers with one of the ``missing`` error codes."""
    try:
        return call()
    except ClientError as exc:
        if _code(exc) in missing:
            return None
        raise _server_error("cannot read the bucket's configuration", exc) from None
    except BotoCoreError as exc:
        raise _server_error("cannot reach the server", exc) from None


def anonymous_grants(policy: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The Allow statements of a bucket policy that apply to anyone without a key.

    A principal of ``"*"``, ``{"AWS": "*"}`` or ``{"AWS": ["*"]}`` is anonymous. Each grant is
    ``{"actions": [...], "resources": [...], "conditional": bool}``.
    """
    grants = []
    statements = (policy or {}).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        values = principal.get("AWS") if isinstance(principal, dict) else principal
        if "*" not in (values if isinstance(values, list) else [values]):
            continue
        actions, resources = statement.get("Action", []), statement.get("Resource", [])
        grants.append(
            {
                "actions": sorted(actions if isinstance(actions, list) else [actions]),
                "resources": sorted(resources if isinstance(resources, list) else [resources]),
                "conditional": bool(statement.get("Condition")),
            }
        )
    return grants


def _pairs(grants: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(a, r) for g in grants for a in g["actions"] for r in g["resources"]}


def _describe(pairs: set[tuple[str, str]]) -> str:
    by_action: dict[str, list[str]] = {}
    for action, resource in sorted(pairs):
        by_action.setdefault(action, []).append(resource)
    return "; ".join(f"{a} on {', '.join(r)}" for a, r in by_action.items())


# -- objects ---------------------------------------------------------------------------------------


def expected_kind(key: str) -> Kind | None:
    """The ``kind`` an object at ``key`` must carry, or None when the key is outside the layout.

    ``voice-recordings check``'s probe is a transcript by design (tagged so the lifecycle expires
    its old versions).
    """
    if key == PROBE_KEY:
        return TRANSCRIPT
    try:
        return parse_key(key).kind
    except InvalidInputError:
        return None


@dataclass(frozen=True)
class StoredObject:
    """One stored object version and its tags."""

    key: str
    version_id: str | None  # None: the bucket was never versioned (MinIO's "null" version)
    tags: Mapping[str, str]
    expected: Kind | None

    @property
    def conforming(self) -> bool:
        """The key follows the layout."""
        return self.expected is not None

    @property
    def untagged(self) -> bool:
        """A conforming object without a ``kind`` tag: the lifecycle never selects it."""
        return self.expected is not None and KIND_TAG_KEY not in self.tags

    @property
    def mistagged(self) -> bool:
        """A conforming object whose ``kind`` tag names the other kind (the wrong retention)."""
        return self.expected is not None and self.tags.get(KIND_TAG_KEY, self.expected) != (
            self.expected
        )

    @property
    def label(self) -> str:
        """``key`` (and its version, when the bucket is versioned)."""
        return self.key if self.version_id is None else f"{self.key} (version {self.version_id})"


def _version_kwargs(version_id: str | None) -> dict[str, Any]:
    return {} if version_id is None else {"VersionId": version_id}


def _read_tags(s3: S3Client, bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    answer = s3.get_object_tagging(Bucket=bucket, Key=key, **_version_kwargs(version_id))
    return {t["Key"]: t["Value"] for t in answer["TagSet"]}


def scan(
    s3: S3Client, bucket: str, pool: ThreadPoolExecutor
) -> Iterator[StoredObject | tuple[str, str | None]]:
    """Every stored object version of ``bucket`` with its tags (delete markers are not objects).

    One page of the listing (at most 1000 versions) is read at a time, its tags fetched by
    ``pool``: memory and requests in flight stay bounded whatever the bucket holds. A version
    that vanished between the listing and its tag read (an upload replaced it in an unversioned
    bucket) is yielded as ``(key, version)`` instead.
    """
    paginator = s3.get_paginator("list_object_versions")
    try:
        for page in paginator.paginate(Bucket=bucket):
            versions = [
                (v["Key"], None if v.get("VersionId") in (None, "null") else v["VersionId"])
                for v in page.get("Versions", [])
            ]

            def read(item: tuple[str, str | None]) -> StoredObject | tuple[str, str | None]:
                key, version = item
                try:
                    tags = _read_tags(s3, bucket, key, version)
                except ClientError as exc:
                    if _code(exc) in ("NoSuchKey", "NoSuchVersion"):
                        return item
                    raise
                return StoredObject(key, version, tags, expected_kind(key))

            yield from pool.map(read, versions)
    except ClientError as exc:
        raise _server_error(f"cannot list the objects of {bucket!r}", exc) from None
    except BotoCoreError as exc:
        raise _server_error("cannot reach the server", exc) from None


# -- survey ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something the operator must know before adopting, and what to do about it."""

    id: str
    severity: Severity
    message: str
    action: str

    def to_json(self) -> dict[str, str]:
        """As a JSON object."""
        return {
            "id": self.id,
            "severity": self.severity,
            "message": self.message,
            "action": self.action,
        }


@dataclass
class ObjectCounts:
    """What the bucket holds, by how the lifecycle will see it."""

    total: int = 0
    conforming: int = 0
    untagged: int = 0
    mistagged: int = 0
    nonconforming: int = 0
    nonconforming_sample: list[str] = field(default_factory=list)
    untagged_sample: list[str] = field(default_factory=list)
    mistagged_sample: list[str] = field(default_factory=list)

    def add(self, item: StoredObject, sample: int) -> None:
        """Count one object version."""
        self.total += 1
        if not item.conforming:
            self.nonconforming += 1
            _keep(self.nonconforming_sample, item.label, sample)
            return
        self.conforming += 1
        if item.untagged:
            self.untagged += 1
            _keep(self.untagged_sample, item.label, sample)
        elif item.mistagged:
            self.mistagged += 1
            _keep(self.mistagged_sample, item.label, sample)

    def to_json(self) -> dict[str, Any]:
        """As a JSON object (samples are the first N, in listing order)."""
        return {
            "total": self.total,
            "conforming": self.conforming,
            "untagged": self.untagged,
            "mistagged": self.mistagged,
            "nonconforming": self.nonconforming,
            "nonconforming_keys": self.nonconforming_sample,
            "untagged_sample": self.untagged_sample,
            "mistagged_keys": self.mistagged_sample,
        }


def _keep(sample: list[str], label: str, limit: int) -> None:
    if len(sample) < limit:
        sample.append(label)


@dataclass
class Survey:
    """The survey's result: what the server holds and the findings against the stack."""

    stack: str
    endpoint: str
    bucket: str
    adopt_existing: bool
    bucket_exists: bool
    versioning: str = "Off"
    lifecycle_rules: list[dict[str, Any]] = field(default_factory=list)
    bucket_policy: dict[str, Any] | None = None
    anonymous_access: list[dict[str, Any]] = field(default_factory=list)
    encryption: dict[str, Any] | None = None
    objects: ObjectCounts = field(default_factory=ObjectCounts)
    findings: list[Finding] = field(default_factory=list)
    identity_commands: list[dict[str, str]] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        """True when no finding needs a decision."""
        return not any(f.severity == "decision" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "stack": self.stack,
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "adopt_existing": self.adopt_existing,
            "bucket_exists": self.bucket_exists,
            "versioning": self.versioning,
            "lifecycle_rules": self.lifecycle_rules,
            "bucket_policy": self.bucket_policy,
            "anonymous_access": self.anonymous_access,
            "encryption": self.encryption,
            "objects": self.objects.to_json(),
            "findings": [f.to_json() for f in self.findings],
            "identities": self.identity_commands,
            "safe": self.safe,
        }


def identity_commands(config: StackConfig, alias: str = DEFAULT_ALIAS) -> list[dict[str, str]]:
    """The ``mc admin`` commands that show the identities the stack will adopt or create."""
    commands = [
        {
            "command": f"mc admin user info {alias} {config.uploader_user}",
            "expect": (
                f"the user exists, enabled, with policy {config.uploader_policy}: adopted (its "
                f"password is kept)"
                if config.adopt_existing
                else "no such user: `pulumi up` creates it (an existing user's password would be "
                "overwritten: set adoptExisting)"
            ),
        },
        {
            "command": f"mc admin policy info {alias} {config.uploader_policy}",
            "expect": (
                "the hand-made document: `pulumi up` replaces it with "
                "policies/voice-ai-uploader.json (adds s3:PutObjectTagging, which tagged "
                "uploads need)"
                if config.adopt_existing
                else "no such policy: `pulumi up` creates it"
            ),
        },
        {
            "command": f"mc admin user svcacct ls {alias} {config.uploader_user}",
            "expect": (
                "the console's account (description voice-ai-realtime): its access key is "
                f"{full_key('adoptServiceAccount')}"
            ),
        },
    ]
    if config.adopt_service_account:
        commands.append(
            {
                "command": (f"mc admin user svcacct info {alias} {config.adopt_service_account}"),
                "expect": f"parent user {config.uploader_user}, status on: adopted as is",
            }
        )
    if config.omniplay_reader:
        commands += [
            {
                "command": f"mc admin user info {alias} {config.reader_user}",
                "expect": "no such user: `pulumi up` creates it (the provider would overwrite an "
                "existing user's password)",
            },
            {
                "command": f"mc admin policy info {alias} {config.reader_policy}",
                "expect": "no such policy: `pulumi up` creates it (the provider would overwrite "
                "an existing one)",
            },
        ]
    return commands


def survey(
    s3: S3Client,
    desired: Desired,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    sample: int = DEFAULT_SAMPLE,
    alias: str = DEFAULT_ALIAS,
    progress: Callable[[int], None] | None = None,
) -> Survey:
    """Read the server (never write) and compare it with ``desired``."""
    config = desired.config
    bucket = config.bucket
    result = Survey(
        stack=desired.stack,
        endpoint=config.endpoint,
        bucket=bucket,
        adopt_existing=config.adopt_existing,
        bucket_exists=bucket_exists(s3, bucket),
        identity_commands=identity_commands(config, alias),
    )
    add = result.findings.append
    adopt_key, adopt_sa_key = full_key("adoptExisting"), full_key("adoptServiceAccount")
    if not result.bucket_exists:
        if config.adopt_existing:
            add(
                Finding(
                    "bucket-missing",
                    "decision",
                    f"bucket {bucket} does not exist, but {adopt_key} is true: importing "
                    f"something missing fails",
                    f"check the endpoint and bucket; for a new server set {adopt_key}=false",
                )
            )
        else:
            add(
                Finding(
                    "bucket-missing",
                    "info",
                    f"bucket {bucket} does not exist: `pulumi up` creates it",
                    "nothing to adopt",
                )
            )
        return result

    if not config.adopt_existing:
        add(
            Finding(
                "bucket-exists",
                "decision",
                f"bucket {bucket} already exists, and {adopt_key} is false: `pulumi up` would "
                f"fail creating it (the provider: bucket already exists)",
                f"adopt it: pulumi config set {adopt_key} true (after reading this survey)",
            )
        )
    else:
        add(
            Finding(
                "bucket-adopted",
                "info",
                f"bucket {bucket} exists: `pulumi up` imports it (never recreates it)",
                "none",
            )
        )
        if not config.adopt_service_account:
            add(
                Finding(
                    "console-account",
                    "warning",
                    f"{adopt_sa_key} is not set: the console's service account (the keys the "
                    f"Voice AI runs with) stays outside the stack, working until someone "
                    f"deletes it, and `pulumi up` gives the Voice AI a new one",
                    f"find it with `mc admin user svcacct ls {alias} {config.uploader_user}` and "
                    f"set {adopt_sa_key} to its access key",
                )
            )

    _survey_versioning(s3, result)
    _survey_lifecycle(s3, desired, result)
    _survey_policy(s3, desired, result, alias)
    _survey_encryption(s3, desired, result, alias)
    _survey_objects(s3, desired, result, concurrency, sample, progress)
    return result


def _survey_versioning(s3: S3Client, result: Survey) -> None:
    answer = _optional(lambda: s3.get_bucket_versioning(Bucket=result.bucket))
    result.versioning = str((answer or {}).get("Status") or "Off")
    if result.versioning != "Enabled":
        result.findings.append(
            Finding(
                "versioning",
                "info",
                f"versioning is {result.versioning}: `pulumi up` enables it (overwritten or "
                f"deleted objects are then kept as noncurrent versions for "
                f"noncurrentVersionExpirationDays)",
                "none",
            )
        )


def _survey_lifecycle(s3: S3Client, desired: Desired, result: Survey) -> None:
    answer = _optional(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=result.bucket),
        "NoSuchLifecycleConfiguration",
    )
    rules: list[dict[str, Any]] = list((answer or {}).get("Rules", []))
    result.lifecycle_rules = rules
    dropped = sorted(str(r.get("ID", "")) for r in rules) if rules else []
    dropped = [rule_id for rule_id in dropped if rule_id not in desired.lifecycle_rule_ids]
    wanted = ", ".join(desired.lifecycle_rule_ids)
    if dropped:
        result.findings.append(
            Finding(
                "lifecycle-replaced",
                "decision",
                f"the bucket has lifecycle rules the stack does not: {', '.join(dropped)}; "
                f"`pulumi up` replaces the whole lifecycle with the stack's rules ({wanted})",
                "accept that they end, or add what they do to the stack before adopting",
            )
        )
    else:
        result.findings.append(
            Finding(
                "lifecycle",
                "info",
                f"`pulumi up` sets the lifecycle rules {wanted}",
                "none",
            )
        )


def _survey_policy(s3: S3Client, desired: Desired, result: Survey, alias: str) -> None:
    answer = _optional(lambda: s3.get_bucket_policy(Bucket=result.bucket), "NoSuchBucketPolicy")
    policy = json.loads(answer["Policy"]) if answer else None
    result.bucket_policy = policy
    result.anonymous_access = anonymous_grants(policy)
    bucket = result.bucket
    public, ack = full_key("publicRecordings"), full_key("acknowledgePublicRecordings")
    existing, wanted = (
        _pairs(result.anonymous_access),
        _pairs(anonymous_grants(desired.bucket_policy)),
    )
    if policy is None:
        if desired.bucket_policy is not None:
            result.findings.append(
                Finding(
                    "public-recordings",
                    "info",
                    f"no bucket policy: `pulumi up` adds anonymous {_describe(wanted)}",
                    "none",
                )
            )
        return
    if desired.bucket_policy is None:
        grants = _describe(existing) if existing else "no anonymous access"
        result.findings.append(
            Finding(
                "anonymous-access" if existing else "bucket-policy",
                "decision",
                f"the bucket has a policy set by hand ({grants}); the stack manages no bucket "
                f"policy ({public}: false), so adopting would leave it in place, unmanaged and "
                f"unseen by the guardrails and the drift check (the preview may show the bucket's "
                f"acl updated to private: the provider's private ACL writes no policy)",
                f"choose: (a) keep public links: set {public}=true and {ack}=true; `pulumi up` "
                f"then replaces it with the stack's policy (anonymous s3:GetObject on "
                f"recordings only: no listing, no transcripts); or (b) go private: the Voice AI "
                f"hands out presigned URLs (MINIO_URL_MODE=presigned), then remove it with "
                f"`mc anonymous set none {alias}/{bucket}`; every public URL already handed out "
                f"(the recording links in existing tickets) then stops playing",
            )
        )
        return
    lost = existing - wanted
    if lost or (policy != desired.bucket_policy and not existing):
        result.findings.append(
            Finding(
                "anonymous-access",
                "decision",
                f"`pulumi up` replaces the bucket policy with the stack's; anonymous access that "
                f"ends: {_describe(lost) or 'none (non-anonymous statements end)'}",
                "accept that the links relying on it stop working, or keep the public policy "
                "by hand outside the stack (then the guardrails cannot see it)",
            )
        )
    else:
        result.findings.append(
            Finding(
                "public-recordings",
                "info",
                f"the bucket policy grants nothing beyond the stack's ({_describe(existing)})",
                "none",
            )
        )


def _survey_encryption(s3: S3Client, desired: Desired, result: Survey, alias: str) -> None:
    answer = _optional(
        lambda: s3.get_bucket_encryption(Bucket=result.bucket),
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchEncryptionConfiguration",
    )
    config = (answer or {}).get("ServerSideEncryptionConfiguration")
    result.encryption = dict(config) if config else None
    key = full_key("encryptionKeyId")
    if result.encryption and desired.encryption is None:
        result.findings.append(
            Finding(
                "encryption",
                "decision",
                f"the bucket has default encryption set by hand ({json.dumps(config)}); the stack "
                f"does not manage encryption ({key} is empty), so it would stay unmanaged",
                f"set {key} to the server's KMS key to manage it, or clear it with "
                f"`mc encrypt clear {alias}/{result.bucket}`",
            )
        )
    elif desired.encryption is not None:
        result.findings.append(
            Finding(
                "encryption",
                "info",
                f"`pulumi up` sets default encryption SSE-KMS with key "
                f"{desired.encryption.get('kmsKeyId')} (objects already stored keep theirs)",
                "none",
            )
        )


def _survey_objects(
    s3: S3Client,
    desired: Desired,
    result: Survey,
    concurrency: int,
    sample: int,
    progress: Callable[[int], None] | None,
) -> None:
    counts = result.objects
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for item in scan(s3, result.bucket, pool):
            if isinstance(item, StoredObject):
                counts.add(item, sample)
                if progress is not None:
                    progress(counts.total)
    stack = desired.stack
    if counts.untagged:
        result.findings.append(
            Finding(
                "untagged-objects",
                "action",
                f"{counts.untagged} of {counts.conforming} recordings and transcripts have no "
                f"kind tag: the lifecycle (selected by that tag) would never expire them",
                f"after `pulumi up`: python -m infra.takeover tag-existing --stack {stack} --apply",
            )
        )
    if counts.mistagged:
        result.findings.append(
            Finding(
                "mistagged-objects",
                "warning",
                f"{counts.mistagged} objects carry the other kind's tag (wrong retention): "
                f"{', '.join(counts.mistagged_sample)}",
                "re-tag them by hand (`mc tag set`); tag-existing leaves a kind tag alone",
            )
        )
    if counts.nonconforming:
        result.findings.append(
            Finding(
                "nonconforming-objects",
                "warning",
                f"{counts.nonconforming} objects are outside the key layout: no lifecycle rule "
                f"applies to them and tag-existing skips them (listed, first {sample})",
                "move them into the layout, delete them, or accept that they stay forever",
            )
        )


# -- tag-existing ----------------------------------------------------------------------------------


@dataclass
class TagReport:
    """What one tag-existing run found and did."""

    applied: bool
    scanned: int = 0
    tagged: int = 0
    to_tag: int = 0  # dry run: would be tagged
    already_tagged: int = 0
    nonconforming: list[str] = field(default_factory=list)
    nonconforming_count: int = 0
    vanished: int = 0
    failed: list[str] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As a JSON object."""
        return {
            "applied": self.applied,
            "scanned": self.scanned,
            "tagged": self.tagged,
            "to_tag": self.to_tag,
            "already_tagged": self.already_tagged,
            "nonconforming": self.nonconforming_count,
            "nonconforming_keys": self.nonconforming,
            "vanished": self.vanished,
            "failed": self.failed,
            "sample": self.sample,
        }


def _tag(s3: S3Client, bucket: str, item: StoredObject) -> str | None:
    """Add ``kind`` to the object's tags (keeping the others); an error message, or None."""
    assert item.expected is not None
    tags = {**item.tags, KIND_TAG_KEY: item.expected}
    if len(tags) > MAX_TAGS:
        return f"{item.label}: already has {MAX_TAGS} tags, no room for {KIND_TAG_KEY}"
    try:
        s3.put_object_tagging(
            Bucket=bucket,
            Key=item.key,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]},
            **_version_kwargs(item.version_id),
        )
    except ClientError as exc:
        return f"{item.label}: {_code(exc) or exc}"
    return None


def tag_existing(
    s3: S3Client,
    bucket: str,
    *,
    apply: bool,
    concurrency: int = DEFAULT_CONCURRENCY,
    sample: int = DEFAULT_SAMPLE,
    progress: Callable[[TagReport], None] | None = None,
) -> TagReport:
    """Tag every conforming object version of ``bucket`` that has no ``kind`` tag.

    Dry run unless ``apply``. Only ``PutObjectTagging`` is called: bytes, metadata and version
    ids stay as they are. Objects that already have a ``kind`` tag are left alone, so a second run
    does nothing and an interrupted run resumes by running again.
    """
    report = TagReport(applied=apply)
    if not bucket_exists(s3, bucket):
        raise TakeoverError(f"bucket {bucket!r} does not exist on the server: nothing to tag")
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:

        def handle(item: StoredObject) -> None:
            error = _tag(s3, bucket, item) if apply else None
            with lock:
                if error is not None:
                    report.failed.append(error)
                elif apply:
                    report.tagged += 1
                else:
                    report.to_tag += 1

        pending: list[StoredObject] = []
        for item in scan(s3, bucket, pool):
            if not isinstance(item, StoredObject):
                report.vanished += 1
                continue
            report.scanned += 1
            if not item.conforming:
                report.nonconforming_count += 1
                _keep(report.nonconforming, item.label, sample)
            elif not item.untagged:
                report.already_tagged += 1
            else:
                _keep(report.sample, item.label, sample)
                pending.append(item)
            if len(pending) >= MAX_CONCURRENCY * 4:
                list(pool.map(handle, pending))
                pending.clear()
                if progress is not None:
                    progress(report)
        list(pool.map(handle, pending))
    if progress is not None:
        progress(report)
    return report


# -- command line ----------------------------------------------------------------------------------


class _Progress:
    """At most one progress line a second on stderr (a bucket may hold millions of objects)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0

    def __call__(self, text: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - self.last >= 1.0:
            self.last = now
            print(text, file=self.stream, flush=True)


def _parse_override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--config wants KEY=VALUE, got {text!r}")
    return (key if ":" in key else f"voice-recordings:{key}"), value


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {low} to {high}, got {text!r}"
            )
        return int(text)

    return parse


def print_survey(result: Survey, out: TextIO) -> None:
    """The survey for a person."""

    def p(text: str = "") -> None:
        print(text, file=out)

    p(
        f"Survey of bucket {result.bucket} on {result.endpoint} (stack {result.stack}, "
        f"adoptExisting={str(result.adopt_existing).lower()}); nothing was changed"
    )
    p(f"  bucket         {'exists' if result.bucket_exists else 'does not exist'}")
    if result.bucket_exists:
        counts = result.objects
        rules = ", ".join(str(r.get("ID")) for r in result.lifecycle_rules) or "none"
        anonymous = _describe(_pairs(result.anonymous_access)) or "none"
        p(f"  versioning     {result.versioning}")
        p(f"  lifecycle      {rules}")
        p(f"  bucket policy  {'set' if result.bucket_policy else 'none'}; anonymous: {anonymous}")
        p(f"  encryption     {json.dumps(result.encryption) if result.encryption else 'none'}")
        p(
            f"  objects        {counts.total} ({counts.conforming} in the key layout, "
            f"{counts.untagged} of them without the kind tag, {counts.mistagged} mistagged; "
            f"{counts.nonconforming} outside the layout)"
        )
        for key in counts.nonconforming_sample:
            p(f"    outside the layout: {key}")
    p("Findings:")
    for severity in SEVERITIES:
        for finding in (f for f in result.findings if f.severity == severity):
            p(f"  {severity.upper():8} {finding.id}: {finding.message}")
            p(f"           -> {finding.action}")
    p("Identities live behind MinIO's admin API; check them yourself:")
    for command in result.identity_commands:
        p(f"  {command['command']}")
        p(f"      expect: {command['expect']}")
    decisions = sum(f.severity == "decision" for f in result.findings)
    p(
        "Verdict: adoption is safe as configured"
        if result.safe
        else f"Verdict: {decisions} finding(s) need a decision before `pulumi up`"
    )


def print_tag_report(report: TagReport, out: TextIO) -> None:
    """The tag-existing summary for a person."""
    if report.applied:
        p = f"tagged {report.tagged} object version(s)"
    else:
        p = f"dry run: {report.to_tag} object version(s) would be tagged (run with --apply)"
    print(
        f"{p}; scanned {report.scanned}, already tagged {report.already_tagged}, "
        f"outside the key layout (skipped) {report.nonconforming_count}, failed "
        f"{len(report.failed)}",
        file=out,
    )
    for label in report.sample if not report.applied else []:
        print(f"  would tag: {label}", file=out)
    for label in report.nonconforming:
        print(f"  skipped (outside the key layout): {label}", file=out)
    for error in report.failed:
        print(f"  FAILED {error}", file=out)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m infra.takeover`` (the README's runbook is tested on it)."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.takeover", description=(__doc__ or "").split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("survey", "read the server and report it against the stack (changes nothing)"),
        ("tag-existing", "set the kind tag on recordings and transcripts that lack it"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--stack", required=True, help="the stack (Pulumi.<stack>.yaml)")
        command.add_argument(
            "--config",
            action="append",
            default=[],
            type=_parse_override,
            metavar="KEY=VALUE",
            help="override a stack config value, like `pulumi up --config` (repeatable)",
        )
        command.add_argument(
            "--concurrency",
            type=_bounded(1, MAX_CONCURRENCY),
            default=DEFAULT_CONCURRENCY,
            help=f"requests in flight (default {DEFAULT_CONCURRENCY})",
        )
        command.add_argument(
            "--sample",
            type=_bounded(0, 10_000),
            default=DEFAULT_SAMPLE,
            help=f"how many keys to list per category (default {DEFAULT_SAMPLE})",
        )
        command.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "survey":
            command.add_argument(
                "--alias", default=DEFAULT_ALIAS, help="the mc alias in the printed commands"
            )
        else:
            command.add_argument(
                "--apply", action="store_true", help="tag (default: a dry run that only counts)"
            )
    return parser


def cli(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """``python -m infra.takeover``; returns the exit status."""
    args = build_parser().parse_args(argv)
    progress = _Progress(sys.stderr)
    try:
        overrides = dict(args.config)
        if args.command == "survey":
            desired = desired_state(args.stack, overrides)
            s3 = admin_client(desired.config, env)
            result = survey(
                s3,
                desired,
                concurrency=args.concurrency,
                sample=args.sample,
                alias=args.alias,
                progress=lambda n: progress(f"survey: {n} object versions read"),
            )
            if args.json:
                print(json.dumps(result.to_json(), indent=2, sort_keys=True, default=str))
            else:
                print_survey(result, sys.stdout)
            return EXIT_SAFE if result.safe else EXIT_DECISION
        config = parse_stack_config(load_stack_config(args.stack, overrides))
        s3 = admin_client(config, env)
        verb = "tagged" if args.apply else "to tag"
        report = tag_existing(
            s3,
            config.bucket,
            apply=args.apply,
            concurrency=args.concurrency,
            sample=args.sample,
            progress=lambda r: progress(
                f"tag-existing: scanned {r.scanned}, {verb} {r.tagged or r.to_tag}, "
                f"failed {len(r.failed)}"
            ),
        )
        if args.json:
            print(json.dumps(report.to_json(), indent=2, sort_keys=True))
        else:
            print_tag_report(report, sys.stdout)
        return EXIT_FAILED if report.failed else EXIT_SAFE
    except (StackConfigError, TakeoverError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "interrupted: every object is either tagged or untouched; run the same command "
            "again to finish (tagged objects are skipped)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(cli())
