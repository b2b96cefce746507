"""One mutation of a clean desired state per way a rule can fail: (id, rule, base render, change).

The base is ``committed`` (each committed render) or ``public`` (prod with public recordings
opted into and acknowledged). Each change is the smallest edit a careless pull request could make.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from infra import render_format
from tests.guardrails.renders import (
    Mutation,
    Render,
    find,
    observer_statement,
    reader_policy,
    uploader_policy,
)
from voice_recordings.permissions import PROBE_PREFIX, UPLOADER_ACTIONS

MINIO = "minio:index/"


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
            "type": render_format.BUCKET_POLICY,
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
    """The first rule for ``kind``'s recordings (not the check probe's own rule)."""
    return next(
        r
        for r in _lifecycle_rules(render)
        if r.get("tags") == {"kind": kind} and r.get("filter") != PROBE_PREFIX
    )


def _leave_out_the_probe(render: Render) -> None:
    """Every rule narrowed to the companies' keys (as the default rules are when a company has
    its own retention) and the probe's own rule gone: nothing matches healthcheck/."""
    rules = _lifecycle_rules(render)
    rules[:] = [r for r in rules if r.get("filter") != PROBE_PREFIX]
    for rule in rules:
        if rule.get("tags") and not rule.get("filter"):
            rule["filter"] = "company_"


def _resource(type_token: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": type_token,
        "name": name,
        "parent": None,
        "protect": False,
        "retain_on_delete": False,
        "inputs": inputs,
    }


def _add(*resources: dict[str, Any]) -> Mutation:
    def mutate(render: Render) -> None:
        render["resources"].extend(copy.deepcopy(list(resources)))

    return mutate


def _respelled(value: Any, spell: Callable[[str], str]) -> Any:
    """``value`` with every object key respelled (values untouched)."""
    if isinstance(value, dict):
        return {spell(key): _respelled(item, spell) for key, item in value.items()}
    if isinstance(value, list):
        return [_respelled(item, spell) for item in value]
    return value


def _lowercase_uploader_deletes(render: Render) -> None:
    resource = uploader_policy(render)
    document = _respelled(resource["inputs"]["policy"], str.lower)
    document["statement"][-1]["action"].append("s3:DeleteObject")
    resource["inputs"]["policy"] = document


def _long_s_reader_wildcard(render: Render) -> None:
    # "\u017ftatement" (long s): Go folds it to STATEMENT, so MinIO obeys it.
    document = reader_policy(render)["inputs"]["policy"]
    statements = document.pop("Statement")
    statements[0]["Action"] = ["s3:*"]
    document["\u017ftatement"] = statements


def _dotless_i_reader_writes(render: Render) -> None:
    # "Act\u0131on" (dotless i): Go folds it to ACTION.
    statement = _statements(reader_policy(render))[0]
    statement["Act\u0131on"] = [*statement.pop("Action"), "s3:PutObject"]


def _second_statement_beside_the_reviewed_one(render: Render) -> None:
    uploader_policy(render)["inputs"]["policy"]["statement"] = [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    ]


def _duplicate_key_in_json_text(render: Render) -> None:
    # What a reviewer reads first is not what the server keeps (the last); json.loads keeps the
    # last too, so only the text shows it. Pulumi hands the pack this text.
    resource = uploader_policy(render)
    document = resource["inputs"]["policy"]
    wide = json.dumps([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    resource["inputs"]["policy"] = (
        f'{{"Version": "2012-10-17", "Statement": {json.dumps(document["Statement"])}, '
        f'"Statement": {wide}}}'
    )


def _lowercase_public_listing(render: Render) -> None:
    statement = _public_statement(render)
    statement["action"] = [*statement.pop("Action"), "s3:ListBucket"]


def _group_console_admin(render: Render) -> None:
    user = render["config"]["voice-recordings:uploaderUser"]
    _add(
        _resource(f"{MINIO}iamGroup:IamGroup", "ops", {"name": "ops"}),
        _resource(
            f"{MINIO}iamGroupMembership:IamGroupMembership",
            "ops-members",
            {"group": "ops", "users": [user]},
        ),
        _resource(
            f"{MINIO}iamGroupPolicyAttachment:IamGroupPolicyAttachment",
            "ops-admin",
            {"groupName": "ops", "policyName": "consoleAdmin"},
        ),
    )(render)


def _add_encryption(render: Render) -> None:
    render["resources"].append(
        {
            "type": render_format.ENCRYPTION,
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


def _swap_to_not_action(statement: dict[str, Any]) -> None:
    statement["NotAction"] = ["s3:DeleteObject"]
    del statement["Action"]


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
        "unacknowledged-object-lock",
        "bucket-object-lock-acknowledged",
        "committed",
        lambda r: _set(_bucket(r), "objectLocking", True),
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
        "uploader-writes-the-whole-bucket",
        "erasures-steward-only",
        "committed",
        lambda r: _statements(uploader_policy(r))[2].update(
            Resource=[f"arn:aws:s3:::{r['config']['voice-recordings:bucket']}/*"]
        ),
    ),
    Case(
        "uploader-writes-a-prefix-that-covers-markers",
        "erasures-steward-only",
        "committed",
        lambda r: _statements(uploader_policy(r))[2]["Resource"].append(
            f"arn:aws:s3:::{r['config']['voice-recordings:bucket']}/e*"
        ),
    ),
    Case(
        "uploader-writes-markers",
        "erasures-steward-only",
        "committed",
        lambda r: _statements(uploader_policy(r))[1]["Action"].append("s3:PutObject"),
    ),
    Case(
        "observer-reads-recordings",
        "iam-least-privilege",
        "committed",
        lambda r: observer_statement(r, "s3")["Action"].append("s3:GetObject"),
    ),
    Case(
        "observer-changes-bucket-policy",
        "observer-read-only",
        "committed",
        lambda r: observer_statement(r, "s3")["Action"].append("s3:PutBucketPolicy"),
    ),
    Case(
        "observer-creates-users",
        "observer-read-only",
        "committed",
        lambda r: observer_statement(r, "admin")["Action"].append("admin:CreateUser"),
    ),
    Case(
        "observer-exports-iam",
        "observer-read-only",
        "committed",
        lambda r: observer_statement(r, "admin")["Action"].append("admin:ExportIAM"),
    ),
    Case(
        "observer-wildcard-get",
        "observer-read-only",
        "committed",
        lambda r: observer_statement(r, "s3").update(Action="s3:Get*"),
    ),
    Case(
        "observer-notaction",
        "observer-read-only",
        "committed",
        lambda r: _swap_to_not_action(observer_statement(r, "s3")),
    ),
    Case(
        "observer-gets-readwrite",
        "iam-attachment-scope",
        "committed",
        lambda r: _set(
            find(r, ":IamUserPolicyAttachment", "observer-policy-attachment"),
            "policyName",
            "readwrite",
        ),
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
        "probe-left-out",
        "lifecycle-probe-expires",
        "committed",
        _leave_out_the_probe,
    ),
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


# Policy documents as MinIO reads them (Go's encoding/json): keys match in any case, the last of
# two wins, an unknown key is ignored. Each case walked past the rules before they read so.
CASES += [
    Case(
        "lowercase-keys-uploader-deletes",
        "iam-least-privilege",
        "committed",
        _lowercase_uploader_deletes,
    ),
    Case("long-s-statement-wildcard", "iam-no-wildcards", "committed", _long_s_reader_wildcard),
    Case("dotless-i-action-writes", "iam-least-privilege", "committed", _dotless_i_reader_writes),
    Case(
        "lowercase-notaction",
        "iam-no-wildcards",
        "committed",
        lambda r: _statements(uploader_policy(r))[-1].update(notaction=["s3:DeleteObject"]),
    ),
    Case("lowercase-public-listing", "no-anonymous-access", "public", _lowercase_public_listing),
    Case(
        "second-statement-key",
        "policy-document-unambiguous",
        "committed",
        _second_statement_beside_the_reviewed_one,
    ),
    Case(
        "duplicate-key-in-text",
        "policy-document-unambiguous",
        "committed",
        _duplicate_key_in_json_text,
    ),
    Case(
        "two-spellings-of-effect",
        "policy-document-unambiguous",
        "committed",
        lambda r: _statements(reader_policy(r))[0].update(effect="Deny"),
    ),
    Case(
        "key-the-server-ignores",
        "policy-document-unambiguous",
        "committed",
        lambda r: reader_policy(r)["inputs"]["policy"].update(
            Statements=[{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]
        ),
    ),
    Case(
        "effect-in-lower-case",
        "policy-document-unambiguous",
        "committed",
        lambda r: _statements(reader_policy(r))[0].update(Effect="allow"),
    ),
    Case(
        "action-of-another-shape",
        "policy-document-unambiguous",
        "committed",
        lambda r: _statements(reader_policy(r))[0].update(Action={"s3:GetObject": True}),
    ),
    Case(
        "statement-not-a-list",
        "policy-document-unambiguous",
        "committed",
        lambda r: reader_policy(r)["inputs"]["policy"].update(
            Statement=_statements(reader_policy(r))[0]
        ),
    ),
    Case(
        "condition-twice-under-folding",
        "policy-document-unambiguous",
        "public",
        lambda r: _public_statement(r).update(
            Condition={
                "StringEquals": {"aws:Referer": "https://omniplay.example"},
                "stringequals": {"aws:Referer": "https://elsewhere.example"},
            }
        ),
    ),
    Case(
        "principal-in-an-identity-policy",
        "policy-document-unambiguous",
        "committed",
        lambda r: _statements(reader_policy(r))[0].update(Principal="*"),
    ),
]

# The closed world: what no rule knows is a violation until a rule knows it.
CASES += [
    Case(
        "group-makes-uploader-console-admin",
        "known-resources-only",
        "committed",
        _group_console_admin,
    ),
    Case(
        "group-inline-policy",
        "known-resources-only",
        "committed",
        _add(
            _resource(
                render_format.IAM_GROUP_POLICY,
                "ops-inline",
                {
                    "group": "ops",
                    "policy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["s3:GetObject"],
                                "Resource": ["arn:aws:s3:::voice-recordings/*"],
                            }
                        ],
                    },
                },
            )
        ),
    ),
    Case(
        "replication-to-a-foreign-host",
        "known-resources-only",
        "committed",
        _add(
            _resource(
                f"{MINIO}s3BucketReplication:S3BucketReplication",  # newer providers
                "copy-out",
                {
                    "bucket": "voice-recordings",
                    "rules": [{"target": {"host": "attacker.example", "bucket": "loot"}}],
                },
            )
        ),
    ),
    Case(
        "notification-to-a-webhook",
        "known-resources-only",
        "committed",
        _add(
            _resource(
                f"{MINIO}s3BucketNotification:S3BucketNotification",
                "tell-someone",
                {
                    "bucket": "voice-recordings",
                    "queues": [{"queueArn": "arn:minio:sqs::x:webhook"}],
                },
            )
        ),
    ),
    Case(
        "kms-key",
        "known-resources-only",
        "committed",
        _add(_resource(f"{MINIO}kmsKey:KmsKey", "key", {"keyId": "recordings"})),
    ),
    Case(
        "ldap-attachment",
        "known-resources-only",
        "committed",
        _add(
            _resource(
                f"{MINIO}iamLdapUserPolicyAttachment:IamLdapUserPolicyAttachment",
                "ldap-admin",
                {"userDn": "uid=eve,dc=example", "policyName": "consoleAdmin"},
            )
        ),
    ),
    Case(
        "provider-skips-tls-checks",
        "known-resources-only",
        "committed",
        lambda r: _set(find(r, "providers:minio"), "minioInsecure", "true"),
    ),
    Case(
        "versioning-excludes-recordings",
        "known-resources-only",
        "committed",
        lambda r: find(r, ":S3BucketVersioning")["inputs"]["versioningConfiguration"].update(
            excludedPrefixes=["company_*/voice/"]
        ),
    ),
    Case(
        "lifecycle-rule-narrowed-by-prefix",
        "lifecycle-per-kind",
        "committed",
        lambda r: _rule_of(r, "voice").update(filter="company_1/"),
    ),
    Case(
        "policy-named-by-prefix",
        "known-resources-only",
        "committed",
        lambda r: _set(reader_policy(r), "namePrefix", "omniplay-"),
    ),
    Case(
        "service-account-of-root",
        "service-account-of-stack-user",
        "committed",
        lambda r: _set(
            find(r, ":IamServiceAccount", "voice-ai-realtime"), "targetUser", "minioadmin"
        ),
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


# The effective lifecycle (issue 19.5): the union of a bucket's rules as MinIO applies it, not
# each rule alone (policies/guardrails/lifecycle.py).
def _delete_marker_rule(render: Render) -> dict[str, Any]:
    return next(r for r in _lifecycle_rules(render) if r.get("expiration") == "DeleteMarker")


def _add_rule(rule: dict[str, Any]) -> Mutation:
    def mutate(render: Render) -> None:
        _lifecycle_rules(render).append(copy.deepcopy(rule))

    return mutate


def _second_lifecycle(rules: list[dict[str, Any]] | None) -> Mutation:
    def mutate(render: Render) -> None:
        second = copy.deepcopy(find(render, ":IlmPolicy"))
        second["name"] = "more-lifecycle"
        if rules is not None:
            second["inputs"]["rules"] = rules
        render["resources"].append(second)

    return mutate


def _foreign_user(name: str, with_account: bool) -> Mutation:
    def mutate(render: Render) -> None:
        user = copy.deepcopy(find(render, ":IamUser", "uploader-user"))
        user["name"], user["inputs"]["name"] = f"{name}-user", name
        render["resources"].append(user)
        if with_account:
            account = copy.deepcopy(find(render, ":IamServiceAccount", "voice-ai-realtime"))
            account["name"], account["inputs"]["targetUser"] = f"{name}-access", name
            render["resources"].append(account)

    return mutate


CASES += [
    Case("bucket-wide-cleanup", "lifecycle-no-early-expiry", "committed",
         _add_rule({"id": "cleanup", "expiration": "1d"})),
    Case("bucket-wide-cleanup-long", "lifecycle-no-early-expiry", "committed",
         _add_rule({"id": "cleanup", "expiration": "4000d"})),
    Case("delete-marker-rule-made-an-expiry", "lifecycle-no-early-expiry", "committed",
         lambda r: _delete_marker_rule(r).update(expiration="1d")),
    Case("delete-marker-rule-with-noncurrent", "lifecycle-no-early-expiry", "committed",
         lambda r: _delete_marker_rule(r).update(noncurrentVersionExpirationDays=1)),
    Case("second-shorter-voice-rule", "lifecycle-no-early-expiry", "committed",
         _add_rule({"id": "voice-fast", "tags": {"kind": "voice"}, "expiration": "2d"})),
    Case("one-company-expires-early", "lifecycle-no-early-expiry", "committed",
         _add_rule({"id": "c5", "filter": "company_5/", "expiration": "1d"})),
    Case("transcripts-on-a-date", "lifecycle-no-early-expiry", "committed",
         _add_rule({"id": "purge", "tags": {"kind": "transcript"}, "expiration": "2027-01-01"})),
    Case("voice-rule-requires-a-tag-no-recording-has", "lifecycle-per-kind", "committed",
         lambda r: _rule_of(r, "voice").update(tags={"kind": "voice", "legal": "hold"})),
    Case("transcript-rule-for-one-company", "lifecycle-per-kind", "committed",
         lambda r: _rule_of(r, "transcript").update(filter="company_1/")),
    Case("voice-rule-disabled", "lifecycle-per-kind", "committed",
         lambda r: _rule_of(r, "voice").update(status="Disabled")),
    Case("second-ilm-policy", "lifecycle-one-policy", "committed", _second_lifecycle(None)),
    Case("second-ilm-policy-markers-only", "lifecycle-one-policy", "committed",
         _second_lifecycle([{"id": "expire-delete-markers", "expiration": "DeleteMarker"}])),
    Case("second-ilm-policy-wins-without-kinds", "lifecycle-per-kind", "committed",
         _second_lifecycle([{"id": "expire-delete-markers", "expiration": "DeleteMarker"}])),
]  # fmt: skip


# Identities of users the stack does not own (issue 19.6): only the users the config names.
def _rename_uploader(name: str) -> Mutation:
    def mutate(render: Render) -> None:
        _set(find(render, ":IamUser", "uploader-user"), "name", name)
        _set(find(render, ":IamServiceAccount", "voice-ai-realtime"), "targetUser", name)

    return mutate


CASES += [
    Case("user-named-like-omniplay", "users-named-by-config", "committed",
         _foreign_user("omniplay", with_account=False)),
    Case("account-of-a-user-named-like-omniplay", "service-account-of-stack-user", "committed",
         _foreign_user("omniplay", with_account=True)),
    Case("uploader-user-renamed-in-the-program", "users-named-by-config", "committed",
         lambda r: _set(find(r, ":IamUser", "uploader-user"), "name", "admin")),
    Case("account-of-the-renamed-uploader", "service-account-of-stack-user", "committed",
         _rename_uploader("admin")),
]  # fmt: skip
