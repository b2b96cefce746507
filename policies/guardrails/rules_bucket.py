"""The bucket: protected and retained, private, versioned, encrypted, its object lock and any
anonymous access acknowledged, and its settings retained on delete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

from infra.provider_contract import CONTRACTS
from infra.render_format import BUCKET, BUCKET_POLICY, ENCRYPTION, LIFECYCLE, VERSIONING, config_key
from policies.guardrails import model
from policies.guardrails.documents import allows, readable_document
from policies.guardrails.model import ADVISORY, MANDATORY, Finding, Resource, StackContext
from voice_recordings.permissions import ANONYMOUS_ACTIONS, bucket_arn

ACK_PUBLIC_KEY: Final = config_key("acknowledgePublicRecordings")
# Resources whose Delete damages the retained bucket: versioning suspended, lifecycle removed.
RETAINED_SETTINGS: Final = frozenset({VERSIONING, LIFECYCLE})


# This subject's rules, in declaration order (policies/guardrails/rules.py lists them all).
RULES: Final = model.Catalogue()


@RULES.resource("bucket-protected", MANDATORY, (BUCKET,))
def check_bucket_protected(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The recordings bucket is protected, retained on delete and never force-destroyed.

    Recordings outlive the stack: protected, retained on delete, never force-destroyed."""
    if not resource.protect:
        yield Finding(
            "protect is off, so `pulumi destroy` or a rename would delete the bucket.",
            "create the bucket with opts=ResourceOptions(protect=True).",
        )
    if resource.retain_on_delete is False:
        yield Finding(
            "retainOnDelete is off, so removing it from the program deletes the bucket.",
            "create the bucket with opts=ResourceOptions(retain_on_delete=True).",
        )
    if resource.known("forceDestroy", False) is not False:
        yield Finding(
            "forceDestroy is on, so a delete would empty the bucket of every recording.",
            "set force_destroy=False (the default).",
        )


@RULES.resource("bucket-acl-private", MANDATORY, (BUCKET,))
def check_bucket_acl_private(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The bucket's ACL is private.

    The bucket's canned ACL is private; public access goes only through the bucket policy."""
    acl = resource.known("acl", "private")
    if acl != "private":
        yield Finding(
            f"acl is {acl!r}, which lets anyone read or list the bucket.",
            "set acl='private'; anonymous playback, if ever, goes through the acknowledged "
            "bucket policy (publicRecordings + acknowledgePublicRecordings).",
        )


@RULES.resource("bucket-object-lock-acknowledged", MANDATORY, (BUCKET,))
def check_bucket_object_lock(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The bucket declares object lock only when the stack acknowledges it.

    Object lock only as the takeover's decision: a version under retention outlives the
    lifecycle and every erasure, and a bucket can never drop it."""
    locking = resource.known("objectLocking", False)
    if locking is not False and not ctx.object_lock_acknowledged:
        yield Finding(
            f"objectLocking is {locking!r} without {config_key('acknowledgeObjectLock')}: "
            "versions under retention could be removed neither by the lifecycle nor by an "
            "erasure.",
            "leave object_locking unset; a hand-made bucket that has it is adopted only with "
            "acknowledgeObjectLock: true (docs/operating.md, the takeover's step 2).",
        )


def _recordings_resource_re(bucket: str) -> re.Pattern[str]:
    # company_* or one company's prefix, then /voice/: never transcripts, never the whole bucket.
    return re.compile(
        rf"arn:aws:s3:::{re.escape(bucket)}/company_(\*|[1-9][0-9]*)/voice/[A-Za-z0-9/_.*-]*"
    )


def _anonymous(principals: list[str] | None) -> bool:
    return principals is not None and "*" in principals


@RULES.resource("no-anonymous-access", MANDATORY, (BUCKET_POLICY,))
def check_no_anonymous_access(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """No anonymous access unless acknowledged; then s3:GetObject on recordings only.

    No anonymous access unless acknowledged; then anonymous s3:GetObject on recordings only."""
    allowing = allows(readable_document(resource))
    if not allowing:
        return
    if not ctx.public_acknowledged:
        yield Finding(
            "the bucket policy grants access, but the stack did not acknowledge public recordings.",
            f"remove the bucket policy (attendants use presigned URLs), or set {ACK_PUBLIC_KEY} "
            "to true in the stack config after the data owner agreed.",
        )
        return
    recordings = _recordings_resource_re(ctx.bucket)
    for statement in allowing:
        if statement.negated:
            yield Finding(
                f"a statement uses {', '.join(statement.negated)}, which grants everything else.",
                "list the principal, action and resources explicitly.",
            )
        if not _anonymous(statement.principals):
            yield Finding(
                f"grants to the named principals {statement.principals}.",
                "grant identities through IAM policies; the bucket policy is only for the "
                "anonymous recordings flow.",
            )
        extra = [a for a in statement.actions if a not in ANONYMOUS_ACTIONS]
        if extra:
            yield Finding(
                f"grants {extra} to anonymous users (listing or writing exposes every call).",
                f"grant {list(ANONYMOUS_ACTIONS)} only.",
            )
        outside = [r for r in statement.resources if not recordings.fullmatch(r)]
        if outside:
            yield Finding(
                f"exposes {outside}, beyond the recordings.",
                f"use {bucket_arn(ctx.bucket)}/company_*/voice/* only (never transcripts).",
            )


@RULES.resource("settings-retained", MANDATORY, RETAINED_SETTINGS)
def check_settings_retained(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Versioning and lifecycle are retained on delete.

    Versioning and lifecycle are retained on delete: their Delete strips the bucket of them."""
    if resource.retain_on_delete is False:
        yield Finding(
            f"retainOnDelete is off, and its Delete {CONTRACTS[resource.type].delete_effect}: a "
            "rename, a new parent (create new, delete old) or `pulumi destroy` would do that to "
            "the retained bucket.",
            "create it with opts=ResourceOptions(retain_on_delete=True); rename or reparent it "
            "only with aliases=[...] naming the deployed resource (docs/operating.md).",
        )


@RULES.resource("public-recordings-notice", ADVISORY, (BUCKET_POLICY,))
def check_public_notice(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Anonymous playback of recordings is on (acknowledged).

    Advisory: anonymous access is on (acknowledged), so every recording URL is playable."""
    if ctx.public_acknowledged and any(
        _anonymous(s.principals) for s in allows(readable_document(resource))
    ):
        yield Finding(
            "anyone who has a recording's URL can play it (acknowledged in the stack config).",
            f"nothing, if intended; to close it, set {ACK_PUBLIC_KEY} and publicRecordings to "
            "false and hand out presigned URLs.",
        )


@RULES.stack("versioning-enabled", MANDATORY)
def check_versioning_enabled(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """The recordings bucket has versioning enabled.

    The bucket keeps versions, so an overwrite or a delete can be undone."""
    found = model.for_bucket(resources, VERSIONING, ctx.bucket)
    if not found:
        yield Finding(
            f"no S3BucketVersioning for {ctx.bucket!r}.",
            "add S3BucketVersioning with versioning_configuration status 'Enabled'.",
        )
    for resource in found:
        status = (resource.known("versioningConfiguration") or {}).get("status")
        if status != "Enabled":
            yield Finding(
                f"versioning status is {status!r}.",
                "set versioning_configuration status to 'Enabled'.",
                resource,
            )


@RULES.stack("encryption-configured", ADVISORY)
def check_encryption(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """The bucket has server-side encryption configured.

    Advisory: the bucket has server-side encryption configured."""
    if not model.for_bucket(resources, ENCRYPTION, ctx.bucket):
        yield Finding(
            f"no server-side encryption is configured for {ctx.bucket!r}.",
            "set voice-recordings:encryptionKeyId to a key of the MinIO server's KMS (KES).",
        )
