"""The render's contract, in one place: what ``python -m infra.render`` writes and others read.

The render (``policies/rendered/*.json``) is read by the guardrails (``make guard`` and, with the
same rules, the CrossGuard pack), by the tests that compare a deployed server with it, and by
reviewers in a pull request's diff. This module holds the facts they must agree on: the field
names, the Pulumi type tokens, the secret marker, the config namespace and the format's version.
It imports nothing (no pulumi), so every reader can import it. The format is described in
``docs/render-format.md``; a test keeps that page and these constants in step.
"""

from __future__ import annotations

from typing import Final

# The version of the format documented in docs/render-format.md. The render does not carry it
# (the committed snapshots stay as they are); bump it, and the page, when a field changes meaning
# or goes away, so every reader above can tell which contract it was written against.
FORMAT_VERSION: Final = 1

# The Pulumi project, and the namespace of its stack config keys (``voice-recordings:bucket``).
PROJECT: Final = "voice-recordings"
CONFIG_NAMESPACE: Final = "voice-recordings"

# What a secret looks like in a render (an input, a config value or an output), and what the
# CrossGuard pack hands the rules in place of a secret's plaintext.
SECRET_MARKER: Final = "[secret]"

# --- field names ---------------------------------------------------------------------------------

# The render's top-level fields, in the order docs/render-format.md describes them.
RENDER_FIELDS: Final = ("project", "stack", "config", "resources", "outputs")
# Every resource's fields (always present) ...
RESOURCE_FIELDS: Final = (
    "type",
    "name",
    "parent",
    "protect",
    "retain_on_delete",
    "depends_on",
    "ignore_changes",
    "inputs",
)
# ... and the ones present only when set (aliases=[...], import_=...).
OPTIONAL_RESOURCE_FIELDS: Final = ("aliases", "import")
# The input that holds a policy document: a JSON string on the wire, a parsed object in the render.
POLICY_INPUT: Final = "policy"

# --- Pulumi type tokens (pulumi_minio 0.17, pulumi_random) -------------------------------------

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
RANDOM_PASSWORD: Final = "random:index/randomPassword:RandomPassword"
# The program's component, and what only the engine registers: the stack itself (never in a
# render) and pulumi-random's default provider (seen by the pack inside `pulumi preview`).
COMPONENT: Final = "voice-recordings:index:RecordingStorage"
STACK: Final = "pulumi:pulumi:Stack"
RANDOM_PROVIDER: Final = "pulumi:providers:random"

# Every type token above, for readers that check a token is one of the contract's.
TYPE_TOKENS: Final = frozenset(
    {
        PROVIDER,
        BUCKET,
        VERSIONING,
        LIFECYCLE,
        IAM_POLICY,
        IAM_GROUP_POLICY,
        IAM_USER,
        ATTACHMENT,
        SERVICE_ACCOUNT,
        BUCKET_POLICY,
        ENCRYPTION,
        RANDOM_PASSWORD,
        COMPONENT,
        STACK,
        RANDOM_PROVIDER,
    }
)


def config_key(key: str) -> str:
    """``bucket`` -> ``voice-recordings:bucket``: a key of this project's config namespace."""
    return f"{CONFIG_NAMESPACE}:{key}"
