"""The survey: read the server (never write) and compare it with the stack's desired state.

One check per part of the bucket (existence and adoption, versioning, lifecycle, bucket policy,
encryption, objects), each adding its findings to the :class:`~infra.takeover.findings.Survey`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from infra.config import full_key
from infra.identities import UPLOADER
from infra.takeover.desired import (
    DEFAULT_ALIAS,
    Desired,
    anonymous_grants,
    describe_grants,
    grant_pairs,
    identity_commands,
)
from infra.takeover.findings import Finding, Survey
from infra.takeover.server import (
    DEFAULT_CONCURRENCY,
    DEFAULT_SAMPLE,
    StoredObject,
    bucket_exists,
    read_optional,
    scan,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


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
            uploader = config.identity(UPLOADER).user
            add(
                Finding(
                    "console-account",
                    "warning",
                    f"{adopt_sa_key} is not set: the console's service account (the keys the "
                    f"Voice AI runs with) stays outside the stack, working until someone "
                    f"deletes it, and `pulumi up` gives the Voice AI a new one",
                    f"find it with `mc admin user svcacct ls {alias} {uploader}` and "
                    f"set {adopt_sa_key} to its access key",
                )
            )

    _survey_versioning(s3, result)
    _survey_object_lock(s3, result, config.acknowledge_object_lock)
    _survey_lifecycle(s3, desired, result)
    _survey_policy(s3, desired, result, alias)
    _survey_encryption(s3, desired, result, alias)
    _survey_objects(s3, desired, result, concurrency, sample, progress)
    return result


def _survey_versioning(s3: S3Client, result: Survey) -> None:
    answer = read_optional(lambda: s3.get_bucket_versioning(Bucket=result.bucket))
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


def _survey_object_lock(s3: S3Client, result: Survey, acknowledged: bool) -> None:
    # The import reads object locking (import_minio_s3_buckets.go,
    # resourceMinioS3BucketImportState), the provider's Update never changes it: a stack that
    # says otherwise than the server plans an update that does nothing and a state that lies.
    answer = read_optional(
        lambda: s3.get_object_lock_configuration(Bucket=result.bucket),
        "ObjectLockConfigurationNotFoundError",
        "InvalidRequest",
    )
    lock = (answer or {}).get("ObjectLockConfiguration") or {}
    locked = lock.get("ObjectLockEnabled") == "Enabled"
    key = full_key("acknowledgeObjectLock")
    if locked and not acknowledged:
        result.findings.append(
            Finding(
                "object-lock",
                "decision",
                f"the bucket {result.bucket} has object lock ({json.dumps(lock)}): a version "
                f"under retention can be removed neither by the lifecycle nor by an erasure; "
                f"without {key} the import plans objectLocking true -> false, which the provider "
                f"never applies",
                f"decide the retention with the data-protection officer; to adopt it as it is: "
                f"pulumi config set {key} true (the stack then declares object locking); object "
                f"lock cannot be turned off on a bucket: moving the recordings to a new bucket "
                f"is the only way out",
            )
        )
    elif locked:
        result.findings.append(
            Finding(
                "object-lock",
                "warning",
                f"the bucket {result.bucket} has object lock ({json.dumps(lock)}), adopted as "
                f"{key} says: a version under retention outlives the lifecycle and an erasure",
                "none (decided)",
            )
        )
    elif acknowledged:
        result.findings.append(
            Finding(
                "object-lock",
                "decision",
                f"{key} is true, but the bucket {result.bucket} has no object lock: the import "
                f"plans objectLocking false -> true, which the provider never applies",
                f"pulumi config rm {key}",
            )
        )


_RULES_NAMED = 6


def _survey_lifecycle(s3: S3Client, desired: Desired, result: Survey) -> None:
    answer = read_optional(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=result.bucket),
        "NoSuchLifecycleConfiguration",
    )
    rules: list[dict[str, Any]] = list((answer or {}).get("Rules", []))
    result.lifecycle_rules = rules
    dropped = sorted(str(r.get("ID", "")) for r in rules) if rules else []
    dropped = [rule_id for rule_id in dropped if rule_id not in desired.lifecycle_rule_ids]
    ids = desired.lifecycle_rule_ids
    # A company with its own retention brings dozens of prefix rules: name a few, count the rest.
    shown = (
        ids
        if len(ids) <= _RULES_NAMED
        else (*ids[:_RULES_NAMED], f"{len(ids) - _RULES_NAMED} more")
    )
    wanted = ", ".join(shown)
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
    answer = read_optional(lambda: s3.get_bucket_policy(Bucket=result.bucket), "NoSuchBucketPolicy")
    policy = json.loads(answer["Policy"]) if answer else None
    result.bucket_policy = policy
    result.anonymous_access = anonymous_grants(policy)
    bucket = result.bucket
    public, ack = full_key("publicRecordings"), full_key("acknowledgePublicRecordings")
    existing, wanted = (
        grant_pairs(result.anonymous_access),
        grant_pairs(anonymous_grants(desired.bucket_policy)),
    )
    if policy is None:
        if desired.bucket_policy is not None:
            result.findings.append(
                Finding(
                    "public-recordings",
                    "info",
                    f"no bucket policy: `pulumi up` adds anonymous {describe_grants(wanted)}",
                    "none",
                )
            )
        return
    if desired.bucket_policy is None:
        grants = describe_grants(existing) if existing else "no anonymous access"
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
                f"ends: {describe_grants(lost) or 'none (non-anonymous statements end)'}",
                "accept that the links relying on it stop working, or keep the public policy "
                "by hand outside the stack (then the guardrails cannot see it)",
            )
        )
    else:
        result.findings.append(
            Finding(
                "public-recordings",
                "info",
                f"the bucket policy grants nothing beyond the stack's "
                f"({describe_grants(existing)})",
                "none",
            )
        )


def _survey_encryption(s3: S3Client, desired: Desired, result: Survey, alias: str) -> None:
    answer = read_optional(
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
