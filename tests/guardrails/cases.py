"""One mutation of a clean desired state per way a rule can fail: (id, rule, base render, change).

The base is ``committed`` (each committed render) or ``public`` (prod with public recordings
opted into and acknowledged). Each change is the smallest edit a careless pull request could make.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from policies.guardrails import rules
from tests.guardrails.conftest import Mutation, Render, find, reader_policy, uploader_policy
from voice_recordings.permissions import UPLOADER_ACTIONS


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    base: Literal["committed", "public"]
    mutate: Mutation
    # retainOnDelete is not in the analyzer protocol: only the offline runner can see it.
    pack_sees_it: bool = True


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = resource["inputs"]["policy"]["Statement"]
    return statements


def _set(resource: dict[str, Any], key: str, value: Any) -> None:
    resource["inputs"][key] = value


def _bucket(render: Render) -> dict[str, Any]:
    return find(render, ":S3Bucket")


def _add_anonymous_policy(render: Render) -> None:
    bucket = render["config"]["voice-recordings:bucket"]
    render["resources"].append(
        {
            "type": rules.BUCKET_POLICY,
            "name": "sneaky-public",
            "parent": None,
            "protect": False,
            "retain_on_delete": False,
            "inputs": {
                "bucket": bucket,
                "policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": ["s3:GetObject"],
                            "Resource": [f"arn:aws:s3:::{bucket}/company_*/voice/*"],
                        }
                    ],
                },
            },
        }
    )


def _public_statement(render: Render) -> dict[str, Any]:
    return _statements(find(render, ":S3BucketPolicy"))[0]


def _drop_uploader_action(action: str) -> Mutation:
    def mutate(render: Render) -> None:
        for statement in _statements(uploader_policy(render)):
            statement["Action"] = [a for a in statement["Action"] if a != action]

    return mutate


def _remove(type_suffix: str) -> Mutation:
    def mutate(render: Render) -> None:
        target = find(render, type_suffix)
        render["resources"].remove(target)

    return mutate


def _not_retained(type_suffix: str) -> Mutation:
    def mutate(render: Render) -> None:
        find(render, f":{type_suffix}")["retain_on_delete"] = False

    return mutate


def _without_bucket_dependency(type_suffix: str) -> Mutation:
    def mutate(render: Render) -> None:
        # The first of its type (with the reader off there is one of each anyway).
        target = next(r for r in render["resources"] if r["type"].endswith(f":{type_suffix}"))
        target["depends_on"] = [d for d in target["depends_on"] if d != _bucket(render)["name"]]

    return mutate


def _lifecycle_rules(render: Render) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = find(render, ":IlmPolicy")["inputs"]["rules"]
    return found


def _rule_of(render: Render, kind: str) -> dict[str, Any]:
    return next(r for r in _lifecycle_rules(render) if r["tags"] == {"kind": kind})


def _add_encryption(render: Render) -> None:
    render["resources"].append(
        {
            "type": rules.ENCRYPTION,
            "name": "recordings-encryption",
            "parent": None,
            "protect": False,
            "retain_on_delete": False,
            "inputs": {
                "bucket": render["config"]["voice-recordings:bucket"],
                "encryptionType": "aws:kms",
                "kmsKeyId": "recordings-key",
            },
        }
    )


CASES: list[Case] = [
    Case(
        "unprotected", "bucket-protected", "committed", lambda r: _bucket(r).update(protect=False)
    ),
    Case(
        "not-retained",
        "bucket-protected",
        "committed",
        lambda r: _bucket(r).update(retain_on_delete=False),
        pack_sees_it=False,
    ),
    Case(
        "force-destroy",
        "bucket-protected",
        "committed",
        lambda r: _set(_bucket(r), "forceDestroy", True),
    ),
    Case(
        "public-acl",
        "bucket-acl-private",
        "committed",
        lambda r: _set(_bucket(r), "acl", "public-read"),
    ),
    Case("unacknowledged-anonymous", "no-anonymous-access", "committed", _add_anonymous_policy),
    Case(
        "anonymous-listing",
        "no-anonymous-access",
        "public",
        lambda r: _public_statement(r)["Action"].append("s3:ListBucket"),
    ),
    Case(
        "anonymous-transcripts",
        "no-anonymous-access",
        "public",
        lambda r: _public_statement(r)["Resource"].append(
            "arn:aws:s3:::voice-recordings/company_*/transcripts/*"
        ),
    ),
    Case(
        "anonymous-whole-bucket",
        "no-anonymous-access",
        "public",
        lambda r: _public_statement(r).update(Resource=["arn:aws:s3:::voice-recordings/*"]),
    ),
    Case(
        "wildcard-action",
        "iam-no-wildcards",
        "committed",
        lambda r: _statements(reader_policy(r))[0].update(Action=["s3:*"]),
    ),
    Case(
        "wildcard-resource",
        "iam-no-wildcards",
        "committed",
        lambda r: _statements(uploader_policy(r))[0].update(Resource="*"),
    ),
    Case(
        "other-bucket",
        "iam-bucket-scope",
        "committed",
        lambda r: _statements(reader_policy(r))[0]["Resource"].append(
            "arn:aws:s3:::omniplay-media/*"
        ),
    ),
    Case(
        "uploader-deletes",
        "iam-least-privilege",
        "committed",
        lambda r: _statements(uploader_policy(r))[-1]["Action"].append("s3:DeleteObject"),
    ),
    Case(
        "reader-writes",
        "iam-least-privilege",
        "committed",
        lambda r: _statements(reader_policy(r))[0]["Action"].append("s3:PutObject"),
    ),
    Case(
        "uploader-administers",
        "iam-least-privilege",
        "committed",
        lambda r: _statements(uploader_policy(r))[0]["Action"].append("s3:PutBucketPolicy"),
    ),
    Case(
        "builtin-readwrite",
        "iam-attachment-scope",
        "committed",
        lambda r: _set(
            find(r, ":IamUserPolicyAttachment", "reader-policy-attachment"),
            "policyName",
            "readwrite",
        ),
    ),
    Case(
        "reader-gets-uploader-policy",
        "iam-attachment-scope",
        "committed",
        lambda r: _set(
            find(r, ":IamUserPolicyAttachment", "reader-policy-attachment"),
            "policyName",
            r["config"]["voice-recordings:uploaderPolicy"],
        ),
    ),
    Case(
        "plaintext-user-secret",
        "secrets-masked",
        "committed",
        lambda r: _set(find(r, ":IamUser", "uploader-user"), "secret", "hunter2hunter2"),
    ),
    Case(
        "plaintext-admin-password",
        "secrets-masked",
        "committed",
        lambda r: _set(find(r, "providers:minio"), "minioPassword", "minio123"),
    ),
    *[
        Case(
            f"uploader-lacks-{action.split(':')[1]}",
            "uploader-covers-runtime",
            "committed",
            _drop_uploader_action(action),
        )
        for action in UPLOADER_ACTIONS
    ],
    Case(
        "versioning-suspended",
        "versioning-enabled",
        "committed",
        lambda r: _set(
            find(r, ":S3BucketVersioning"), "versioningConfiguration", {"status": "Suspended"}
        ),
    ),
    Case("versioning-removed", "versioning-enabled", "committed", _remove(":S3BucketVersioning")),
    Case(
        "transcripts-never-expire",
        "lifecycle-per-kind",
        "committed",
        lambda r: _lifecycle_rules(r).remove(_rule_of(r, "transcript")),
    ),
    Case(
        "voice-rule-without-expiration",
        "lifecycle-per-kind",
        "committed",
        lambda r: _rule_of(r, "voice").pop("expiration"),
    ),
    Case(
        "voice-rule-selects-another-tag",
        "lifecycle-per-kind",
        "committed",
        lambda r: _rule_of(r, "voice").update(tags={"kind": "other"}),
    ),
    Case("lifecycle-removed", "lifecycle-per-kind", "committed", _remove(":IlmPolicy")),
    Case(
        "ten-year-retention",
        "retention-in-range",
        "committed",
        lambda r: _rule_of(r, "voice").update(expiration="3650d"),
    ),
    Case(
        "noncurrent-kept",
        "retention-in-range",
        "committed",
        lambda r: _rule_of(r, "transcript").pop("noncurrentVersionExpirationDays"),
    ),
]

CASES += [
    *[
        Case(
            f"{suffix.lower()}-not-retained",
            "settings-retained",
            "committed",
            _not_retained(suffix),
            pack_sees_it=False,
        )
        for suffix in ("S3BucketVersioning", "IlmPolicy")
    ],
    Case(
        "provider-insecure-unset",
        "provider-verifies-tls",
        "committed",
        lambda r: find(r, "providers:minio")["inputs"].pop("minioInsecure"),
    ),
    Case(
        "provider-insecure",
        "provider-verifies-tls",
        "committed",
        lambda r: _set(find(r, "providers:minio"), "minioInsecure", "true"),
    ),
    *[
        Case(
            f"{suffix.lower()}-before-bucket",
            "identities-after-bucket",
            "committed",
            _without_bucket_dependency(suffix),
        )
        for suffix in ("IamUser", "IamPolicy", "IamUserPolicyAttachment", "IamServiceAccount")
    ],
]

# Rules a clean state passes only with an addition the committed renders do not (yet) have.
PASSING_ADDITIONS: dict[str, Mutation] = {"encryption-configured": _add_encryption}
