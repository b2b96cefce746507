"""Provision a live S3+IAM endpoint from a stack's render: what `pulumi up` would do, for tests.

Dev-only (the integration tests and ``make demo`` use it). It reads only the render (the dict of
:func:`infra.render.render_stack`, or its JSON file), never ``policies/*.json``: so what the tests
see on the server is exactly what the program asked for, and a change to a policy file reaches the
server only through the program.

One resource of the render is one action on the endpoint, through :data:`HANDLERS` (type token ->
handler). A type without a handler is an error naming the type, and so is an input a handler does
not understand: nothing in the render is skipped silently.

It behaves like the provider (terraform-provider-minio v1.20.1, ``infra/provider_contract.py``)
where that decides what a deploy does to a server that is not empty:

- Check: a render the provider would refuse (``infra.provider_contract.check_render``) fails
  before anything is made.
- Order: each resource after everything in its ``depends_on`` (as the engine orders them), ties
  broken by :data:`APPLY_ORDER` and then render order (:func:`plan`). The first failure stops
  the run, naming the resource; nothing after it is applied.
- ``S3Bucket`` on an existing bucket fails with the provider's own error (``bucket already
  exists!``); ``IamUser`` on an existing user overwrites its secret, and ``IamPolicy`` on an
  existing policy overwrites its document, silently, as the provider does;
  ``IamServiceAccount`` always makes a new key.

How MinIO resources map onto S3+IAM calls (the admin's clients make every call):

- ``S3Bucket`` -> create_bucket; ``S3BucketVersioning`` -> put_bucket_versioning;
  ``IlmPolicy`` -> put_bucket_lifecycle_configuration (:func:`lifecycle_rules` translates MinIO's
  ILM rules); ``S3BucketPolicy`` -> put_bucket_policy;
  ``S3BucketServerSideEncryption`` -> put_bucket_encryption.
- ``IamPolicy`` -> create_policy. A statement of MinIO admin actions (``admin:GetUser`` ...: the
  observer's reads of identities) has no counterpart here, since moto serves no MinIO admin API;
  it is kept aside in :attr:`ProvisionedStack.admin_grants` (policy name -> actions), named, never
  dropped silently. A statement that mixes admin and S3 actions is refused, as MinIO does.
  ``IamUser`` -> create_user (its secret, a locally generated
  password, becomes the user's login profile); ``IamUserPolicyAttachment`` -> attach_user_policy.
- ``IamServiceAccount`` -> create_access_key for the target user: like a MinIO service account,
  an access key inherits exactly the user's policies.
- ``RandomPassword`` -> a password generated here (``secrets``), kept in memory, never printed.
- The provider and the component resource are explicit no-ops: the endpoint is given, and a
  component has nothing on the server.

A resource with ``import`` (the adopting render, ``adoptExisting``) is imported as Pulumi 3.174+
does: the object must exist under the provider's import id (:mod:`infra.adoption`), or the import
fails and nothing after it runs; then it is updated to the render's inputs, except those in its
``ignore_changes`` (:data:`IMPORTERS`). An imported service account's secret is unknown: it is
listed in :attr:`ProvisionedStack.imported_service_accounts`, never in ``service_accounts``.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from devtools.embedded_s3 import Credentials
from infra.adoption import split_attachment_id
from infra.provider_contract import DELETE_MARKER, check_render

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

    from devtools.embedded_s3 import EmbeddedS3

PROVIDER: Final = "pulumi:providers:minio"
COMPONENT: Final = "voice-recordings:index:RecordingStorage"
RANDOM_PASSWORD: Final = "random:index/randomPassword:RandomPassword"
BUCKET: Final = "minio:index/s3Bucket:S3Bucket"
VERSIONING: Final = "minio:index/s3BucketVersioning:S3BucketVersioning"
ENCRYPTION: Final = "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption"
LIFECYCLE: Final = "minio:index/ilmPolicy:IlmPolicy"
BUCKET_POLICY: Final = "minio:index/s3BucketPolicy:S3BucketPolicy"
IAM_POLICY: Final = "minio:index/iamPolicy:IamPolicy"
IAM_USER: Final = "minio:index/iamUser:IamUser"
ATTACHMENT: Final = "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"
SERVICE_ACCOUNT: Final = "minio:index/iamServiceAccount:IamServiceAccount"

# Dependencies first: a bucket before its settings, policies and users before attachments, a
# user before its service account.
APPLY_ORDER: Final[tuple[str, ...]] = (
    PROVIDER,
    COMPONENT,
    RANDOM_PASSWORD,
    BUCKET,
    VERSIONING,
    ENCRYPTION,
    LIFECYCLE,
    BUCKET_POLICY,
    IAM_POLICY,
    IAM_USER,
    ATTACHMENT,
    SERVICE_ACCOUNT,
)
SECRET: Final = "[secret]"  # how the render masks a secret value
ADMIN_PREFIX: Final = "admin:"  # MinIO admin API actions (minio/pkg policy/admin-action.go)
_DAYS_RE: Final = re.compile(r"([1-9][0-9]*)d")


class ProvisionError(ValueError):
    """The render asks for something this provisioner cannot do faithfully (names what)."""


class ApplyError(ProvisionError):
    """Applying one resource failed; nothing after it was applied (like the engine's first error).

    ``resource`` names the failed resource, ``applied`` the ones applied before it, in order.
    """

    def __init__(self, resource: str, cause: str, applied: list[str]) -> None:
        super().__init__(f"{resource} failed: {cause}; applied before it: {applied}")
        self.resource = resource
        self.applied = applied


def bucket_exists_error(bucket: str) -> str:
    """The provider's error when the bucket exists (minioCreateBucket: NewResourceError, nil)."""
    return f"[FATAL] bucket already exists! ({bucket}): <nil>"


@dataclass(frozen=True)
class ProvisionedStack:
    """What :func:`provision` created: the bucket and the keys of each service account."""

    stack: str
    buckets: tuple[str, ...]
    # Service account render name (e.g. "voice-ai-realtime") -> its access key.
    service_accounts: Mapping[str, Credentials]
    # Service account render name -> the user it acts as (e.g. "voice-ai-service").
    service_account_users: Mapping[str, str]
    users: tuple[str, ...]
    policies: tuple[str, ...]
    public_bucket_policy: bool
    resource_counts: Mapping[str, int]  # by type token
    # Policy name -> the MinIO admin actions it grants (not enforceable on the endpoint).
    admin_grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Imported resources by render name -> import id; imported service accounts by render name ->
    # access key (their secret is the console's: unknown to the stack).
    imported: Mapping[str, str] = field(default_factory=dict)
    imported_service_accounts: Mapping[str, str] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        """The stack's one bucket."""
        if len(self.buckets) != 1:
            raise ProvisionError(f"expected one bucket in the render, got {list(self.buckets)}")
        return self.buckets[0]

    def credentials(self, service_account: str) -> Credentials:
        """The keys of the service account named ``service_account`` in the render."""
        if service_account in self.imported_service_accounts:
            raise ProvisionError(
                f"service account {service_account!r} was imported (access key "
                f"{self.imported_service_accounts[service_account]}): its secret is the one the "
                f"service already has, not known to the stack"
            )
        try:
            return self.service_accounts[service_account]
        except KeyError:
            raise ProvisionError(
                f"no service account {service_account!r} in the render; it has "
                f"{sorted(self.service_accounts)}"
            ) from None


@dataclass
class _State:
    """What earlier resources produced, for the later ones (and for the result)."""

    s3: S3Client
    iam: IAMClient
    region: str
    passwords: dict[str, str] = field(default_factory=dict)  # RandomPassword name -> value
    policy_arns: dict[str, str] = field(default_factory=dict)  # policy name -> ARN
    buckets: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    keys: dict[str, Credentials] = field(default_factory=dict)
    key_users: dict[str, str] = field(default_factory=dict)
    public_bucket_policy: bool = False
    admin_grants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    imported: dict[str, str] = field(default_factory=dict)
    imported_keys: dict[str, str] = field(default_factory=dict)


Handler = Callable[[_State, str, Mapping[str, Any]], None]


def _inputs(
    type_: str,
    name: str,
    inputs: Mapping[str, Any],
    required: set[str],
    optional: frozenset[str] = frozenset(),
) -> Mapping[str, Any]:
    """Refuse missing or unknown inputs: an input we would ignore could change what is made."""
    missing = required - set(inputs)
    unknown = set(inputs) - required - optional
    if missing or unknown:
        raise ProvisionError(
            f"{type_} {name!r}: missing inputs {sorted(missing)}, unsupported inputs "
            f"{sorted(unknown)}"
        )
    return inputs


def _plain(type_: str, name: str, key: str, value: Any) -> Any:
    if value == SECRET:
        raise ProvisionError(f"{type_} {name!r}: input {key!r} is a masked secret")
    return value


# -- handlers: one resource, one action ---------------------------------------------------------


def _no_op(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    """The provider (the endpoint is given) and the component (nothing on the server)."""


def _random_password(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(
        RANDOM_PASSWORD,
        name,
        inputs,
        {"length"},
        frozenset({"special", "upper", "lower", "numeric", "number", "overrideSpecial"}),
    )
    alphabet = string.ascii_letters + string.digits
    if spec.get("special", True):
        alphabet += spec.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"
    state.passwords[name] = "".join(secrets.choice(alphabet) for _ in range(int(spec["length"])))


def _bucket(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(BUCKET, name, inputs, {"bucket"}, frozenset({"acl", "forceDestroy"}))
    if spec.get("acl", "private") != "private":
        raise ProvisionError(f"{BUCKET} {name!r}: only acl 'private' is supported")
    bucket = _plain(BUCKET, name, "bucket", spec["bucket"])
    if _bucket_exists(state.s3, bucket):
        # The provider checks BucketExists first and refuses; it never adopts a bucket.
        raise ProvisionError(bucket_exists_error(bucket))
    if state.region == "us-east-1":
        state.s3.create_bucket(Bucket=bucket)
    else:
        state.s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": state.region},  # type: ignore[typeddict-item]
        )
    state.buckets.append(bucket)


def _versioning(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(VERSIONING, name, inputs, {"bucket", "versioningConfiguration"})
    status = spec["versioningConfiguration"].get("status")
    if status not in ("Enabled", "Suspended"):
        raise ProvisionError(f"{VERSIONING} {name!r}: status must be Enabled or Suspended")
    state.s3.put_bucket_versioning(
        Bucket=spec["bucket"], VersioningConfiguration={"Status": status}
    )


def _encryption(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(ENCRYPTION, name, inputs, {"bucket", "encryptionType"}, frozenset({"kmsKeyId"}))
    rule: dict[str, str] = {"SSEAlgorithm": spec["encryptionType"]}
    if spec.get("kmsKeyId"):
        rule["KMSMasterKeyID"] = spec["kmsKeyId"]
    configuration: Any = {"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]}
    state.s3.put_bucket_encryption(
        Bucket=spec["bucket"], ServerSideEncryptionConfiguration=configuration
    )


def _lifecycle(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(LIFECYCLE, name, inputs, {"bucket", "rules"})
    state.s3.put_bucket_lifecycle_configuration(
        Bucket=spec["bucket"],
        LifecycleConfiguration={"Rules": lifecycle_rules(spec["rules"])},  # type: ignore[typeddict-item]
    )


def _bucket_policy(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(BUCKET_POLICY, name, inputs, {"bucket", "policy"})
    policy = _plain(BUCKET_POLICY, name, "policy", spec["policy"])
    state.s3.put_bucket_policy(Bucket=spec["bucket"], Policy=json.dumps(policy))
    state.public_bucket_policy = True


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _split_admin_statements(
    name: str, policy: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The policy without its MinIO admin statements, and the admin actions they allow."""
    kept: list[Any] = []
    admin: list[str] = []
    for statement in _as_list(policy.get("Statement", [])):
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        mine = [a for a in actions if a.startswith(ADMIN_PREFIX)]
        if not mine:
            kept.append(statement)
            continue
        if len(mine) != len(actions) or statement.get("Effect") != "Allow":
            raise ProvisionError(
                f"{IAM_POLICY} {name!r}: a statement mixes MinIO admin actions with others, or "
                f"denies them; MinIO refuses mixed statements and the endpoint has no admin API"
            )
        admin.extend(mine)
    if not kept:
        raise ProvisionError(
            f"{IAM_POLICY} {name!r}: only MinIO admin statements, which the endpoint cannot hold"
        )
    return {**policy, "Statement": kept}, tuple(admin)


def _iam_policy(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(IAM_POLICY, name, inputs, {"name", "policy"})
    plain, admin = _split_admin_statements(name, _plain(IAM_POLICY, name, "policy", spec["policy"]))
    if admin:
        state.admin_grants[spec["name"]] = admin
    policy = json.dumps(plain)
    existing = _local_policy_arn(state.iam, spec["name"])
    if existing is None:
        created = state.iam.create_policy(PolicyName=spec["name"], PolicyDocument=policy)
        state.policy_arns[spec["name"]] = created["Policy"]["Arn"]
        return
    # The provider's AddCannedPolicy replaces a policy of that name, silently: so does this.
    for version in state.iam.list_policy_versions(PolicyArn=existing)["Versions"]:
        if not version["IsDefaultVersion"]:  # IAM keeps at most 5 versions
            state.iam.delete_policy_version(PolicyArn=existing, VersionId=version["VersionId"])
    state.iam.create_policy_version(PolicyArn=existing, PolicyDocument=policy, SetAsDefault=True)
    state.policy_arns[spec["name"]] = existing


def _iam_user(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(
        IAM_USER, name, inputs, {"name"}, frozenset({"secret", "forceDestroy", "disableUser"})
    )
    if spec.get("disableUser"):
        raise ProvisionError(f"{IAM_USER} {name!r}: disabled users are not supported")
    user = spec["name"]
    # The provider's AddUser on an existing name replaces its secret (and enables it), silently.
    exists = _user_exists(state.iam, user)
    if not exists:
        state.iam.create_user(UserName=user)
    if "secret" in spec:
        # The render masks which RandomPassword feeds the secret; the program names it
        # "<user resource>-secret". Either way the value is generated here, never shown.
        password = state.passwords.get(f"{name}-secret") or secrets.token_urlsafe(30)
        if exists and _has_login_profile(state.iam, user):
            state.iam.update_login_profile(UserName=user, Password=password)
        else:
            state.iam.create_login_profile(UserName=user, Password=password)
    state.users.append(user)


def _attachment(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    spec = _inputs(ATTACHMENT, name, inputs, {"userName", "policyName"})
    arn = state.policy_arns.get(spec["policyName"])
    if arn is None:
        raise ProvisionError(
            f"{ATTACHMENT} {name!r}: policy {spec['policyName']!r} is not in the render "
            f"(built-in MinIO policies are not provisioned)"
        )
    state.iam.attach_user_policy(UserName=spec["userName"], PolicyArn=arn)


def _service_account(state: _State, name: str, inputs: Mapping[str, Any]) -> None:
    # A "policy" input would narrow the service account below its user's policies; an IAM
    # access key cannot express that, so it is refused rather than ignored.
    spec = _inputs(SERVICE_ACCOUNT, name, inputs, {"targetUser"}, frozenset({"description"}))
    key = state.iam.create_access_key(UserName=spec["targetUser"])["AccessKey"]
    state.keys[name] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    state.key_users[name] = spec["targetUser"]


def _bucket_exists(s3: S3Client, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def _local_policy_arn(iam: IAMClient, policy: str) -> str | None:
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for found in page["Policies"]:
            if found["PolicyName"] == policy:
                return found["Arn"]
    return None


def _user_exists(iam: IAMClient, user: str) -> bool:
    try:
        iam.get_user(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def _has_login_profile(iam: IAMClient, user: str) -> bool:
    try:
        iam.get_login_profile(UserName=user)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


HANDLERS: Final[dict[str, Handler]] = {
    PROVIDER: _no_op,
    COMPONENT: _no_op,
    RANDOM_PASSWORD: _random_password,
    BUCKET: _bucket,
    VERSIONING: _versioning,
    ENCRYPTION: _encryption,
    LIFECYCLE: _lifecycle,
    BUCKET_POLICY: _bucket_policy,
    IAM_POLICY: _iam_policy,
    IAM_USER: _iam_user,
    ATTACHMENT: _attachment,
    SERVICE_ACCOUNT: _service_account,
}


# -- import: adopt what exists, then update it to the render ------------------------------------

Importer = Callable[[_State, str, str, Mapping[str, Any], frozenset[str]], None]


def _missing(type_: str, name: str, import_id: str, what: str) -> ProvisionError:
    # Pulumi's own words when the provider reads nothing under an import id.
    return ProvisionError(
        f"{type_} {name!r}: import of {import_id!r} failed: resource '{import_id}' does not exist "
        f"({what}); nothing after it was applied"
    )


def _import_bucket(
    state: _State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = _inputs(BUCKET, name, inputs, {"bucket"}, frozenset({"acl", "forceDestroy"}))
    if spec["bucket"] != import_id:
        raise ProvisionError(f"{BUCKET} {name!r}: bucket {spec['bucket']!r} != import id")
    try:
        state.s3.head_bucket(Bucket=import_id)
    except ClientError:
        raise _missing(BUCKET, name, import_id, "no such bucket") from None
    # acl "private" sets no policy (the provider's minioSetBucketACL): nothing to update.
    state.buckets.append(import_id)


def _import_user(
    state: _State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = _inputs(
        IAM_USER, name, inputs, {"name"}, frozenset({"secret", "forceDestroy", "disableUser"})
    )
    if spec["name"] != import_id:
        raise ProvisionError(f"{IAM_USER} {name!r}: name {spec['name']!r} != import id")
    try:
        state.iam.get_user(UserName=import_id)
    except ClientError:
        raise _missing(IAM_USER, name, import_id, "no such user") from None
    if "secret" in spec and "secret" not in ignored:
        # An update would overwrite the password: what the provider does, so do it here too.
        password = state.passwords.get(f"{name}-secret") or secrets.token_urlsafe(30)
        try:
            state.iam.update_login_profile(UserName=import_id, Password=password)
        except ClientError:
            state.iam.create_login_profile(UserName=import_id, Password=password)
    state.users.append(import_id)


def _import_policy(
    state: _State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = _inputs(IAM_POLICY, name, inputs, {"name", "policy"})
    if spec["name"] != import_id:
        raise ProvisionError(f"{IAM_POLICY} {name!r}: name {spec['name']!r} != import id")
    found = [
        p
        for page in state.iam.get_paginator("list_policies").paginate(Scope="Local")
        for p in page["Policies"]
        if p["PolicyName"] == import_id
    ]
    if not found:
        raise _missing(IAM_POLICY, name, import_id, "no such policy")
    arn = found[0]["Arn"]
    if "policy" not in ignored:
        # The provider's update is AddCannedPolicy with the render's document (a new version).
        document = json.dumps(_plain(IAM_POLICY, name, "policy", spec["policy"]))
        for version in state.iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                state.iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        state.iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    state.policy_arns[import_id] = arn


def _import_attachment(
    state: _State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = _inputs(ATTACHMENT, name, inputs, {"userName", "policyName"})
    try:
        user, policy = split_attachment_id(import_id)
    except ValueError as exc:
        raise ProvisionError(f"{ATTACHMENT} {name!r}: {exc}") from None
    if (user, policy) != (spec["userName"], spec["policyName"]):
        raise ProvisionError(f"{ATTACHMENT} {name!r}: inputs differ from import id {import_id!r}")
    try:
        attached = state.iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    except ClientError:
        attached = []
    if policy not in {p["PolicyName"] for p in attached}:
        raise _missing(ATTACHMENT, name, import_id, f"{policy} is not attached to {user}")


def _import_service_account(
    state: _State, name: str, import_id: str, inputs: Mapping[str, Any], ignored: frozenset[str]
) -> None:
    spec = _inputs(SERVICE_ACCOUNT, name, inputs, {"targetUser"}, frozenset({"description"}))
    user = spec["targetUser"]
    try:
        keys = state.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    except ClientError:
        keys = []
    if import_id not in {k["AccessKeyId"] for k in keys}:
        raise _missing(SERVICE_ACCOUNT, name, import_id, f"no service account of {user} has it")
    state.imported_keys[name] = import_id
    state.key_users[name] = user


IMPORTERS: Final[dict[str, Importer]] = {
    BUCKET: _import_bucket,
    IAM_USER: _import_user,
    IAM_POLICY: _import_policy,
    ATTACHMENT: _import_attachment,
    SERVICE_ACCOUNT: _import_service_account,
}


def _apply(state: _State, resource: Mapping[str, Any]) -> None:
    """Create ``resource``, or import it when the render says ``import``."""
    type_, name, inputs = resource["type"], resource["name"], resource.get("inputs") or {}
    import_id = resource.get("import")
    if not import_id:
        HANDLERS[type_](state, name, inputs)
        return
    if type_ not in IMPORTERS:
        raise ProvisionError(f"{type_} {name!r}: importing this type is not supported here")
    IMPORTERS[type_](
        state, name, import_id, inputs, frozenset(resource.get("ignore_changes") or ())
    )
    state.imported[name] = import_id


# -- lifecycle translation ----------------------------------------------------------------------


def _days(rule_id: str, field_name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _DAYS_RE.fullmatch(str(value))
    if match is None:
        raise ProvisionError(f"ILM rule {rule_id!r}: {field_name} must be '<N>d', got {value!r}")
    return int(match[1])


def lifecycle_rules(rules: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """MinIO ILM rules (the ``IlmPolicy`` inputs) as S3 lifecycle rules.

    ``expiration: "30d"`` -> ``Expiration.Days``; ``tags`` -> ``Filter.Tag`` (one tag) or
    ``Filter.And`` (several, or tags with a prefix); ``filter`` (a prefix) -> ``Filter.Prefix``;
    ``noncurrentVersionExpirationDays`` -> ``NoncurrentVersionExpiration.NoncurrentDays``.
    """
    # No "status": the provider refuses one (computed-only) and always writes Enabled.
    known = {"id", "expiration", "tags", "filter", "noncurrentVersionExpirationDays"}
    translated = []
    for rule in rules:
        rule_id = str(rule.get("id", ""))
        unknown = set(rule) - known
        if not rule_id or unknown:
            raise ProvisionError(
                f"ILM rule {rule_id!r}: needs an id; unsupported fields {sorted(unknown)}"
            )
        tags = [{"Key": k, "Value": v} for k, v in sorted((rule.get("tags") or {}).items())]
        prefix = rule.get("filter") or ""
        filter_: dict[str, Any]
        if len(tags) == 1 and not prefix:
            filter_ = {"Tag": tags[0]}
        elif tags:
            filter_ = {"And": {"Tags": tags, **({"Prefix": prefix} if prefix else {})}}
        else:
            filter_ = {"Prefix": prefix}
        out: dict[str, Any] = {
            "ID": rule_id,
            "Status": "Enabled",
            "Filter": filter_,
        }
        if rule.get("expiration") == DELETE_MARKER:
            # The provider's "DeleteMarker": remove a delete marker no version is left behind.
            out["Expiration"] = {"ExpiredObjectDeleteMarker": True}
        elif rule.get("expiration"):
            out["Expiration"] = {"Days": _days(rule_id, "expiration", rule["expiration"])}
        if rule.get("noncurrentVersionExpirationDays"):
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": _days(
                    rule_id,
                    "noncurrentVersionExpirationDays",
                    rule["noncurrentVersionExpirationDays"],
                )
            }
        translated.append(out)
    return translated


# -- entry points -------------------------------------------------------------------------------


def load_render(path: Path | str) -> dict[str, Any]:
    """A render from its JSON file (``policies/rendered/<stack>.json``)."""
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return document


def plan(
    render: Mapping[str, Any], tie_break: Sequence[str] = APPLY_ORDER
) -> list[Mapping[str, Any]]:
    """The render's resources in the order they are applied; an unknown type is an error.

    Each resource comes after every resource its ``depends_on`` names (the engine's order);
    among the ready ones, the type that comes first in ``tie_break`` first, then render order.
    The engine runs ready resources in parallel, in no promised order: tests pass another
    ``tie_break`` to play an order the engine may pick. A ``depends_on`` naming no resource of
    the render, or a cycle, is an error.
    """
    resources: list[Mapping[str, Any]] = list(render["resources"])
    unknown = sorted({r["type"] for r in resources} - set(HANDLERS))
    if unknown:
        raise ProvisionError(
            f"the render has resource types the provisioner does not know: {unknown}; add a "
            f"handler to devtools.provision.HANDLERS"
        )
    rank: dict[str, int] = {}
    for index, type_ in enumerate(tie_break):
        rank.setdefault(type_, index)  # the first mention counts
    names = {r["name"] for r in resources}
    waits: dict[int, set[str]] = {}
    for index, resource in enumerate(resources):
        needs = set(resource.get("depends_on") or [])
        missing = sorted(needs - names)
        if missing:
            raise ProvisionError(
                f"{resource['type']} {resource['name']!r} depends on {missing}, which the render "
                f"does not have"
            )
        waits[index] = needs
    ordered: list[Mapping[str, Any]] = []
    done: set[str] = set()
    pending = list(range(len(resources)))
    while pending:
        ready = [i for i in pending if waits[i] <= done]
        if not ready:
            stuck = sorted(resources[i]["name"] for i in pending)
            raise ProvisionError(f"the render's depends_on has a cycle among {stuck}")
        chosen = min(ready, key=lambda i: (rank.get(resources[i]["type"], len(rank)), i))
        pending.remove(chosen)
        ordered.append(resources[chosen])
        # A name may be shared by resources of different types: done when all of them are.
        if all(r["name"] != resources[chosen]["name"] for r in (resources[i] for i in pending)):
            done.add(resources[chosen]["name"])
    return ordered


def provision(
    render: Mapping[str, Any],
    s3: S3Client,
    iam: IAMClient,
    region: str = "us-east-1",
    tie_break: Sequence[str] = APPLY_ORDER,
) -> ProvisionedStack:
    """Create what ``render`` describes, with the endpoint admin's ``s3`` and ``iam`` clients.

    ``tie_break``: see :func:`plan`. Raises :class:`ApplyError` at the first resource that fails.
    """
    # Like the provider's Check: an input it refuses fails the run before anything is made.
    refused = check_render(render)
    if refused:
        raise ProvisionError(f"the provider would refuse the render: {'; '.join(refused)}")
    state = _State(s3=s3, iam=iam, region=region)
    ordered = plan(render, tie_break)  # checks every type and dependency before anything is made
    applied: list[str] = []
    for resource in ordered:
        label = f"{resource['type'].rsplit(':', 1)[-1]} {resource['name']!r}"
        try:
            _apply(state, resource)
        except (ProvisionError, ClientError) as exc:
            # Like the engine: the first failure ends the run; nothing after it is applied.
            raise ApplyError(label, str(exc), applied) from exc
        applied.append(label)
    return ProvisionedStack(
        stack=str(render.get("stack", "")),
        buckets=tuple(state.buckets),
        service_accounts=dict(state.keys),
        service_account_users=dict(state.key_users),
        users=tuple(state.users),
        policies=tuple(state.policy_arns),
        public_bucket_policy=state.public_bucket_policy,
        admin_grants=dict(state.admin_grants),
        resource_counts=dict(Counter(r["type"] for r in ordered)),
        imported=dict(state.imported),
        imported_service_accounts=dict(state.imported_keys),
    )


def replace(
    render: Mapping[str, Any], name: str, s3: S3Client, iam: IAMClient, region: str = "us-east-1"
) -> ProvisionedStack:
    """``pulumi up --replace <name>`` of an otherwise unchanged stack: create that one resource
    anew from ``render`` (for a service account: new keys for its user). The old one is not
    deleted here: the adopted console account is retained on delete, and removed by hand."""
    chosen = [r for r in render["resources"] if r["name"] == name]
    if len(chosen) != 1:
        raise ProvisionError(
            f"expected one resource named {name!r} in the render, got {len(chosen)}"
        )
    if chosen[0].get("import"):
        raise ProvisionError(
            f"{name!r} still has import {chosen[0]['import']!r}: unset the adoption of it first "
            f"(a replace would import the old one again)"
        )
    # What it depends on is already on the server (the stack is otherwise unchanged).
    alone = [{**chosen[0], "depends_on": []}]
    return provision({**render, "resources": alone}, s3, iam, region)


def provision_embedded(endpoint: EmbeddedS3, render: Mapping[str, Any]) -> ProvisionedStack:
    """:func:`provision` on an :class:`~devtools.embedded_s3.EmbeddedS3`, as its admin."""
    return provision(render, endpoint.s3(), endpoint.iam(), endpoint.region)
