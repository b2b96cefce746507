"""The provider contract: what the MinIO provider that really runs accepts, and what it does.

Pulumi mocks accept any argument the Python SDK has; the provider does not. ``pulumi_minio``
0.17.1 bridges **terraform-provider-minio v1.20.1** (pulumi-minio's ``provider/go.mod``), so each
fact below comes from that provider's source at tag v1.20.1 and names the file it comes from
(``minio/<file>.go`` in github.com/aminueza/terraform-provider-minio). Names are Pulumi's wire
names (the render's): the bridge camel-cases Terraform's (``force_destroy`` -> ``forceDestroy``),
turns a one-item block into an object (``versioning_configuration``) and pluralises a list of
blocks (``rule`` -> ``rules``).

:func:`check_render` checks a render (``python -m infra.render``) against the contract: every
input is settable (not computed-only), every required input is present, nested rule fields too,
and the validators that the provider (or MinIO, which it hands the value to) would refuse.
This module never imports pulumi: the program, the tests and the guardrails all read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

from infra import render_format

PROVIDER_REPOSITORY: Final = "github.com/aminueza/terraform-provider-minio"
PROVIDER_VERSION: Final = "v1.20.1"
SDK_VERSION: Final = "pulumi_minio 0.17.1"

Mode = Literal["required", "optional", "computed"]  # computed: computed-only, never an input
Validator = Callable[[Any], "str | None"]  # a problem, or None when the value is accepted


def _in(*allowed: str) -> Validator:
    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {list(allowed)}, got {value!r}"

    return check


def _length(low: int, high: int) -> Validator:
    def check(value: Any) -> str | None:
        if isinstance(value, str) and low <= len(value) <= high:
            return None
        return f"must be a string of {low} to {high} characters, got {value!r}"

    return check


def _pattern(regex: str, what: str) -> Validator:
    compiled = re.compile(regex)

    def check(value: Any) -> str | None:
        return None if isinstance(value, str) and compiled.fullmatch(value) else f"{what}"

    return check


def _policy_name(value: Any) -> str | None:
    # validateIAMNamePolicy: at most 96 characters of [\w+=,.@:-].
    if isinstance(value, str) and len(value) <= 96 and re.fullmatch(r"[\w+=,.@:-]*", value):
        return None
    return f"must be at most 96 letters, digits or _+=,.@:-, got {value!r}"


def _policy_json(value: Any) -> str | None:
    # validateIAMPolicyJSON: a JSON object (the render shows documents parsed, the wire a string).
    if isinstance(value, Mapping) or value == render_format.SECRET_MARKER:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return "must be a JSON policy document"
        return None if isinstance(parsed, dict) else "must be a JSON object"
    return f"must be a JSON policy document, got {value!r}"


_EXPIRATION_DAYS: Final = re.compile(r"([0-9]+)d")
DELETE_MARKER: Final = "DeleteMarker"


def _expiration(value: Any) -> str | None:
    # parseILMExpiration / validateILMExpiration: "<N>d", a date "YYYY-MM-DD", or "DeleteMarker".
    # The provider accepts "0d" or "-1d" at plan time; MinIO refuses them at apply
    # (internal/bucket/lifecycle/expiration.go: "Days must be positive integer"), so do we.
    text = str(value)
    if text == DELETE_MARKER:
        return None
    days = _EXPIRATION_DAYS.fullmatch(text)
    if days and int(days[1]) >= 1:
        return None
    problem = f'must be "<N>d" with N >= 1, a date (1970-01-01) or "DeleteMarker", got {value!r}'
    # Go's time.Parse("2006-01-02"): exactly this form (fromisoformat alone takes 20260115 too).
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return problem
    try:
        date.fromisoformat(text)
    except ValueError:
        return problem
    return None


def _at_least_one(value: Any) -> str | None:
    # validateILMNoncurrentVersionExpiration: "must be strictly positive".
    return None if isinstance(value, int) and value >= 1 else f"must be >= 1, got {value!r}"


def _boolean_config(value: Any) -> str | None:
    # Provider config travels as strings on the wire ("true"), resources' bools as bools.
    return None if value in (True, False, "true", "false") else f"must be a boolean, got {value!r}"


@dataclass(frozen=True)
class Attribute:
    """One attribute of a provider resource (or of the provider's own configuration)."""

    mode: Mode
    tf_name: str
    validate: Validator | None = None
    env: str | None = None  # the provider fills it from this variable when the program does not
    # The schema's Default: Check fills it in when the program leaves the input unset.
    default: Any = None
    sensitive: bool = False  # Sensitive: the value is a secret in the state and in every output
    # DiffSuppressFunc suppressEquivalentAwsPolicyDiffs: two JSON policy documents that mean the
    # same thing (key order, a one-item list or its item) do not differ.
    policy_document: bool = False
    # A list of blocks (``rules``) or a one-item block (``versioningConfiguration``): its fields.
    block: Mapping[str, Attribute] | None = None
    block_list: bool = False
    # ForceNew: a change of it replaces the resource (the bridge's Diff: a replace, not an update).
    force_new: bool = False


@dataclass(frozen=True)
class ResourceContract:
    """What the provider accepts for one resource type, and what its CRUD does on the server."""

    type: str  # Pulumi type token
    tf_name: str
    source: str  # the provider file the facts come from (minio/<file>.go at v1.20.1)
    attributes: Mapping[str, Attribute]
    # What Create does when the object already exists on the server.
    on_existing: Literal["fails", "overwrites", "always-new", "puts"]
    # Inputs Read cannot read back, or reads back as something else: the program must ignore
    # changes to them, or every `pulumi up` plans an update (and a refresh reports drift).
    not_read_back: tuple[str, ...] = ()
    # What Delete does to the bucket (a rename or reparent is create-new then delete-old).
    delete_effect: str = ""
    notes: tuple[str, ...] = field(default=())


def _req(tf: str, **kw: Any) -> Attribute:
    return Attribute("required", tf, **kw)


def _opt(tf: str, **kw: Any) -> Attribute:
    return Attribute("optional", tf, **kw)


def _computed(tf: str, **kw: Any) -> Attribute:
    return Attribute("computed", tf, **kw)


PROVIDER_TYPE: Final = render_format.PROVIDER
BUCKET_TYPE: Final = render_format.BUCKET
VERSIONING_TYPE: Final = render_format.VERSIONING
ENCRYPTION_TYPE: Final = render_format.ENCRYPTION
LIFECYCLE_TYPE: Final = render_format.LIFECYCLE
BUCKET_POLICY_TYPE: Final = render_format.BUCKET_POLICY
IAM_POLICY_TYPE: Final = render_format.IAM_POLICY
IAM_USER_TYPE: Final = render_format.IAM_USER
ATTACHMENT_TYPE: Final = render_format.ATTACHMENT
SERVICE_ACCOUNT_TYPE: Final = render_format.SERVICE_ACCOUNT

_USER_NAME: Final = _pattern(
    r"[0-9A-Za-z=,.@\-_+]+",  # StaticUserNamePattern (or an LDAP DN, which we never use)
    "must be letters, digits or =,.@-_+ (resource_minio_iam_user.go StaticUserNamePattern)",
)

CONTRACTS: Final[Mapping[str, ResourceContract]] = {
    c.type: c
    for c in (
        ResourceContract(
            PROVIDER_TYPE,
            "provider",
            "minio/provider.go, minio/check_config.go, minio/new_client.go",
            {
                "minioServer": _req("minio_server", env="MINIO_ENDPOINT"),
                "minioRegion": _opt("minio_region"),  # Default "us-east-1"
                "minioUser": _opt("minio_user", env="MINIO_USER"),
                "minioPassword": _opt("minio_password", env="MINIO_PASSWORD"),
                # Deprecated; read only when minio_user / minio_password are empty (NewConfig).
                "minioAccessKey": _opt("minio_access_key", env="MINIO_ACCESS_KEY"),
                "minioSecretKey": _opt("minio_secret_key", env="MINIO_SECRET_KEY"),
                "minioSessionToken": _opt("minio_session_token", env="MINIO_SESSION_TOKEN"),
                "minioApiVersion": _opt("minio_api_version", validate=_in("v2", "v4")),
                "minioSsl": _opt("minio_ssl", env="MINIO_ENABLE_HTTPS", validate=_boolean_config),
                # true sets tls.Config.InsecureSkipVerify (new_client.go customTransport).
                "minioInsecure": _opt(
                    "minio_insecure", env="MINIO_INSECURE", validate=_boolean_config
                ),
                # A PEM file read on the deploying machine, added to the system roots.
                "minioCacertFile": _opt("minio_cacert_file", env="MINIO_CACERT_FILE"),
                "minioCertFile": _opt("minio_cert_file", env="MINIO_CERT_FILE"),
                "minioKeyFile": _opt("minio_key_file", env="MINIO_KEY_FILE"),
            },
            on_existing="puts",
            notes=(
                "Every attribute with an env variable is filled from it when the program leaves "
                "it unset (schema.MultiEnvDefaultFunc), for an explicit provider too.",
            ),
        ),
        ResourceContract(
            BUCKET_TYPE,
            "minio_s3_bucket",
            "minio/resource_minio_s3_bucket.go",
            {
                "bucket": _opt("bucket", validate=_length(0, 63), force_new=True),
                "bucketPrefix": _opt("bucket_prefix", force_new=True),
                "forceDestroy": _opt("force_destroy", default=False),
                # Checked at apply (minioSetBucketACL), not at plan.
                "acl": _opt(
                    "acl",
                    default="private",
                    validate=_in(
                        "private", "public-write", "public-read", "public-read-write", "public"
                    ),
                ),
                "quota": _opt("quota"),
                "objectLocking": _opt("object_locking", default=False),
                "arn": _computed("arn"),
                "bucketDomainName": _computed("bucket_domain_name"),
            },
            on_existing="fails",  # minioCreateBucket: "[FATAL] bucket already exists! (<name>)"
            delete_effect="deletes the bucket (refused while it holds objects, unless "
            "force_destroy)",
        ),
        ResourceContract(
            VERSIONING_TYPE,
            "minio_s3_bucket_versioning",
            "minio/resource_minio_s3_bucket_versioning.go",
            {
                "bucket": _req("bucket", force_new=True),
                "versioningConfiguration": _req(
                    "versioning_configuration",
                    block={
                        "status": _req("status", validate=_in("Enabled", "Suspended")),
                        "excludedPrefixes": _opt("excluded_prefixes"),
                        "excludeFolders": _opt("exclude_folders"),
                    },
                ),
            },
            on_existing="puts",
            delete_effect="suspends versioning on the bucket (minioDeleteBucketVersioning)",
        ),
        ResourceContract(
            ENCRYPTION_TYPE,
            "minio_s3_bucket_server_side_encryption",
            "minio/resource_minio_s3_bucket_server_side_encryption_configuration.go",
            {
                "bucket": _req("bucket", force_new=True),
                "encryptionType": _req("encryption_type", validate=_in("aws:kms")),
                "kmsKeyId": _req("kms_key_id"),
            },
            on_existing="puts",
            delete_effect="removes the bucket's default encryption",
        ),
        ResourceContract(
            LIFECYCLE_TYPE,
            "minio_ilm_policy",
            "minio/resource_minio_ilm_policy.go",
            {
                "bucket": _req("bucket", validate=_length(0, 63), force_new=True),
                "rules": _req(
                    "rule",
                    block_list=True,
                    block={
                        "id": _req("id"),
                        "expiration": _opt("expiration", validate=_expiration),
                        "noncurrentVersionExpirationDays": _opt(
                            "noncurrent_version_expiration_days", validate=_at_least_one
                        ),
                        # Computed-only: Create always writes "Enabled"; a value fails Check.
                        "status": _computed("status"),
                        "filter": _opt("filter"),  # a key prefix
                        "tags": _opt("tags"),
                    },
                ),
            },
            on_existing="puts",
            delete_effect="removes the bucket's whole lifecycle configuration "
            "(minioDeleteILMPolicy sets an empty one)",
            notes=(
                "A rule with tags is sent as Filter.And{Prefix: filter, Tags} (without tags, "
                "Filter.Prefix); Read takes And.Prefix back as filter when the rule has tags "
                "(minioCreateILMPolicy, minioReadILMPolicy). MinIO matches And as the key "
                "starting with the prefix and the object holding every tag (internal/bucket/"
                "lifecycle/and.go, filter.go), so a prefix narrows a tag rule to some companies.",
                "Update ignores the error of the put it makes (minioUpdateILMPolicy discards "
                "minioCreateILMPolicy's diagnostics): a rule MinIO refuses on update is not "
                "reported by `pulumi up`; only the next refresh shows the old rules.",
            ),
        ),
        ResourceContract(
            BUCKET_POLICY_TYPE,
            "minio_s3_bucket_policy",
            "minio/resource_minio_s3_bucket_policy.go",
            {
                "bucket": _req("bucket", force_new=True),
                "policy": _req("policy", validate=_policy_json, policy_document=True),
            },
            on_existing="puts",
            delete_effect="removes the bucket policy",
        ),
        ResourceContract(
            IAM_POLICY_TYPE,
            "minio_iam_policy",
            "minio/resource_minio_iam_policy.go",
            {
                "policy": _req("policy", validate=_policy_json, policy_document=True),
                "name": _opt("name", validate=_policy_name, force_new=True),
                "namePrefix": _opt("name_prefix", validate=_policy_name, force_new=True),
            },
            on_existing="overwrites",  # AddCannedPolicy replaces a policy of the same name
            delete_effect="removes the canned policy",
        ),
        ResourceContract(
            IAM_USER_TYPE,
            "minio_iam_user",
            "minio/resource_minio_iam_user.go",
            {
                # Required in Terraform; optional here: the bridge's autonaming (SetAutonaming,
                # pulumi-minio resources.go) names an unset one "<logical name>-<random>", and a
                # replacement of a set one is delete-before-create (the names would clash).
                "name": _opt("name", validate=_USER_NAME, force_new=True),
                "forceDestroy": _opt("force_destroy", default=False),
                "disableUser": _opt("disable_user", default=False),
                "updateSecret": _opt("update_secret", default=False),
                # Generated when unset (generateSecretAccessKey).
                "secret": _opt("secret", sensitive=True),
                "tags": _opt("tags"),
                "status": _computed("status"),
            },
            # AddUser on an existing name replaces its secret and enables it.
            on_existing="overwrites",
            delete_effect="removes the user (and its service accounts, on the server)",
        ),
        ResourceContract(
            ATTACHMENT_TYPE,
            "minio_iam_user_policy_attachment",
            "minio/resource_minio_iam_user_policy_attachment.go",
            {
                "policyName": _req("policy_name", validate=_policy_name, force_new=True),
                "userName": _req("user_name", validate=_USER_NAME, force_new=True),
            },
            on_existing="puts",  # adds the policy to the user's list if missing
            delete_effect="detaches the policy from the user",
        ),
        ResourceContract(
            SERVICE_ACCOUNT_TYPE,
            "minio_iam_service_account",
            "minio/resource_minio_service_account.go",
            {
                "targetUser": _req("target_user", force_new=True),
                "disableUser": _opt("disable_user", default=False),
                "updateSecret": _opt("update_secret", default=False),
                "policy": _opt("policy", validate=_policy_json, policy_document=True),
                "status": _computed("status"),
                "secretKey": _computed("secret_key", sensitive=True),
                "accessKey": _computed("access_key"),
            },
            on_existing="always-new",  # AddServiceAccount: a new access key every Create
            # Read sets policy from InfoServiceAccount, which for an account without its own
            # policy is the parent's; secret_key is never read back (only Create sets it).
            not_read_back=("policy", "secretKey"),
            delete_effect="deletes the access key",
        ),
    )
}

# What a lifecycle rule may hold, by kind of rule: MinIO refuses the rest
# (internal/bucket/lifecycle/rule.go, expiration.go, and.go in github.com/minio/minio).
RULE_ID_MAX: Final = 255
# Lifecycle.Validate (internal/bucket/lifecycle/lifecycle.go): "Lifecycle configuration allows a
# maximum of 1000 rules"; the whole put is refused.
LIFECYCLE_MAX_RULES: Final = 1000


def _block_problems(
    where: str, value: Any, block: Mapping[str, Attribute], as_list: bool
) -> Iterator[str]:
    items = value if as_list else [value]
    if not isinstance(items, list) or (as_list and not items):
        yield f"{where} must be a non-empty list of blocks, got {value!r}"
        return
    for index, item in enumerate(items):
        at = f"{where}[{index}]" if as_list else where
        if not isinstance(item, Mapping):
            yield f"{at} must be a block (object), got {item!r}"
            continue
        yield from _attribute_problems(at, item, block)


def _attribute_problems(
    where: str, inputs: Mapping[str, Any], attributes: Mapping[str, Attribute]
) -> Iterator[str]:
    for name in sorted(inputs):
        attribute = attributes.get(name)
        value = inputs[name]
        if attribute is None:
            yield f"{where}.{name} is not an attribute of the provider's schema"
            continue
        if attribute.mode == "computed":
            yield (
                f"{where}.{name} is computed-only ({attribute.tf_name}): the provider refuses "
                "a value for it at Check; remove it"
            )
            continue
        if attribute.block is not None:
            yield from _block_problems(
                f"{where}.{name}", value, attribute.block, attribute.block_list
            )
            continue
        if attribute.validate is not None and value != render_format.SECRET_MARKER:
            problem = attribute.validate(value)
            if problem:
                yield f"{where}.{name} {problem}"
    for name, attribute in sorted(attributes.items()):
        if attribute.mode == "required" and name not in inputs:
            yield f"{where}.{name} ({attribute.tf_name}) is required by the provider and missing"


def _lifecycle_problems(where: str, rules: Sequence[Any]) -> Iterator[str]:
    """What MinIO refuses in a lifecycle the provider would send (the whole put fails)."""
    ids = [r.get("id") for r in rules if isinstance(r, Mapping)]
    if len(rules) > LIFECYCLE_MAX_RULES:
        yield f"{where}.rules: {len(rules)} rules, more than MinIO's {LIFECYCLE_MAX_RULES}"
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        yield f"{where}.rules: the id {duplicate!r} appears twice (MinIO: duplicate rule ID)"
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        at = f"{where}.rules[{index}]"
        if len(str(rule.get("id", ""))) > RULE_ID_MAX:
            yield f"{at}.id is longer than {RULE_ID_MAX} characters (MinIO refuses it)"
        if rule.get("expiration") == DELETE_MARKER and rule.get("tags"):
            # MinIO evaluates tag filters against the object's tags; a delete marker has none,
            # so such a rule can never remove one (internal/bucket/lifecycle/filter.go TestTags).
            yield f"{at}: an ExpiredObjectDeleteMarker rule with tags never matches a delete marker"
        if not rule.get("expiration") and not rule.get("noncurrentVersionExpirationDays"):
            yield f"{at} has no action (no expiration, no noncurrent expiration): MinIO refuses it"


def resource_problems(type_token: str, name: str, inputs: Mapping[str, Any]) -> list[str]:
    """Every way ``inputs`` of resource ``name`` break the contract of ``type_token``."""
    contract = CONTRACTS.get(type_token)
    where = f"{type_token.rsplit(':', 1)[-1]} '{name}'"
    if contract is None:
        if type_token.startswith("minio:"):
            return [f"{where}: no provider contract for {type_token}; add it from the source"]
        return []  # not a MinIO resource (the component, pulumi-random)
    found = list(_attribute_problems(where, inputs, contract.attributes))
    if type_token == LIFECYCLE_TYPE and isinstance(inputs.get("rules"), list):
        found.extend(_lifecycle_problems(where, inputs["rules"]))
    return found


def check_render(document: Mapping[str, Any]) -> list[str]:
    """Every contract violation of a render (``python -m infra.render``'s JSON): [] when clean."""
    found: list[str] = []
    for resource in document.get("resources", []):
        found.extend(resource_problems(resource["type"], resource["name"], resource["inputs"]))
    return found


def env_variables() -> dict[str, str]:
    """Provider attribute (wire name) -> the environment variable the provider reads for it."""
    provider = CONTRACTS[PROVIDER_TYPE].attributes
    return {name: a.env for name, a in provider.items() if a.env is not None}


def force_new_inputs(type_token: str) -> frozenset[str]:
    """The inputs of ``type_token`` whose change replaces the resource (empty when unknown)."""
    contract = CONTRACTS.get(type_token)
    if contract is None:
        return frozenset()
    return frozenset(name for name, a in contract.attributes.items() if a.force_new)


def ignored_changes(type_token: str) -> list[str]:
    """The inputs of ``type_token`` the program must put in ``ignore_changes``."""
    contract = CONTRACTS.get(type_token)
    return list(contract.not_read_back) if contract else []


def check_defaults(type_token: str) -> dict[str, Any]:
    """The schema defaults the bridge's Check fills into an unset input of ``type_token``.

    Only defaults that are not falsy: pulumi-terraform-bridge v3.135.0 leaves out a freshly
    synthesised ``false``, ``0`` or ``""`` Terraform default (``pkg/tfbridge/schema.go``,
    ``applyDefaults``, pulumi-terraform-bridge#2618), so ``objectLocking``, ``disableUser`` and
    ``updateSecret`` reach the analyzer only when the program sets them.
    """
    contract = CONTRACTS.get(type_token)
    attributes = contract.attributes if contract else {}
    return {name: a.default for name, a in attributes.items() if a.default}
