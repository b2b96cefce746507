"""The provider contract: what the MinIO provider that really runs accepts, and what it does.

Pulumi mocks accept any argument the Python SDK has; the provider does not. ``pulumi_minio``
0.17.1 bridges **terraform-provider-minio v1.20.1** (pulumi-minio's ``provider/go.mod``), so each
fact below comes from that provider's source at tag v1.20.1 and names the file it comes from
(``minio/<file>.go`` in github.com/aminueza/terraform-provider-minio). Names are Pulumi's wire
names (the render's): the bridge camel-cases Terraform's (``force_destroy`` -> ``forceDestroy``),
turns a one-item block into an object (``versioning_configuration``) and pluralises a list of
blocks (``rule`` -> ``rules``).

The value rules (validators, MinIO's limits) are in :mod:`infra.provider_values`; checking a
render against the contract is :mod:`infra.contract_check`. This module never imports pulumi:
the program, the tests and the guardrails all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from infra.provider_values import (
    USER_NAME,
    Validator,
    at_least_one,
    boolean_config,
    expiration,
    length,
    one_of,
    policy_json,
    policy_name,
)
from infra.render_format import (
    ATTACHMENT,
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    PROVIDER,
    SERVICE_ACCOUNT,
    VERSIONING,
)

PROVIDER_REPOSITORY: Final = "github.com/aminueza/terraform-provider-minio"
PROVIDER_VERSION: Final = "v1.20.1"
SDK_VERSION: Final = "pulumi_minio 0.17.1"

Mode = Literal["required", "optional", "computed"]  # computed: computed-only, never an input


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


CONTRACTS: Final[Mapping[str, ResourceContract]] = {
    c.type: c
    for c in (
        ResourceContract(
            PROVIDER,
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
                "minioApiVersion": _opt("minio_api_version", validate=one_of("v2", "v4")),
                "minioSsl": _opt("minio_ssl", env="MINIO_ENABLE_HTTPS", validate=boolean_config),
                # true sets tls.Config.InsecureSkipVerify (new_client.go customTransport).
                "minioInsecure": _opt(
                    "minio_insecure", env="MINIO_INSECURE", validate=boolean_config
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
            BUCKET,
            "minio_s3_bucket",
            "minio/resource_minio_s3_bucket.go",
            {
                "bucket": _opt("bucket", validate=length(0, 63), force_new=True),
                "bucketPrefix": _opt("bucket_prefix", force_new=True),
                "forceDestroy": _opt("force_destroy", default=False),
                # Checked at apply (minioSetBucketACL), not at plan.
                "acl": _opt(
                    "acl",
                    default="private",
                    validate=one_of(
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
            VERSIONING,
            "minio_s3_bucket_versioning",
            "minio/resource_minio_s3_bucket_versioning.go",
            {
                "bucket": _req("bucket", force_new=True),
                "versioningConfiguration": _req(
                    "versioning_configuration",
                    block={
                        "status": _req("status", validate=one_of("Enabled", "Suspended")),
                        "excludedPrefixes": _opt("excluded_prefixes"),
                        "excludeFolders": _opt("exclude_folders"),
                    },
                ),
            },
            on_existing="puts",
            delete_effect="suspends versioning on the bucket (minioDeleteBucketVersioning)",
        ),
        ResourceContract(
            ENCRYPTION,
            "minio_s3_bucket_server_side_encryption",
            "minio/resource_minio_s3_bucket_server_side_encryption_configuration.go",
            {
                "bucket": _req("bucket", force_new=True),
                "encryptionType": _req("encryption_type", validate=one_of("aws:kms")),
                "kmsKeyId": _req("kms_key_id"),
            },
            on_existing="puts",
            delete_effect="removes the bucket's default encryption",
        ),
        ResourceContract(
            LIFECYCLE,
            "minio_ilm_policy",
            "minio/resource_minio_ilm_policy.go",
            {
                "bucket": _req("bucket", validate=length(0, 63), force_new=True),
                "rules": _req(
                    "rule",
                    block_list=True,
                    block={
                        "id": _req("id"),
                        "expiration": _opt("expiration", validate=expiration),
                        "noncurrentVersionExpirationDays": _opt(
                            "noncurrent_version_expiration_days", validate=at_least_one
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
            BUCKET_POLICY,
            "minio_s3_bucket_policy",
            "minio/resource_minio_s3_bucket_policy.go",
            {
                "bucket": _req("bucket", force_new=True),
                "policy": _req("policy", validate=policy_json, policy_document=True),
            },
            on_existing="puts",
            delete_effect="removes the bucket policy",
        ),
        ResourceContract(
            IAM_POLICY,
            "minio_iam_policy",
            "minio/resource_minio_iam_policy.go",
            {
                "policy": _req("policy", validate=policy_json, policy_document=True),
                "name": _opt("name", validate=policy_name, force_new=True),
                "namePrefix": _opt("name_prefix", validate=policy_name, force_new=True),
            },
            on_existing="overwrites",  # AddCannedPolicy replaces a policy of the same name
            delete_effect="removes the canned policy",
        ),
        ResourceContract(
            IAM_USER,
            "minio_iam_user",
            "minio/resource_minio_iam_user.go",
            {
                # Required in Terraform; optional here: the bridge's autonaming (SetAutonaming,
                # pulumi-minio resources.go) names an unset one "<logical name>-<random>", and a
                # replacement of a set one is delete-before-create (the names would clash).
                "name": _opt("name", validate=USER_NAME, force_new=True),
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
            ATTACHMENT,
            "minio_iam_user_policy_attachment",
            "minio/resource_minio_iam_user_policy_attachment.go",
            {
                "policyName": _req("policy_name", validate=policy_name, force_new=True),
                "userName": _req("user_name", validate=USER_NAME, force_new=True),
            },
            on_existing="puts",  # adds the policy to the user's list if missing
            delete_effect="detaches the policy from the user",
        ),
        ResourceContract(
            SERVICE_ACCOUNT,
            "minio_iam_service_account",
            "minio/resource_minio_service_account.go",
            {
                "targetUser": _req("target_user", force_new=True),
                "disableUser": _opt("disable_user", default=False),
                "updateSecret": _opt("update_secret", default=False),
                "policy": _opt("policy", validate=policy_json, policy_document=True),
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


def env_variables() -> dict[str, str]:
    """Provider attribute (wire name) -> the environment variable the provider reads for it."""
    provider = CONTRACTS[PROVIDER].attributes
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
