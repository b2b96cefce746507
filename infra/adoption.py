"""Adoption of the hand-made storage: which resources are imported, under which ids, and what the
program must then leave alone.

The import ids are the provider's (terraform-provider-minio v1.20.1, the one pulumi-minio 0.17.1
bridges), read from its importers:

- ``minio_s3_bucket``: the bucket name (``minio/import_minio_s3_buckets.go``,
  ``resourceMinioS3BucketImportState``: Read, then ``object_locking`` from the bucket's object-lock
  configuration and ``acl`` from its bucket policy, the canned acl it is equivalent to or
  ``private``). Nothing reads ``force_destroy``. So the import plans no bucket update unless the
  bucket has object lock and the stack does not say so (``acknowledgeObjectLock``):
  ``objectLocking: true -> false``, which the provider's Update never applies.
- ``minio_iam_user``: the user name (``resource_minio_iam_user.go``,
  ``ImportStatePassthroughContext``; ``minioReadUser`` reads the status only: never the secret,
  nor ``force_destroy``/``disable_user``/``update_secret``).
- ``minio_iam_policy``: the policy name (``resource_minio_iam_policy.go``, passthrough;
  ``minioReadPolicy`` reads the document, so a different document is an update after import).
- ``minio_iam_user_policy_attachment``: ``<user>/<policy>``
  (``resource_minio_iam_user_policy_attachment.go``, ``minioImportUserPolicyAttachment`` splits
  the id on the first ``/``).
- ``minio_iam_service_account``: the access key (``resource_minio_service_account.go``,
  passthrough; ``minioReadServiceAccount`` reads ``InfoServiceAccount(d.Id())``: status,
  ``disable_user``, parent and ``policy``, which reads back as the parent's and is ignored on
  every account; ``secret_key`` is computed and never read, ``update_secret`` is not read).

The real import plan (pulumi-terraform-bridge v3.135.0 over these functions, measured by
``tests/engine/test_takeover.py``): the five imports with no difference, and one update, the
uploader policy's document. An input the program leaves unset and nothing reads (``forceDestroy``,
``disableUser``, ``updateSecret``) is no difference: the bridge fills no falsy default at Check
(pulumi-terraform-bridge#2618) and SDKv2's diff takes an unset bool for false. They are listed as
``add`` in the detailed diff only when the resource is updated anyway.

Versioning, lifecycle and OmniPlay's reader are created as usual: the hand steps made none.
This module never imports pulumi: the program, the takeover tools and the tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra import render_format
from infra.config import StackConfig, full_key
from infra.identities import UPLOADER

# Inputs the program must not change on an imported resource (Pulumi wire names), and only
# those: the user's secret is the password someone chose (never read back: the program's value
# would be an update overwriting it). Nothing else is needed for a clean import (see above): the
# service account's policy is ignored on every account (infra/provider_contract.py), its
# updateSecret is unset (no difference), its secret_key no input.
IMPORTED_IGNORE_CHANGES: Final[dict[str, tuple[str, ...]]] = {
    render_format.IAM_USER: ("secret",),
}

# The example console access key the committed adopting render (prod-adopt.json) is made with;
# a real stack sets its own (`mc admin user svcacct ls`). An access key is an id, not a secret.
EXAMPLE_CONSOLE_ACCESS_KEY: Final = "CONSOLEACCESSKEY1234"
ADOPT_OVERRIDES: Final[dict[str, str]] = {
    full_key("adoptExisting"): "true",
    full_key("adoptServiceAccount"): EXAMPLE_CONSOLE_ACCESS_KEY,
}


def attachment_id(user: str, policy: str) -> str:
    """The provider's import id of a user's policy attachment: ``<user>/<policy>``."""
    return f"{user}/{policy}"


def split_attachment_id(import_id: str) -> tuple[str, str]:
    """``<user>/<policy>`` back into its parts (the provider's own check: both non-empty)."""
    user, sep, policy = import_id.partition("/")
    if not sep or not user or not policy:
        raise ValueError(
            f"unexpected format of ID ({import_id!r}), expected <user-name>/<policy_name>"
        )
    return user, policy


@dataclass(frozen=True)
class Imports:
    """The import id of each adopted resource of the stack (empty: created as usual)."""

    bucket: str = ""
    user: str = ""
    policy: str = ""
    attachment: str = ""
    service_account: str = ""

    @classmethod
    def of(cls, config: StackConfig) -> Imports:
        """What ``config`` adopts: nothing unless ``adoptExisting``."""
        if not config.adopt_existing:
            return cls()
        names = config.identity(UPLOADER)
        return cls(
            bucket=config.bucket,
            user=names.user,
            policy=names.policy,
            attachment=attachment_id(names.user, names.policy),
            service_account=config.adopt_service_account,
        )
