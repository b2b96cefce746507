"""The rule catalogue: every guardrail, declared right beside its check.

Each rule is a plain function over the rules' view of the desired state (``model.py``), declared
with ``@CATALOGUE.resource(...)`` or ``@CATALOGUE.stack(...)`` just above it; policy documents are
read through ``documents.py``. To add a rule: write its check here with its declaration, then its
failing case in tests/guardrails/cases.py and its row in docs/operating.md's rule table. Two
runners call the catalogue: the CrossGuard policy pack inside ``pulumi preview`` (``pack.py``) and
the offline checker over the committed renders (``offline.py``). Nothing here imports pulumi or
pulumi_policy, so the offline runner works where the engine does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, TypeAlias

from infra.provider_contract import CONTRACTS
from infra.render_format import (
    ATTACHMENT,
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    ENCRYPTION,
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    PROVIDER,
    RANDOM_PASSWORD,
    RANDOM_PROVIDER,
    SECRET_MARKER,
    SERVICE_ACCOUNT,
    STACK,
    VERSIONING,
    config_key,
)
from policies.guardrails.documents import (
    PolicyDocumentError,
    allows,
    policy_document,
    readable_document,
)
from policies.guardrails.lifecycle import (
    UNTAGGED,
    Effect,
    Rule,
    StoredObject,
    effect,
    probe_effect,
    why_unmatched,
)
from policies.guardrails.model import (
    ADVISORY,
    MANDATORY,
    Catalogue,
    Finding,
    Level,
    Resource,
    ResourceRule,
    StackContext,
    StackRule,
    Violation,
    require_known,
)
from voice_recordings.keys import ERASURES_PREFIX, KIND_TAG_KEY, KINDS
from voice_recordings.permissions import (
    ANONYMOUS_ACTIONS,
    OBSERVER_ACTIONS,
    PROBE_KEY,
    PROBE_PREFIX,
    READER_ACTIONS,
    STEWARD_ACTIONS,
    UPLOADER_ACTIONS,
    bucket_arn,
    erasures_arn,
    is_read_action,
    objects_arn,
    recordings_arn,
    uploader_grants,
)

ACK_PUBLIC_KEY: Final = config_key("acknowledgePublicRecordings")

# The retention docs/operating.md recommends, per kind (days): long enough to handle a complaint
# about a call, short enough that personal data does not pile up for ever (5 years at most).
RECOMMENDED_RETENTION_DAYS: Final[Mapping[str, tuple[int, int]]] = {
    kind: (30, 1825) for kind in KINDS
}

# Resources whose "policy" input is an identity's IAM document (the bucket policy is separate).
IDENTITY_POLICY_TYPES: Final = frozenset({IAM_POLICY, IAM_GROUP_POLICY, SERVICE_ACCOUNT})
POLICY_DOCUMENT_TYPES: Final = IDENTITY_POLICY_TYPES | {BUCKET_POLICY}

# Input names that hold credentials (minioPassword, secret, secretKey, minioSessionToken ...).
_SECRET_INPUT_RE: Final = re.compile(r"password|secret|token", re.IGNORECASE)
# Actions that delete data or administer the bucket/server: never for the uploader or the reader.
_ADMIN_ACTION_RE: Final = re.compile(
    r"^(admin|kms|sts):|^s3:(Create|PutBucket|PutLifecycle|PutReplication|PutEncryption|"
    r"PutObjectLock|PutObjectRetention|PutObjectLegalHold|BypassGovernance|ForceDelete)",
    re.IGNORECASE,
)
# Resources whose Delete damages the retained bucket: versioning suspended, lifecycle removed.
RETAINED_SETTINGS: Final = frozenset({VERSIONING, LIFECYCLE})
# Identity resources: user and policy Create silently overwrite what exists on the server.
IDENTITY_TYPES: Final = frozenset({IAM_USER, IAM_POLICY, ATTACHMENT, SERVICE_ACCOUNT})

# Every rule, in declaration order: the order the pack serves them and the runners report.
CATALOGUE: Final = Catalogue()


# --- helpers of several checks --------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _in_bucket(resource_arn: str, bucket: str) -> bool:
    return resource_arn == bucket_arn(bucket) or resource_arn.startswith(bucket_arn(bucket) + "/")


def _role(resource: Resource, ctx: StackContext) -> tuple[str, tuple[str, ...]]:
    """Whose document this is, and the actions that identity may have."""
    name = resource.known("name") if resource.type != SERVICE_ACCOUNT else None
    user = resource.known("targetUser") if resource.type == SERVICE_ACCOUNT else None
    is_uploader = (name is not None and name == ctx.uploader_policy) or (
        user is not None and user == ctx.uploader_user
    )
    if is_uploader:
        return ("uploader", UPLOADER_ACTIONS)
    is_steward = (name is not None and name == ctx.steward_policy) or (
        user is not None and user == ctx.steward_user
    )
    if is_steward:
        return ("steward", STEWARD_ACTIONS)
    if _is_observers(resource, ctx):
        return ("observer", OBSERVER_ACTIONS)
    return ("reader", READER_ACTIONS)


def _is_observers(resource: Resource, ctx: StackContext) -> bool:
    """True for the observer's policy, or a service account of the observer's user."""
    if resource.type == SERVICE_ACCOUNT:
        return ctx.observer_user is not None and resource.known("targetUser") == ctx.observer_user
    return ctx.observer_policy is not None and resource.known("name") == ctx.observer_policy


# --- the closed world: what the rules know ------------------------------------------------------
#
# A type or an input the rules do not know is a violation until a rule knows it: a group policy
# attachment, a replication target, a notification or a KMS key grants or exposes something no
# rule checks. Per type, the inputs the guardrails know, each one of:
#   ANY_VALUE            a rule reads it, or no value of it can widen access or lose recordings;
#   a tuple of values    only these (the provider's default, which its Check may fill in);
#   a mapping            an object (or a list of objects) whose members are known the same way.
# To let the program use something new: write the rule that checks it, then list it here.

ANY_VALUE: Final = None
InputSpec: TypeAlias = "tuple[object, ...] | Mapping[str, InputSpec] | None"

# The engine adds the plugin's version to every provider's inputs.
_ENGINE_PROVIDER_INPUTS: Final[Mapping[str, InputSpec]] = {"version": ANY_VALUE}
_RANDOM_PASSWORD_INPUTS: Final = (
    # The provider's Check fills in the deprecated "number" (true) beside "numeric": recorded
    # under the real analyzer (policies/guardrails/analyzer.py).
    "number",
    "length",
    "special",
    "upper",
    "lower",
    "numeric",
    "minLower",
    "minUpper",
    "minNumeric",
    "minSpecial",
    "overrideSpecial",
    "keepers",
)

KNOWN_INPUTS: Final[Mapping[str, Mapping[str, InputSpec]]] = {
    STACK: {},
    COMPONENT: {},
    PROVIDER: {
        **_ENGINE_PROVIDER_INPUTS,
        "minioServer": ANY_VALUE,
        "minioRegion": ANY_VALUE,
        "minioSsl": ANY_VALUE,
        "minioApiVersion": ANY_VALUE,
        "minioCacertFile": ANY_VALUE,
        "minioCertFile": ANY_VALUE,
        "minioKeyFile": ANY_VALUE,
        # Credentials: secrets-masked checks them. (The provider's Check fills unset ones from
        # MINIO_* variables; minioSessionToken defaults to "".) The deprecated minioAccessKey and
        # minioSecretKey stay unknown: the runtime's MINIO_ACCESS_KEY must never deploy.
        "minioUser": ANY_VALUE,
        "minioPassword": ANY_VALUE,
        "minioSessionToken": ANY_VALUE,
        # Skipping certificate checks hands the admin password to whoever answers.
        "minioInsecure": (False, "false"),
    },
    RANDOM_PROVIDER: dict(_ENGINE_PROVIDER_INPUTS),
    # The generated value's length and alphabet: they grant nothing.
    RANDOM_PASSWORD: dict.fromkeys(_RANDOM_PASSWORD_INPUTS, ANY_VALUE),
    BUCKET: {
        "bucket": ANY_VALUE,
        "acl": ANY_VALUE,  # bucket-acl-private
        "forceDestroy": ANY_VALUE,  # bucket-protected
        "objectLocking": ANY_VALUE,  # bucket-object-lock-acknowledged
    },
    VERSIONING: {
        "bucket": ANY_VALUE,
        # excludedPrefixes / excludeFolders would leave recordings unversioned: not known.
        "versioningConfiguration": {"status": ANY_VALUE},  # versioning-enabled
    },
    LIFECYCLE: {
        "bucket": ANY_VALUE,
        # A rule's filter (a key prefix) is judged with its tags by the lifecycle rules, per
        # company (policies/guardrails/lifecycle.py).
        "rules": {
            "id": ANY_VALUE,
            "status": ANY_VALUE,
            "tags": ANY_VALUE,
            "filter": ANY_VALUE,
            "expiration": ANY_VALUE,
            "noncurrentVersionExpirationDays": ANY_VALUE,
        },
    },
    IAM_POLICY: {"name": ANY_VALUE, "policy": ANY_VALUE},
    IAM_USER: {
        "name": ANY_VALUE,
        "secret": ANY_VALUE,  # secrets-masked
        "disableUser": ANY_VALUE,  # disabling only takes away
        "forceDestroy": (False,),
        "updateSecret": (False,),  # rotation is an explicit, reviewed --replace
    },
    ATTACHMENT: {"policyName": ANY_VALUE, "userName": ANY_VALUE},  # iam-attachment-scope
    SERVICE_ACCOUNT: {
        "targetUser": ANY_VALUE,  # service-account-of-stack-user
        "policy": ANY_VALUE,  # the iam-* document rules
        "disableUser": ANY_VALUE,
        "updateSecret": (False,),
    },
    BUCKET_POLICY: {"bucket": ANY_VALUE, "policy": ANY_VALUE},  # no-anonymous-access
    ENCRYPTION: {"bucket": ANY_VALUE, "encryptionType": ANY_VALUE, "kmsKeyId": ANY_VALUE},
}


def _unknown_inputs(value: Any, spec: InputSpec, path: str, label: str) -> Iterator[str]:
    """Problems of one input against what the rules know of it (values are never echoed).

    Only what this rule decides on must be known: a value restricted to a tuple, and each object
    (or list of objects) whose keys it reads. An unknown under ANY_VALUE is for the rule that
    reads it to judge, so a preview's unknown tag or expiration never stops the closed world."""
    if spec is ANY_VALUE:
        return
    if isinstance(spec, tuple):
        require_known(value, label, path)
        if value not in spec:
            yield (
                f"input {path!r} has a value the guardrails do not accept (only "
                f"{', '.join(json.dumps(v) for v in spec)})."
            )
        return
    require_known(value, label, path, deep=False)
    items = list(value) if isinstance(value, list | tuple) else [value]
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(value, list | tuple) else path
        require_known(item, label, where, deep=False)
        if not isinstance(item, Mapping):
            yield f"input {where!r} is not an object as the guardrails know it."
            continue
        for key in sorted(item):
            if key not in spec:
                yield f"input {where}.{key!r} is not one the guardrails know."
            else:
                yield from _unknown_inputs(item[key], spec[key], f"{where}.{key}", label)


@CATALOGUE.resource(
    "known-resources-only",
    "Every resource type and input is one a rule knows (closed world).",
    MANDATORY,
    None,
)
def check_known_resource(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Closed world: every type and input is one some rule knows (or one that cannot harm)."""
    known = KNOWN_INPUTS.get(resource.type)
    if known is None:
        yield Finding(
            f"the type {resource.type!r} is not one the guardrails know, so nothing checks what "
            "it grants or exposes.",
            "remove it, or first teach the guardrails: a rule for it in "
            "policies/guardrails/rules.py and its inputs in KNOWN_INPUTS.",
        )
        return
    problems = []
    for key in sorted(resource.inputs):
        if key not in known:
            problems.append(f"input {key!r} is not one the guardrails know.")
        else:
            problems.extend(_unknown_inputs(resource.inputs[key], known[key], key, resource.label))
    for problem in problems:
        yield Finding(
            problem,
            "leave it unset, or first teach the guardrails: a rule that checks it and its "
            "entry in KNOWN_INPUTS (policies/guardrails/rules.py).",
        )


@CATALOGUE.resource(
    "policy-document-unambiguous",
    "Policy documents read the same to MinIO (Go's case-insensitive JSON) as to a reviewer.",
    MANDATORY,
    POLICY_DOCUMENT_TYPES,
)
def check_document_unambiguous(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """A policy document reads the same to MinIO as to a reviewer (see read_policy_document)."""
    try:
        policy_document(resource)
    except PolicyDocumentError as exc:
        yield Finding(
            f"its policy: {exc}",
            "write each key once, in its documented case (Version, Statement, Sid, Effect, "
            "Action, Resource, Principal, Condition), with the documented value shapes.",
        )


# --- resource checks ------------------------------------------------------------------------------


@CATALOGUE.resource(
    "bucket-protected",
    "The recordings bucket is protected, retained on delete and never force-destroyed.",
    MANDATORY,
    (BUCKET,),
)
def check_bucket_protected(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Recordings outlive the stack: protected, retained on delete, never force-destroyed."""
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


@CATALOGUE.resource(
    "bucket-acl-private",
    "The bucket's ACL is private.",
    MANDATORY,
    (BUCKET,),
)
def check_bucket_acl_private(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The bucket's canned ACL is private; public access goes only through the bucket policy."""
    acl = resource.known("acl", "private")
    if acl != "private":
        yield Finding(
            f"acl is {acl!r}, which lets anyone read or list the bucket.",
            "set acl='private'; anonymous playback, if ever, goes through the acknowledged "
            "bucket policy (publicRecordings + acknowledgePublicRecordings).",
        )


@CATALOGUE.resource(
    "bucket-object-lock-acknowledged",
    "The bucket declares object lock only when the stack acknowledges it.",
    MANDATORY,
    (BUCKET,),
)
def check_bucket_object_lock(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Object lock only as the takeover's decision: a version under retention outlives the
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


@CATALOGUE.resource(
    "no-anonymous-access",
    "No anonymous access unless acknowledged; then s3:GetObject on recordings only.",
    MANDATORY,
    (BUCKET_POLICY,),
)
def check_no_anonymous_access(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """No anonymous access unless acknowledged; then anonymous s3:GetObject on recordings only."""
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


@CATALOGUE.resource(
    "iam-no-wildcards",
    "Policy documents grant no wildcard action and no wildcard resource.",
    MANDATORY,
    POLICY_DOCUMENT_TYPES,
)
def check_no_wildcards(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """No wildcard action, no wildcard resource, no NotAction/NotResource in a grant."""
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


@CATALOGUE.resource(
    "iam-bucket-scope",
    "Policy documents grant on the recordings bucket only.",
    MANDATORY,
    POLICY_DOCUMENT_TYPES,
)
def check_bucket_scope(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Every resource a grant names is the recordings bucket or an object in it."""
    for statement in allows(readable_document(resource)):
        outside = [r for r in statement.resources if not _in_bucket(r, ctx.bucket)]
        if outside:
            yield Finding(
                f"grants on {outside}, outside the recordings bucket {ctx.bucket!r}.",
                f"limit Resource to {bucket_arn(ctx.bucket)} and {objects_arn(ctx.bucket)}.",
            )


@CATALOGUE.resource(
    "iam-least-privilege",
    "Each identity gets its listed actions only (no admin; only the steward deletes).",
    MANDATORY,
    IDENTITY_POLICY_TYPES,
)
def check_least_privilege(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Each identity gets its listed actions only: no administration, and no delete but the
    steward's; the steward writes nothing but erasure markers."""
    role, allowed = _role(resource, ctx)
    for statement in allows(readable_document(resource)):
        if role == "steward" and "s3:PutObject" in statement.actions:
            elsewhere = [r for r in statement.resources if r != erasures_arn(ctx.bucket)]
            if elsewhere:
                yield Finding(
                    f"gives the steward s3:PutObject on {elsewhere}: it may write only erasure "
                    "markers.",
                    f"limit that grant to {erasures_arn(ctx.bucket)}.",
                )
        for action in statement.actions:
            if action in allowed or "*" in action:  # wildcards: reported by iam-no-wildcards
                continue
            if "delete" in action.lower():
                kind = "the delete action"
            elif _ADMIN_ACTION_RE.search(action):
                kind = "the administrative action"
            else:
                kind = "the action"
            yield Finding(
                f"gives the {role} {kind} {action!r}, beyond its list {list(allowed)}.",
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


@CATALOGUE.resource(
    "erasures-steward-only",
    "Only the steward may write erasure markers (erasures/): no other identity decides one.",
    MANDATORY,
    # The documents the program decides: a service account's reads back as its parent's (an
    # adopted console account's as the hand-made one's until the update), judged there.
    (IAM_POLICY, IAM_GROUP_POLICY),
)
def check_erasures_steward_only(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """No identity but the steward may write under ``erasures/``: a marker dated in the future
    there would make every replay drop a company's spooled recordings."""
    role, _ = _role(resource, ctx)
    if role == "steward":
        return
    for statement in allows(readable_document(resource)):
        # Deletes by anyone but the steward are iam-least-privilege's to refuse.
        writes = [
            a for a in statement.actions if not is_read_action(a) and "delete" not in a.lower()
        ]
        reaching = [r for r in statement.resources if _reaches_erasures(r, ctx.bucket)]
        if writes and reaching:
            yield Finding(
                f"lets the {role} {writes} on {reaching}, which covers the erasure markers "
                f"under {ERASURES_PREFIX}: only the steward may decide an erasure.",
                f"grant the {role}'s writes on {recordings_arn(ctx.bucket)} (the key layout) "
                "instead of the whole bucket.",
            )


@CATALOGUE.resource(
    "iam-attachment-scope",
    "Each user gets only this stack's policy for its role.",
    MANDATORY,
    (ATTACHMENT,),
)
def check_attachment_scope(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """A user gets only this stack's policy for its role (no built-in readwrite/consoleAdmin)."""
    policy, user = resource.known("policyName"), resource.known("userName")
    expected = {
        ctx.uploader_policy: ctx.uploader_user,
        ctx.reader_policy: ctx.reader_user,
        ctx.observer_policy: ctx.observer_user,
        ctx.steward_policy: ctx.steward_user,
    }
    expected.pop(None, None)
    if policy not in expected:
        yield Finding(
            f"attaches the policy {policy!r}, which this stack does not define.",
            f"attach only {sorted(p for p in expected if p)} (from the stack config).",
        )
    elif expected[policy] is not None and user != expected[policy]:
        yield Finding(
            f"attaches {policy!r} to {user!r} instead of {expected[policy]!r}.",
            f"attach {policy!r} to {expected[policy]!r} only.",
        )


@CATALOGUE.resource(
    "observer-read-only",
    "The observer's policy (CI's preview and drift identity) has only read actions.",
    MANDATORY,
    IDENTITY_POLICY_TYPES,
)
def check_observer_read_only(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The observer (CI's preview and drift identity) only reads: no action that writes."""
    if not _is_observers(resource, ctx):
        return
    for statement in allows(policy_document(resource)):
        if "NotAction" in statement.negated:
            yield Finding(
                "a grant uses NotAction, which allows every other action, writes included.",
                "list the observer's read actions explicitly (voice_recordings.permissions).",
            )
        for action in statement.actions:
            if not is_read_action(action):
                yield Finding(
                    f"gives the observer {action!r}, which is not a read (Get/List/Head/"
                    "Describe): a pull request's preview could change the server with it.",
                    f"remove {action!r}; changes are made only by the reviewed deploy, with the "
                    "admin's credentials.",
                )


@CATALOGUE.resource(
    "secrets-masked",
    "Credential inputs are Pulumi secrets, never plaintext.",
    MANDATORY,
    None,
)
def check_secrets_masked(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """A credential input (password, secret key, token) is a Pulumi secret, never plaintext."""
    for key in sorted(resource.inputs):
        value = resource.inputs[key]
        if not _SECRET_INPUT_RE.search(key) or not isinstance(value, str):
            continue
        if value and value != SECRET_MARKER:
            # Never print the value: this message ends up in CI logs and PR comments.
            yield Finding(
                f"input {key!r} holds a plaintext value.",
                "pass it as a secret: pulumi.Output.secret(...), a pulumi-random result, or "
                "`pulumi config set --secret`.",
            )


# --- the provider that really runs (infra/provider_contract.py) -----------------------------------


@CATALOGUE.resource(
    "settings-retained",
    "Versioning and lifecycle are retained on delete.",
    MANDATORY,
    RETAINED_SETTINGS,
)
def check_settings_retained(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Versioning and lifecycle are retained on delete: their Delete strips the bucket of them."""
    if resource.retain_on_delete is False:
        yield Finding(
            f"retainOnDelete is off, and its Delete {CONTRACTS[resource.type].delete_effect}: a "
            "rename, a new parent (create new, delete old) or `pulumi destroy` would do that to "
            "the retained bucket.",
            "create it with opts=ResourceOptions(retain_on_delete=True); rename or reparent it "
            "only with aliases=[...] naming the deployed resource (docs/operating.md).",
        )


@CATALOGUE.resource(
    "provider-verifies-tls",
    "The provider's minio_insecure is explicitly false.",
    MANDATORY,
    (PROVIDER,),
)
def check_provider_verifies_tls(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The provider's minio_insecure is explicitly false."""
    value = resource.known("minioInsecure")
    if value not in (False, "false"):
        state = (
            "unset, so the provider takes MINIO_INSECURE from the deploying shell"
            if (value is None)
            else f"{value!r}, which turns off verification of the server's certificate"
        )
        yield Finding(
            f"minioInsecure is {state}.",
            "set minio_insecure=False on the explicit provider (and a private CA with "
            f"{config_key('caBundle')}).",
        )


# --- advisory notices -----------------------------------------------------------------------------


@CATALOGUE.resource(
    "public-recordings-notice",
    "Anonymous playback of recordings is on (acknowledged).",
    ADVISORY,
    (BUCKET_POLICY,),
)
def check_public_notice(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Advisory: anonymous access is on (acknowledged), so every recording URL is playable."""
    if ctx.public_acknowledged and any(
        _anonymous(s.principals) for s in allows(readable_document(resource))
    ):
        yield Finding(
            "anyone who has a recording's URL can play it (acknowledged in the stack config).",
            f"nothing, if intended; to close it, set {ACK_PUBLIC_KEY} and publicRecordings to "
            "false and hand out presigned URLs.",
        )


# --- stack checks ---------------------------------------------------------------------------------


def _of_type(resources: Sequence[Resource], type_token: str) -> list[Resource]:
    return [r for r in resources if r.type == type_token]


def _for_bucket(resources: Sequence[Resource], type_token: str, bucket: str) -> list[Resource]:
    return [r for r in _of_type(resources, type_token) if r.known("bucket") == bucket]


@CATALOGUE.stack(
    "uploader-covers-runtime",
    "The uploader's policy grants what the runtime package does.",
    MANDATORY,
)
def check_uploader_covers_runtime(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """The uploader's policy grants every action the runtime package performs, on the bucket."""
    mine = [r for r in _of_type(resources, IAM_POLICY) if r.known("name") == ctx.uploader_policy]
    if not mine:
        yield Finding(
            f"no IamPolicy named {ctx.uploader_policy!r} (the uploader's) exists.",
            "create the uploader policy from policies/voice-ai-uploader.json.",
        )
        return
    for resource in mine:
        grants = {
            (action, arn)
            for statement in allows(readable_document(resource))
            for action in statement.actions
            for arn in statement.resources
        }
        for action, needed in sorted(uploader_grants(ctx.bucket)):
            if (action, needed) not in grants:
                yield Finding(
                    f"does not grant {action!r} on {needed}, which the uploader needs.",
                    f"grant {action!r} on {needed} (see voice_recordings.permissions).",
                    resource,
                )


@CATALOGUE.stack(
    "versioning-enabled",
    "The recordings bucket has versioning enabled.",
    MANDATORY,
)
def check_versioning_enabled(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """The bucket keeps versions, so an overwrite or a delete can be undone."""
    found = _for_bucket(resources, VERSIONING, ctx.bucket)
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


def _expiry_days(rule: Mapping[str, Any]) -> int | None:
    return Rule.from_input(rule).expiry_days


def _lifecycle_rules(resources: Sequence[Resource], ctx: StackContext) -> list[Mapping[str, Any]]:
    rules: list[Mapping[str, Any]] = []
    for resource in _for_bucket(resources, LIFECYCLE, ctx.bucket):
        rules.extend(r for r in _as_list(resource.known("rules")) if isinstance(r, Mapping))
    # No rule carries a status: the provider refuses one (computed-only) and writes "Enabled"
    # itself (infra/provider_contract.py), so every rule of the render is an enabled rule; a
    # preview's unknown status never reaches here (analyzer.inputs_of leaves it out).
    return rules


def _rules_for_kind(rules: list[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [r for r in rules if (r.get("tags") or {}).get(KIND_TAG_KEY) == kind]


def effective_rules(resources: Sequence[Resource], ctx: StackContext) -> list[Rule]:
    """The lifecycle MinIO applies to the bucket: the last IlmPolicy's rules (each one writes
    the whole configuration; lifecycle-one-policy reports a second one)."""
    policies = _for_bucket(resources, LIFECYCLE, ctx.bucket)
    if not policies:
        return []
    raw = _as_list(policies[-1].known("rules"))
    return [Rule.from_input(r) for r in raw if isinstance(r, Mapping)]


def _wanted(stored: StoredObject, ctx: StackContext) -> int | None:
    """The retention of ``stored``: its company's own, else the stack's for its kind."""
    own = ctx.company_retention.get(stored.company) if stored.exact else None
    return (own or {}).get(stored.kind) or ctx.retention_days.get(stored.kind)


def _objects_of(kind: str, stored: Sequence[StoredObject], of_kind: int) -> str:
    """``objects tagged kind=voice`` (every company) or ``... of company 42, ...`` (some)."""
    what = f"objects tagged {KIND_TAG_KEY}={kind}"
    if len(stored) == of_kind:
        return what
    names = [s.describe() for s in stored]
    more = f" and {len(names) - 3} more classes of ids" if len(names) > 3 else ""
    return f"{what} of {', '.join(names[:3])}{more}"


def _by_kind(effects: Mapping[str, Effect]) -> dict[str, list[Effect]]:
    grouped: dict[str, list[Effect]] = {kind: [] for kind in KINDS}
    for result in effects.values():
        if result.stored.kind:
            grouped[result.stored.kind].append(result)
    return grouped


def _effects(
    resources: Sequence[Resource], ctx: StackContext
) -> tuple[list[Rule], dict[str, Effect]]:
    rules = effective_rules(resources, ctx)
    return rules, effect(rules, ctx.company_retention)


@CATALOGUE.stack(
    "lifecycle-per-kind",
    "The lifecycle expires every recording and every transcript of every company at its retention.",
    MANDATORY,
)
def check_lifecycle_per_kind(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """The effective lifecycle expires every object of both kinds, of every company: a rule
    whose filter matches every object the uploader tags with the kind (MinIO matches only objects
    holding all of a rule's tags, so an extra tag or a prefix makes a rule expire some or none of
    them), and none lives past its retention (the stack's, or its company's own)."""
    rules, effects = _effects(resources, ctx)
    for kind, results in _by_kind(effects).items():
        never = [r.stored for r in results if not r.expired_whole]
        if never:
            why = why_unmatched(rules, never[0])
            whom = _objects_of(kind, never, len(results))
            yield Finding(
                f"no enabled lifecycle rule expires every one of the {whom}"
                + (f": {why}." if why else "."),
                f"add an IlmPolicy rule with exactly the tags {{'{KIND_TAG_KEY}': '{kind}'}} "
                "and expiration '<N>d' for them (no filter, when every company has the stack's "
                "retention).",
            )
        late: dict[tuple[str, int, int], list[StoredObject]] = {}
        for result in results:
            latest, wanted = result.latest, _wanted(result.stored, ctx)
            if latest is not None and wanted is not None and latest[1] > wanted:
                late.setdefault((*latest, wanted), []).append(result.stored)
        for (rule_id, days, wanted), stored in sorted(late.items()):
            whom = _objects_of(kind, stored, len(results))
            yield Finding(
                f"the {whom} live {days} days (rule {rule_id!r}), "
                f"past their retention of {wanted} days.",
                f"give rule {rule_id!r} the retention, or a rule of {wanted} days for them.",
            )


@CATALOGUE.stack(
    "lifecycle-no-early-expiry",
    "No lifecycle rule expires a recording or transcript before its retention, or an untagged "
    "object at all.",
    MANDATORY,
)
def check_lifecycle_no_early_expiry(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """The union of the rules, per kind of stored object and class of company: nothing expires
    a kind sooner than its retention (the stack's, or the company's own: the earliest matching
    rule wins, so a default rule must not match a company with a longer retention), nothing
    expires on a fixed date, and untagged objects (old recordings not yet tagged, anything outside
    the layout) are never expired: a bucket-wide rule may only remove expired delete markers."""
    _, effects = _effects(resources, ctx)
    for kind, results in _by_kind(effects).items():
        early: dict[tuple[str, int, int], list[StoredObject]] = {}
        dated: dict[tuple[str, str], list[StoredObject]] = {}
        for result in results:
            earliest, wanted = result.earliest, _wanted(result.stored, ctx)
            if earliest is not None and wanted is not None and earliest[1] < wanted:
                early.setdefault((*earliest, wanted), []).append(result.stored)
            for rule_id, date in result.dated:
                dated.setdefault((rule_id, date), []).append(result.stored)
        for (rule_id, days, wanted), stored in sorted(early.items()):
            yield Finding(
                f"rule {rule_id!r} expires {_objects_of(kind, stored, len(results))} after {days} "
                f"days, before their retention of {wanted} days (MinIO applies the earliest "
                "matching rule).",
                f"narrow rule {rule_id!r} to other objects (tags, or prefixes that leave those "
                "companies out), or give it the retention.",
            )
        for (rule_id, date), stored in sorted(dated.items()):
            whom = _objects_of(kind, stored, len(results))
            yield Finding(
                f"rule {rule_id!r} expires every one of the {whom} on {date}, whatever its age.",
                f"expire by age ('<N>d'), not on a date, in rule {rule_id!r}.",
            )
    untagged = effects[UNTAGGED]
    for rule_id, days, _ in untagged.expiries:
        yield Finding(
            f"rule {rule_id!r} expires objects without a {KIND_TAG_KEY} tag after {days} days "
            "(it has no tag filter): old recordings not yet tagged, and everything else in the "
            "bucket, would go with it.",
            f"select by tags {{'{KIND_TAG_KEY}': '<kind>'}}, or make it a delete-marker rule "
            "(expiration 'DeleteMarker', nothing else).",
        )
    for rule_id, date in untagged.dated:
        yield Finding(
            f"rule {rule_id!r} expires objects without a {KIND_TAG_KEY} tag on {date}.",
            f"select by tags {{'{KIND_TAG_KEY}': '<kind>'}}.",
        )
    for rule_id, days, _ in untagged.noncurrent:
        yield Finding(
            f"rule {rule_id!r} expires noncurrent versions of objects without a {KIND_TAG_KEY} "
            f"tag after {days} days: an overwritten untagged recording would lose its history.",
            "put noncurrentVersionExpirationDays only on the per-kind rules.",
        )


@CATALOGUE.stack(
    "lifecycle-probe-expires",
    "A lifecycle rule expires `voice-recordings check`'s probe and its old versions.",
    MANDATORY,
)
def check_lifecycle_probe_expires(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """Every ``check`` overwrites its probe, leaving a noncurrent version: without a rule that
    matches the probe (its key and its tag) and expires noncurrent versions, each health check
    adds a version kept for ever. Default rules narrowed to company prefixes (a company with its
    own retention) no longer match it."""
    rules = effective_rules(resources, ctx)
    if not rules:
        return  # no lifecycle at all: lifecycle-per-kind says so
    probe = probe_effect(rules)
    if not any(coverage == "all" for *_, coverage in probe.noncurrent):
        yield Finding(
            f"no enabled lifecycle rule expires the old versions of {PROBE_KEY} (tagged "
            f"{dict(probe.stored.tags)}): every `voice-recordings check` adds one kept for ever.",
            f"add a rule with prefix {PROBE_PREFIX!r}, the tags {dict(probe.stored.tags)}, an "
            "expiration '<N>d' and noncurrentVersionExpirationDays (infra/lifecycle_rules.py).",
        )


@CATALOGUE.stack(
    "lifecycle-one-policy",
    "The bucket has one IlmPolicy (each writes the whole lifecycle; the last applied wins).",
    MANDATORY,
)
def check_lifecycle_one_policy(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """One lifecycle per bucket: a second IlmPolicy would replace the first's rules."""
    policies = _for_bucket(resources, LIFECYCLE, ctx.bucket)
    for extra in policies[1:]:
        yield Finding(
            f"a second IlmPolicy for {ctx.bucket!r} (besides {policies[0].label}): each one "
            "writes the bucket's whole lifecycle, so whichever is applied last wins.",
            "put every rule in one IlmPolicy.",
            extra,
        )


@CATALOGUE.stack(
    "service-account-of-stack-user",
    "Every service account belongs to one of the stack's own users.",
    MANDATORY,
)
def check_service_account_targets(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """A service account belongs to one of the stack's own users (never root or a foreign user):
    a user the config names and the stack holds."""
    users = {r.known("name") for r in _of_type(resources, IAM_USER)} & ctx.stack_users
    for account in _of_type(resources, SERVICE_ACCOUNT):
        target = account.known("targetUser")
        if target not in users:
            yield Finding(
                f"its target user {target!r} is not one of the stack's users "
                f"{sorted(str(u) for u in users)} (the users its config names): its keys would "
                "carry that user's power, which no rule checks.",
                "create service accounts only for the stack's own IamUsers "
                "(target_user=<user>.name).",
                account,
            )


@CATALOGUE.stack(
    "users-named-by-config",
    "The stack creates or imports only the users its config names.",
    MANDATORY,
)
def check_users_named_by_config(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """Every IamUser is one the config names (uploaderUser, readerUser, observerUser): a user
    named like one that already exists on the shared server (OmniPlay's) would have its
    password overwritten by the provider, and keys made for it carry whatever it can do."""
    for user in _of_type(resources, IAM_USER):
        name = user.known("name")
        if name not in ctx.stack_users:
            yield Finding(
                f"user {name!r} is not one the stack's config names "
                f"({', '.join(sorted(ctx.stack_users))}): on a shared server it may be someone "
                "else's, whose secret the provider would overwrite.",
                "create only the users voice-recordings:uploaderUser/readerUser/observerUser/"
                "stewardUser "
                "name; change the config, not the program, to rename one.",
                user,
            )


@CATALOGUE.stack(
    "identities-after-bucket",
    "Every identity resource depends on the bucket.",
    MANDATORY,
)
def check_identities_after_bucket(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """Every identity depends on the bucket, so a failed bucket create stops before them."""
    buckets = {r.name for r in resources if r.type == BUCKET and r.known("bucket") == ctx.bucket}
    if not buckets:
        return  # no bucket to wait for: versioning-enabled and friends report the stack
    for resource in resources:
        if resource.type not in IDENTITY_TYPES or resource.depends_on is None:
            continue
        if not buckets & set(resource.depends_on):
            yield Finding(
                f"does not depend on the bucket {sorted(buckets)}: the engine may apply it while "
                "the bucket create fails (it fails when the bucket exists), and user and policy "
                "creates silently overwrite what the server holds.",
                "add the bucket to its depends_on (RecordingStorage._identity_child).",
                resource,
            )


@CATALOGUE.stack(
    "retention-in-range",
    "Retention is within the recommended range (docs/operating.md); noncurrent versions expire.",
    ADVISORY,
)
def check_retention_range(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """Advisory: retention within the recommended range (docs/operating.md); noncurrent too."""
    rules = _lifecycle_rules(resources, ctx)
    found: dict[str, str] = {}  # problem -> fix, once each: a kind has a rule per company class
    for kind, (low, high) in RECOMMENDED_RETENTION_DAYS.items():
        for rule in _rules_for_kind(rules, kind):
            days = _expiry_days(rule)
            if days is not None and not low <= days <= high:
                found[
                    f"{kind} objects expire after {days} days, outside the recommended "
                    f"{low}..{high}."
                ] = (
                    f"set the {kind} retention between {low} and {high} days, or record why not "
                    "in the pull request."
                )
            if not rule.get("noncurrentVersionExpirationDays"):
                found[
                    f"noncurrent versions of {kind} objects never expire, so deleted calls stay."
                ] = "set noncurrentVersionExpirationDays on the rule."
    for problem, fix in found.items():
        yield Finding(problem, fix)


@CATALOGUE.stack(
    "encryption-configured",
    "The bucket has server-side encryption configured.",
    ADVISORY,
)
def check_encryption(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """Advisory: the bucket has server-side encryption configured."""
    if not _for_bucket(resources, ENCRYPTION, ctx.bucket):
        yield Finding(
            f"no server-side encryption is configured for {ctx.bucket!r}.",
            "set voice-recordings:encryptionKeyId to a key of the MinIO server's KMS (KES).",
        )


RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = tuple(CATALOGUE.resource_rules)
STACK_RULES: Final[tuple[StackRule, ...]] = tuple(CATALOGUE.stack_rules)
# Every rule's name -> its level, in the order the pack serves them.
RULE_LEVELS: Final[dict[str, Level]] = CATALOGUE.levels()
ALL_RULE_NAMES: Final[tuple[str, ...]] = tuple(RULE_LEVELS)


def check_all(
    resources: Sequence[Resource],
    ctx: StackContext,
    stack_resources: Sequence[Resource] | None = None,
) -> list[Violation]:
    """Every violation of every rule, mandatory first (``stack_resources``: what the stack rules
    see, when not ``resources``; see :meth:`model.Catalogue.check_all`)."""
    return CATALOGUE.check_all(resources, ctx, stack_resources)
