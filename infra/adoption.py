"""Adoption of the hand-made storage: which resources are imported, under which ids, and what the
program must then leave alone.

The import ids are the provider's (terraform-provider-minio v1.20.1, the one pulumi-minio 0.17.1
bridges), read from its importers:

- ``minio_s3_bucket``: the bucket name (``minio/import_minio_s3_buckets.go``,
  ``resourceMinioS3BucketImportState`` reads the bucket by ``d.Id()``; it also reads the bucket
  policy into ``acl``, and the program's ``acl="private"`` then plans an update that sets no
  policy: ``minioSetBucketACL`` writes nothing for ``private``, ``resource_minio_s3_bucket.go``).
- ``minio_iam_user``: the user name (``resource_minio_iam_user.go``,
  ``ImportStatePassthroughContext``; ``minioReadUser`` never reads the secret back).
- ``minio_iam_policy``: the policy name (``resource_minio_iam_policy.go``, passthrough;
  ``minioReadPolicy`` reads the document, so a different document is an update after import).
- ``minio_iam_user_policy_attachment``: ``<user>/<policy>``
  (``resource_minio_iam_user_policy_attachment.go``, ``minioImportUserPolicyAttachment`` splits
  the id on the first ``/``).
- ``minio_iam_service_account``: the access key (``resource_minio_service_account.go``,
  passthrough; ``minioReadServiceAccount`` reads ``InfoServiceAccount(d.Id())``; ``secret_key``
  is computed and never read, ``policy`` reads back as the parent's, ``update_secret`` is not
  read).

Versioning, lifecycle and OmniPlay's reader are created as usual: the hand steps made none.
This module never imports pulumi: the program, the takeover tools and the tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra import render_format
from infra.config import StackConfig, full_key

BUCKET: Final = render_format.BUCKET
IAM_USER: Final = render_format.IAM_USER
IAM_POLICY: Final = render_format.IAM_POLICY
ATTACHMENT: Final = render_format.ATTACHMENT
SERVICE_ACCOUNT: Final = render_format.SERVICE_ACCOUNT

# Inputs the program must not change on an imported resource (Pulumi wire names): the user's
# secret is the password someone chose (never read back: a value would overwrite it); the service
# account's policy reads back as its parent's and update_secret is not read at all. (Its
# secret_key is no input: computed, never read back; voice_ai_env says so.)
IMPORTED_IGNORE_CHANGES: Final[dict[str, tuple[str, ...]]] = {
    IAM_USER: ("secret",),
    SERVICE_ACCOUNT: ("policy", "updateSecret"),
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
        return cls(
            bucket=config.bucket,
            user=config.uploader_user,
            policy=config.uploader_policy,
            attachment=attachment_id(config.uploader_user, config.uploader_policy),
            service_account=config.adopt_service_account,
        )
