"""The IAM documents: read as MinIO reads them, no wildcard, on the bucket only, each identity
its own actions, and erasure markers the steward's alone (documents are parsed by
``documents.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from infra.identities import READER, STEWARD, Role
from infra.render_format import BUCKET_POLICY, IAM_GROUP_POLICY, IAM_POLICY, SERVICE_ACCOUNT
from policies.guardrails.documents import (
    PolicyDocumentError,
    allows,
    policy_document,
    readable_document,
)
from policies.guardrails.model import MANDATORY, Catalogue, Finding, Resource, StackContext
from voice_recordings.keys import ERASURES_PREFIX
from voice_recordings.permissions import (
    bucket_arn,
    erasures_arn,
    is_read_action,
    objects_arn,
    recordings_arn,
)

# Resources whose "policy" input is an identity's IAM document (the bucket policy is separate).
IDENTITY_POLICY_TYPES: Final = frozenset({IAM_POLICY, IAM_GROUP_POLICY, SERVICE_ACCOUNT})
POLICY_DOCUMENT_TYPES: Final = IDENTITY_POLICY_TYPES | {BUCKET_POLICY}
# Actions that delete data or administer the bucket/server: never for the uploader or the reader.
_ADMIN_ACTION_RE: Final = re.compile(
    r"^(admin|kms|sts):|^s3:(Create|PutBucket|PutLifecycle|PutReplication|PutEncryption|"
    r"PutObjectLock|PutObjectRetention|PutObjectLegalHold|BypassGovernance|ForceDelete)",
    re.IGNORECASE,
)


# This subject's rules, in declaration order (policies/guardrails/rules.py lists them all).
RULES: Final = Catalogue()


def _in_bucket(resource_arn: str, bucket: str) -> bool:
    return resource_arn == bucket_arn(bucket) or resource_arn.startswith(bucket_arn(bucket) + "/")


def _role(resource: Resource, ctx: StackContext) -> Role:
    """Whose document this is: one no identity's names claim is held to the reader's actions, the
    narrowest list."""
    return ctx.owner(resource) or READER


@RULES.resource("policy-document-unambiguous", MANDATORY, POLICY_DOCUMENT_TYPES)
def check_document_unambiguous(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Policy documents read the same to MinIO (Go's case-insensitive JSON) as to a reviewer.

    A policy document reads the same to MinIO as to a reviewer (see read_policy_document)."""
    try:
        policy_document(resource)
    except PolicyDocumentError as exc:
        yield Finding(
            f"its policy: {exc}",
            "write each key once, in its documented case (Version, Statement, Sid, Effect, "
            "Action, Resource, Principal, Condition), with the documented value shapes.",
        )


@RULES.resource("iam-no-wildcards", MANDATORY, POLICY_DOCUMENT_TYPES)
def check_no_wildcards(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Policy documents grant no wildcard action and no wildcard resource.

    No wildcard action, no wildcard resource, no NotAction/NotResource in a grant."""
    for statement in allows(readable_document(resource)):
        wild = [a for a in statement.actions if "*" in a or "?" in a]
        if wild:
            yield Finding(
                f"grants the wildcard action(s) {wild}.",
                "list the exact actions from voice_recordings.permissions.",
            )
        wide = [
            r
            for r in statement.resources
            if r in ("*", "arn:aws:s3:::*") or re.search(r"[*?]", r.split("/", 1)[0])
        ]
        if wide:
            yield Finding(
                f"grants on the wildcard resource(s) {wide}.",
                f"name the bucket: {bucket_arn(ctx.bucket)} or {objects_arn(ctx.bucket)}.",
            )
        if statement.negated and resource.type != BUCKET_POLICY:
            yield Finding(
                f"a grant uses {', '.join(statement.negated)}, which allows everything else.",
                "list actions and resources explicitly.",
            )


@RULES.resource("iam-bucket-scope", MANDATORY, POLICY_DOCUMENT_TYPES)
def check_bucket_scope(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Policy documents grant on the recordings bucket only.

    Every resource a grant names is the recordings bucket or an object in it."""
    for statement in allows(readable_document(resource)):
        outside = [r for r in statement.resources if not _in_bucket(r, ctx.bucket)]
        if outside:
            yield Finding(
                f"grants on {outside}, outside the recordings bucket {ctx.bucket!r}.",
                f"limit Resource to {bucket_arn(ctx.bucket)} and {objects_arn(ctx.bucket)}.",
            )


@RULES.resource("iam-least-privilege", MANDATORY, IDENTITY_POLICY_TYPES)
def check_least_privilege(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Each identity gets its listed actions only (no admin; only the steward deletes).

    Each identity gets its listed actions only: no administration, and no delete but the
    steward's; the steward writes nothing but erasure markers."""
    role = _role(resource, ctx)
    for statement in allows(readable_document(resource)):
        if role is STEWARD and "s3:PutObject" in statement.actions:
            elsewhere = [r for r in statement.resources if r != erasures_arn(ctx.bucket)]
            if elsewhere:
                yield Finding(
                    f"gives the steward s3:PutObject on {elsewhere}: it may write only erasure "
                    "markers.",
                    f"limit that grant to {erasures_arn(ctx.bucket)}.",
                )
        for action in statement.actions:
            if action in role.actions or "*" in action:  # wildcards: reported by iam-no-wildcards
                continue
            if "delete" in action.lower():
                kind = "the delete action"
            elif _ADMIN_ACTION_RE.search(action):
                kind = "the administrative action"
            else:
                kind = "the action"
            yield Finding(
                f"gives the {role.name} {kind} {action!r}, beyond its list {list(role.actions)}.",
                f"remove {action!r}; recordings leave only through the lifecycle, and the "
                "bucket is administered by this program.",
            )


# Keys under erasures/ a write grant is tried against: a pattern that matches any of them lets
# its identity decide (or undo) an erasure.
_MARKER_SAMPLES: Final = ("company_1.json", "company_1/call-1.json", "x")


def _reaches_erasures(resource_arn: str, bucket: str) -> bool:
    pattern = re.escape(resource_arn).replace(r"\*", ".*").replace(r"\?", ".")
    return any(
        re.fullmatch(pattern, f"{bucket_arn(bucket)}/{ERASURES_PREFIX}{sample}")
        for sample in _MARKER_SAMPLES
    )


# The documents the program decides: a service account's reads back as its parent's (an
# adopted console account's as the hand-made one's until the update), judged there.
@RULES.resource("erasures-steward-only", MANDATORY, (IAM_POLICY, IAM_GROUP_POLICY))
def check_erasures_steward_only(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Only the steward may write erasure markers (erasures/): no other identity decides one.

    No identity but the steward may write under ``erasures/``: a marker dated in the future
    there would make every replay drop a company's spooled recordings."""
    role = _role(resource, ctx)
    if role is STEWARD:
        return
    for statement in allows(readable_document(resource)):
        # Deletes by anyone but the steward are iam-least-privilege's to refuse.
        writes = [
            a for a in statement.actions if not is_read_action(a) and "delete" not in a.lower()
        ]
        reaching = [r for r in statement.resources if _reaches_erasures(r, ctx.bucket)]
        if writes and reaching:
            yield Finding(
                f"lets the {role.name} {writes} on {reaching}, which covers the erasure markers "
                f"under {ERASURES_PREFIX}: only the steward may decide an erasure.",
                f"grant the {role.name}'s writes on {recordings_arn(ctx.bucket)} (the key layout) "
                "instead of the whole bucket.",
            )
