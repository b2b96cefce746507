"""The guardrails, written once: plain functions over (type token, name, inputs, options).

Two runners call them: the CrossGuard policy pack inside ``pulumi preview`` (``pack.py``) and the
offline checker over the committed renders (``offline.py``). This module never imports pulumi or
pulumi_policy, so the offline runner works where the engine does not.

Inputs use Pulumi's wire names (``forceDestroy``, ``versioningConfiguration``). A secret value is
the string ``"[secret]"`` (the render masks secrets so, and the pack masks them the same way before
any rule sees them); a value that ``pulumi preview`` cannot know yet is :data:`UNKNOWN`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

from infra.provider_contract import CONTRACTS
from voice_recordings.keys import KIND_TAG_KEY, KINDS
from voice_recordings.permissions import (
    ANONYMOUS_ACTIONS,
    BUCKET_ACTIONS,
    READER_ACTIONS,
    UPLOADER_ACTIONS,
    bucket_arn,
    objects_arn,
)
from voice_recordings.settings import DEFAULT_BUCKET

Level = Literal["mandatory", "advisory"]
MANDATORY: Final[Level] = "mandatory"
ADVISORY: Final[Level] = "advisory"

SECRET_MARKER: Final = "[secret]"
CONFIG_NAMESPACE: Final = "voice-recordings"
ACK_PUBLIC_KEY: Final = f"{CONFIG_NAMESPACE}:acknowledgePublicRecordings"

# The retention the README recommends, per kind (days): long enough to handle a complaint about a
# call, short enough that personal data does not pile up for ever (5 years at most).
RECOMMENDED_RETENTION_DAYS: Final[Mapping[str, tuple[int, int]]] = {
    kind: (30, 1825) for kind in KINDS
}

# Pulumi type tokens (pulumi_minio 0.17).
PROVIDER: Final = "pulumi:providers:minio"
BUCKET: Final = "minio:index/s3Bucket:S3Bucket"
VERSIONING: Final = "minio:index/s3BucketVersioning:S3BucketVersioning"
LIFECYCLE: Final = "minio:index/ilmPolicy:IlmPolicy"
IAM_POLICY: Final = "minio:index/iamPolicy:IamPolicy"
IAM_GROUP_POLICY: Final = "minio:index/iamGroupPolicy:IamGroupPolicy"
IAM_USER: Final = "minio:index/iamUser:IamUser"
ATTACHMENT: Final = "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"
SERVICE_ACCOUNT: Final = "minio:index/iamServiceAccount:IamServiceAccount"
BUCKET_POLICY: Final = "minio:index/s3BucketPolicy:S3BucketPolicy"
ENCRYPTION: Final = "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption"

# Resources whose "policy" input is an identity's IAM document (the bucket policy is separate).
IDENTITY_POLICY_TYPES: Final = frozenset({IAM_POLICY, IAM_GROUP_POLICY, SERVICE_ACCOUNT})
POLICY_DOCUMENT_TYPES: Final = IDENTITY_POLICY_TYPES | {BUCKET_POLICY}

# Input names that hold credentials (minioPassword, secret, secretKey, minioSessionToken ...).
_SECRET_INPUT_RE: Final = re.compile(r"password|secret|token", re.IGNORECASE)
_EXPIRATION_RE: Final = re.compile(r"([0-9]+)d")
# Actions that delete data or administer the bucket/server: never for the uploader or the reader.
_ADMIN_ACTION_RE: Final = re.compile(
    r"^(admin|kms|sts):|^s3:(Create|PutBucket|PutLifecycle|PutReplication|PutEncryption|"
    r"PutObjectLock|PutObjectRetention|PutObjectLegalHold|BypassGovernance|ForceDelete)",
    re.IGNORECASE,
)


class _Unknown:
    """A value ``pulumi preview`` cannot know yet (it depends on a resource not created)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


class UnknownInput(Exception):
    """A rule needs an input that is unknown during preview (the pack reports it as such)."""

    def __init__(self, resource: str, path: str) -> None:
        super().__init__(f"{resource}: {path} can't be known during preview")
        self.resource = resource
        self.path = path


@dataclass(frozen=True)
class Resource:
    """One resource of the desired state, as both runners see it."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    protect: bool = False
    # None when the runner cannot see the option (the analyzer protocol does not carry it).
    retain_on_delete: bool | None = None
    # Logical names of the resources it waits for; None when the runner cannot see them.
    depends_on: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """``S3Bucket 'recordings-bucket'``: how messages name the resource."""
        return f"{self.type.rsplit(':', 1)[-1]} '{self.name}'"

    def known(self, key: str, default: Any = None) -> Any:
        """The input ``key`` (``default`` if absent); UnknownInput if preview can't know it."""
        value = self.inputs.get(key, default)
        _require_known(value, self.label, key)
        return value


def _require_known(value: Any, label: str, path: str) -> None:
    if value is UNKNOWN:
        raise UnknownInput(label, path)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _require_known(item, label, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _require_known(item, label, f"{path}[{index}]")


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(f"{CONFIG_NAMESPACE}:{key}", False)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(f"{CONFIG_NAMESPACE}:{key}")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class StackContext:
    """What the rules need from the stack's config (the render's ``config`` object)."""

    bucket: str = DEFAULT_BUCKET
    public_acknowledged: bool = False
    uploader_policy: str | None = None
    uploader_user: str | None = None
    reader_policy: str | None = None
    reader_user: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StackContext:
        """Read the context from full config keys (``voice-recordings:bucket`` ...)."""
        return cls(
            bucket=_text(config, "bucket") or DEFAULT_BUCKET,
            public_acknowledged=_flag(config, "acknowledgePublicRecordings"),
            uploader_policy=_text(config, "uploaderPolicy"),
            uploader_user=_text(config, "uploaderUser"),
            reader_policy=_text(config, "readerPolicy"),
            reader_user=_text(config, "readerUser"),
        )


class Finding(NamedTuple):
    """One problem a check found and how to fix it."""

    problem: str
    fix: str
    resource: Resource | None = None  # stack rules name the resource at fault, if any


ResourceCheck = Callable[[Resource, StackContext], Iterable[Finding]]
StackCheck = Callable[[Sequence[Resource], StackContext], Iterable[Finding]]


@dataclass(frozen=True)
class ResourceRule:
    """A rule over one resource of the listed types."""

    name: str
    description: str
    level: Level
    types: frozenset[str] | None  # None: every type
    check: ResourceCheck

    def applies_to(self, resource: Resource) -> bool:
        """True when the rule looks at resources of this type."""
        return self.types is None or resource.type in self.types


@dataclass(frozen=True)
class StackRule:
    """A rule over the whole desired state (something must exist, or resources must agree)."""

    name: str
    description: str
    level: Level
    check: StackCheck


@dataclass(frozen=True)
class Violation:
    """A finding of a rule, ready to print or to report to the engine."""

    rule: str
    level: Level
    message: str

    def line(self) -> str:
        """One line: ``MANDATORY bucket-protected: S3Bucket 'x': ... Fix: ...``."""
        return f"{self.level.upper()} {self.rule}: {self.message}"


def message(rule: str, finding: Finding, default: Resource | None = None) -> str:
    """The violation message: names the resource, the rule and the fix."""
    at = finding.resource or default
    where = at.label if at is not None else "stack"
    return f"{where} breaks '{rule}': {finding.problem} Fix: {finding.fix}"


# --- policy documents ----------------------------------------------------------------------------


def policy_document(resource: Resource) -> dict[str, Any] | None:
    """The ``policy`` input as a dict, whether it arrives as a JSON string (preview) or parsed."""
    raw = resource.known("policy")
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{resource.label}: policy is not valid JSON: {exc}") from None
        raw = parsed
    if not isinstance(raw, Mapping):
        raise ValueError(f"{resource.label}: policy must be a JSON object")
    return dict(raw)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@dataclass(frozen=True)
class Statement:
    """One normalized statement: lists everywhere, so checks need no special cases."""

    effect: str
    actions: list[str]
    resources: list[str]
    principals: list[str] | None  # None: no Principal element (identity policy)
    negated: list[str]  # NotAction / NotResource / NotPrincipal, present ones


def statements(document: Mapping[str, Any] | None) -> list[Statement]:
    """The statements of a policy document, normalized."""
    if document is None:
        return []
    found = []
    for raw in _as_list(document.get("Statement")):
        if not isinstance(raw, Mapping):
            continue
        principal = raw.get("Principal")
        principals: list[str] | None = None
        if principal is not None:
            values = principal.values() if isinstance(principal, Mapping) else [principal]
            principals = [str(p) for value in values for p in _as_list(value)]
        found.append(
            Statement(
                effect=str(raw.get("Effect", "")),
                actions=[str(a) for a in _as_list(raw.get("Action"))],
                resources=[str(r) for r in _as_list(raw.get("Resource"))],
                principals=principals,
                negated=[k for k in ("NotAction", "NotResource", "NotPrincipal") if k in raw],
            )
        )
    return found


def _allows(document: Mapping[str, Any] | None) -> list[Statement]:
    return [s for s in statements(document) if s.effect == "Allow"]


def _in_bucket(resource_arn: str, bucket: str) -> bool:
    return resource_arn == bucket_arn(bucket) or resource_arn.startswith(bucket_arn(bucket) + "/")


def _role(resource: Resource, ctx: StackContext) -> tuple[str, tuple[str, ...]]:
    """Whose document this is, and the actions that identity may have."""
    name = resource.known("name") if resource.type != SERVICE_ACCOUNT else None
    user = resource.known("targetUser") if resource.type == SERVICE_ACCOUNT else None
    is_uploader = (name is not None and name == ctx.uploader_policy) or (
        user is not None and user == ctx.uploader_user
    )
    return ("uploader", UPLOADER_ACTIONS) if is_uploader else ("reader", READER_ACTIONS)


# --- resource checks -----------------------------------------------------------------------------


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


def check_bucket_acl_private(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The bucket's canned ACL is private; public access goes only through the bucket policy."""
    acl = resource.known("acl", "private")
    if acl != "private":
        yield Finding(
            f"acl is {acl!r}, which lets anyone read or list the bucket.",
            "set acl='private'; anonymous playback, if ever, goes through the acknowledged "
            "bucket policy (publicRecordings + acknowledgePublicRecordings).",
        )


def _recordings_resource_re(bucket: str) -> re.Pattern[str]:
    # company_* or one company's prefix, then /voice/: never transcripts, never the whole bucket.
    return re.compile(
        rf"arn:aws:s3:::{re.escape(bucket)}/company_(\*|[1-9][0-9]*)/voice/[A-Za-z0-9/_.*-]*"
    )


def _anonymous(principals: list[str] | None) -> bool:
    return principals is not None and "*" in principals


def check_no_anonymous_access(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """No anonymous access unless acknowledged; then anonymous s3:GetObject on recordings only."""
    allows = _allows(policy_document(resource))
    if not allows:
        return
    if not ctx.public_acknowledged:
        yield Finding(
            "the bucket policy grants access, but the stack did not acknowledge public recordings.",
            f"remove the bucket policy (attendants use presigned URLs), or set {ACK_PUBLIC_KEY} "
            "to true in the stack config after the data owner agreed.",
        )
        return
    recordings = _recordings_resource_re(ctx.bucket)
    for statement in allows:
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


def check_public_notice(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Advisory: anonymous access is on (acknowledged), so every recording URL is playable."""
    if ctx.public_acknowledged and any(
        _anonymous(s.principals) for s in _allows(policy_document(resource))
    ):
        yield Finding(
            "anyone who has a recording's URL can play it (acknowledged in the stack config).",
            f"nothing, if intended; to close it, set {ACK_PUBLIC_KEY} and publicRecordings to "
            "false and hand out presigned URLs.",
        )


def check_no_wildcards(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """No wildcard action, no wildcard resource, no NotAction/NotResource in a grant."""
    for statement in _allows(policy_document(resource)):
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


def check_bucket_scope(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Every resource a grant names is the recordings bucket or an object in it."""
    for statement in _allows(policy_document(resource)):
        outside = [r for r in statement.resources if not _in_bucket(r, ctx.bucket)]
        if outside:
            yield Finding(
                f"grants on {outside}, outside the recordings bucket {ctx.bucket!r}.",
                f"limit Resource to {bucket_arn(ctx.bucket)} and {objects_arn(ctx.bucket)}.",
            )


def check_least_privilege(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The uploader and the reader get their listed actions only: no delete, no administration."""
    role, allowed = _role(resource, ctx)
    for statement in _allows(policy_document(resource)):
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


def check_attachment_scope(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """A user gets only this stack's policy for its role (no built-in readwrite/consoleAdmin)."""
    policy, user = resource.known("policyName"), resource.known("userName")
    expected = {ctx.uploader_policy: ctx.uploader_user, ctx.reader_policy: ctx.reader_user}
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


# --- the provider that really runs (infra/provider_contract.py) ------------------------------

# Resources whose Delete damages the retained bucket: versioning suspended, lifecycle removed.
RETAINED_SETTINGS: Final = frozenset({VERSIONING, LIFECYCLE})
# Identity resources: user and policy Create silently overwrite what exists on the server.
IDENTITY_TYPES: Final = frozenset({IAM_USER, IAM_POLICY, ATTACHMENT, SERVICE_ACCOUNT})


def check_settings_retained(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Versioning and lifecycle are retained on delete: their Delete strips the bucket of them."""
    if resource.retain_on_delete is False:
        yield Finding(
            f"retainOnDelete is off, and its Delete {CONTRACTS[resource.type].delete_effect}: a "
            "rename, a new parent (create new, delete old) or `pulumi destroy` would do that to "
            "the retained bucket.",
            "create it with opts=ResourceOptions(retain_on_delete=True); rename or reparent it "
            "only with aliases=[...] naming the deployed resource (README).",
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
            f"{CONFIG_NAMESPACE}:caBundle).",
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


RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = (
    ResourceRule(
        "bucket-protected",
        "The recordings bucket is protected, retained on delete and never force-destroyed.",
        MANDATORY,
        frozenset({BUCKET}),
        check_bucket_protected,
    ),
    ResourceRule(
        "bucket-acl-private",
        "The bucket's ACL is private.",
        MANDATORY,
        frozenset({BUCKET}),
        check_bucket_acl_private,
    ),
    ResourceRule(
        "no-anonymous-access",
        "No anonymous access unless acknowledged; then s3:GetObject on recordings only.",
        MANDATORY,
        frozenset({BUCKET_POLICY}),
        check_no_anonymous_access,
    ),
    ResourceRule(
        "iam-no-wildcards",
        "Policy documents grant no wildcard action and no wildcard resource.",
        MANDATORY,
        POLICY_DOCUMENT_TYPES,
        check_no_wildcards,
    ),
    ResourceRule(
        "iam-bucket-scope",
        "Policy documents grant on the recordings bucket only.",
        MANDATORY,
        POLICY_DOCUMENT_TYPES,
        check_bucket_scope,
    ),
    ResourceRule(
        "iam-least-privilege",
        "The uploader and the reader get their listed actions only (no delete, no admin).",
        MANDATORY,
        IDENTITY_POLICY_TYPES,
        check_least_privilege,
    ),
    ResourceRule(
        "iam-attachment-scope",
        "Each user gets only this stack's policy for its role.",
        MANDATORY,
        frozenset({ATTACHMENT}),
        check_attachment_scope,
    ),
    ResourceRule(
        "secrets-masked",
        "Credential inputs are Pulumi secrets, never plaintext.",
        MANDATORY,
        None,
        check_secrets_masked,
    ),
    ResourceRule(
        "settings-retained",
        "Versioning and lifecycle are retained on delete.",
        MANDATORY,
        RETAINED_SETTINGS,
        check_settings_retained,
    ),
    ResourceRule(
        "provider-verifies-tls",
        "The provider's minio_insecure is explicitly false.",
        MANDATORY,
        frozenset({PROVIDER}),
        check_provider_verifies_tls,
    ),
    ResourceRule(
        "public-recordings-notice",
        "Anonymous playback of recordings is on (acknowledged).",
        ADVISORY,
        frozenset({BUCKET_POLICY}),
        check_public_notice,
    ),
)


# --- stack checks ---------------------------------------------------------------------------------


def _of_type(resources: Sequence[Resource], type_token: str) -> list[Resource]:
    return [r for r in resources if r.type == type_token]


def _for_bucket(resources: Sequence[Resource], type_token: str, bucket: str) -> list[Resource]:
    return [r for r in _of_type(resources, type_token) if r.known("bucket") == bucket]


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
            for statement in _allows(policy_document(resource))
            for action in statement.actions
            for arn in statement.resources
        }
        for action in UPLOADER_ACTIONS:
            needed = bucket_arn(ctx.bucket) if action in BUCKET_ACTIONS else objects_arn(ctx.bucket)
            if (action, needed) not in grants:
                yield Finding(
                    f"does not grant {action!r} on {needed}, which the uploader needs.",
                    f"grant {action!r} on {needed} (see voice_recordings.permissions).",
                    resource,
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
    match = _EXPIRATION_RE.fullmatch(str(rule.get("expiration") or ""))
    return int(match[1]) if match else None


def _lifecycle_rules(resources: Sequence[Resource], ctx: StackContext) -> list[Mapping[str, Any]]:
    rules: list[Mapping[str, Any]] = []
    for resource in _for_bucket(resources, LIFECYCLE, ctx.bucket):
        rules.extend(r for r in _as_list(resource.known("rules")) if isinstance(r, Mapping))
    # No rule carries a status: the provider refuses one (computed-only) and writes "Enabled"
    # itself (infra/provider_contract.py), so every rule of the render is an enabled rule.
    return rules


def _rules_for_kind(rules: list[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [r for r in rules if (r.get("tags") or {}).get(KIND_TAG_KEY) == kind]


def check_lifecycle_per_kind(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """The lifecycle expires both kinds (recordings and transcripts), selected by their tag."""
    rules = _lifecycle_rules(resources, ctx)
    for kind in KINDS:
        if not any(_expiry_days(r) for r in _rules_for_kind(rules, kind)):
            yield Finding(
                f"no enabled lifecycle rule expires objects tagged {KIND_TAG_KEY}={kind}.",
                f"add an IlmPolicy rule with tags {{'{KIND_TAG_KEY}': '{kind}'}} and "
                "expiration '<N>d'.",
            )


def check_retention_range(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """Advisory: retention within the README's range; noncurrent versions expire too."""
    rules = _lifecycle_rules(resources, ctx)
    for kind, (low, high) in RECOMMENDED_RETENTION_DAYS.items():
        for rule in _rules_for_kind(rules, kind):
            days = _expiry_days(rule)
            if days is not None and not low <= days <= high:
                yield Finding(
                    f"{kind} objects expire after {days} days, outside the recommended "
                    f"{low}..{high}.",
                    f"set the {kind} retention between {low} and {high} days, or record why not "
                    "in the pull request.",
                )
            if not rule.get("noncurrentVersionExpirationDays"):
                yield Finding(
                    f"noncurrent versions of {kind} objects never expire, so deleted calls stay.",
                    "set noncurrentVersionExpirationDays on the rule.",
                )


def check_encryption(resources: Sequence[Resource], ctx: StackContext) -> Iterator[Finding]:
    """Advisory: the bucket has server-side encryption configured."""
    if not _for_bucket(resources, ENCRYPTION, ctx.bucket):
        yield Finding(
            f"no server-side encryption is configured for {ctx.bucket!r}.",
            "set voice-recordings:encryptionKeyId to a key of the MinIO server's KMS (KES).",
        )


STACK_RULES: Final[tuple[StackRule, ...]] = (
    StackRule(
        "uploader-covers-runtime",
        "The uploader's policy grants what the runtime package does.",
        MANDATORY,
        check_uploader_covers_runtime,
    ),
    StackRule(
        "versioning-enabled",
        "The recordings bucket has versioning enabled.",
        MANDATORY,
        check_versioning_enabled,
    ),
    StackRule(
        "lifecycle-per-kind",
        "The lifecycle expires recordings and transcripts.",
        MANDATORY,
        check_lifecycle_per_kind,
    ),
    StackRule(
        "identities-after-bucket",
        "Every identity resource depends on the bucket.",
        MANDATORY,
        check_identities_after_bucket,
    ),
    StackRule(
        "retention-in-range",
        "Retention is within the README's recommended range; noncurrent versions expire.",
        ADVISORY,
        check_retention_range,
    ),
    StackRule(
        "encryption-configured",
        "The bucket has server-side encryption configured.",
        ADVISORY,
        check_encryption,
    ),
)

# Every rule's name -> its level, in the order the pack serves them.
RULE_LEVELS: Final[dict[str, Level]] = {
    **{rule.name: rule.level for rule in RESOURCE_RULES},
    **{rule.name: rule.level for rule in STACK_RULES},
}
ALL_RULE_NAMES: Final[tuple[str, ...]] = tuple(RULE_LEVELS)


def run_resource_rule(rule: ResourceRule, resource: Resource, ctx: StackContext) -> list[Violation]:
    """The violations of one resource rule on one resource (none if it does not apply)."""
    if not rule.applies_to(resource):
        return []
    return [
        Violation(rule.name, rule.level, message(rule.name, f, resource))
        for f in rule.check(resource, ctx)
    ]


def run_stack_rule(
    rule: StackRule, resources: Sequence[Resource], ctx: StackContext
) -> list[Violation]:
    """The violations of one stack rule."""
    return [
        Violation(rule.name, rule.level, message(rule.name, f)) for f in rule.check(resources, ctx)
    ]


def check_all(resources: Sequence[Resource], ctx: StackContext) -> list[Violation]:
    """Every violation of every rule, mandatory first."""
    found = [v for rule in STACK_RULES for v in run_stack_rule(rule, resources, ctx)]
    for rule in RESOURCE_RULES:
        for resource in resources:
            found.extend(run_resource_rule(rule, resource, ctx))
    return sorted(found, key=lambda v: v.level != MANDATORY)
