"""The provisioner's vocabulary: the render's type tokens, its errors, its result, its state.

Also the two checks every handler applies to a resource's inputs (:func:`checked_inputs`,
:func:`plain_input`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from devtools.clients import Credentials
from infra import render_format

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

# The render's type tokens, from its contract (infra/render_format.py, docs/render-format.md).
PROVIDER: Final = render_format.PROVIDER
COMPONENT: Final = render_format.COMPONENT
RANDOM_PASSWORD: Final = render_format.RANDOM_PASSWORD
BUCKET: Final = render_format.BUCKET
VERSIONING: Final = render_format.VERSIONING
ENCRYPTION: Final = render_format.ENCRYPTION
LIFECYCLE: Final = render_format.LIFECYCLE
BUCKET_POLICY: Final = render_format.BUCKET_POLICY
IAM_POLICY: Final = render_format.IAM_POLICY
IAM_USER: Final = render_format.IAM_USER
ATTACHMENT: Final = render_format.ATTACHMENT
SERVICE_ACCOUNT: Final = render_format.SERVICE_ACCOUNT

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
SECRET: Final = render_format.SECRET_MARKER  # how the render masks a secret value
ADMIN_PREFIX: Final = "admin:"  # MinIO admin API actions (minio/pkg policy/admin-action.go)


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
class State:
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


def checked_inputs(
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


def plain_input(type_: str, name: str, key: str, value: Any) -> Any:
    """``value``, refused when the render masked it (a secret the provisioner cannot see)."""
    if value == SECRET:
        raise ProvisionError(f"{type_} {name!r}: input {key!r} is a masked secret")
    return value
