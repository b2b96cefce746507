"""The identities (infra/identities.py): each user gets its own policy only, the observer only
reads, the uploader can do what the runtime does, only the stack's users exist and hold service
accounts, and every identity waits for the bucket.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from infra.config import NAMESPACE, USER_KEYS
from infra.identities import OBSERVER, ROLES, UPLOADER
from infra.render_format import ATTACHMENT, BUCKET, IAM_POLICY, IAM_USER, SERVICE_ACCOUNT
from policies.guardrails.documents import allows, policy_document, readable_document
from policies.guardrails.model import MANDATORY, Catalogue, Finding, Resource, StackContext, of_type
from policies.guardrails.rules_iam import IDENTITY_POLICY_TYPES
from voice_recordings.permissions import is_read_action, uploader_grants

# Identity resources: user and policy Create silently overwrite what exists on the server.
IDENTITY_TYPES: Final = frozenset({IAM_USER, IAM_POLICY, ATTACHMENT, SERVICE_ACCOUNT})


# This subject's rules, in declaration order (policies/guardrails/rules.py lists them all).
RULES: Final = Catalogue()


@RULES.resource("iam-attachment-scope", MANDATORY, (ATTACHMENT,))
def check_attachment_scope(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Each user gets only this stack's policy for its role.

    A user gets only this stack's policy for its role (no built-in readwrite/consoleAdmin)."""
    policy, user = resource.known("policyName"), resource.known("userName")
    expected = {names.policy: names.user for role in ROLES if (names := ctx.names(role))}
    if policy not in expected:
        yield Finding(
            f"attaches the policy {policy!r}, which this stack does not define.",
            f"attach only {sorted(expected)} (from the stack config).",
        )
    elif user != expected[policy]:
        yield Finding(
            f"attaches {policy!r} to {user!r} instead of {expected[policy]!r}.",
            f"attach {policy!r} to {expected[policy]!r} only.",
        )


@RULES.resource("observer-read-only", MANDATORY, IDENTITY_POLICY_TYPES)
def check_observer_read_only(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The observer's policy (CI's preview and drift identity) has only read actions.

    The observer (CI's preview and drift identity) only reads: no action that writes."""
    if ctx.owner(resource) is not OBSERVER:
        return
    for statement in allows(policy_document(resource)):
        if "NotAction" in statement.negated:
            yield Finding(
                "a grant uses NotAction, which allows every other action, writes included.",
                "list the observer's read actions explicitly (voice_recordings.permissions).",
            )
        for action in statement.actions:
            if not is_read_action(action):
                yield Finding(
                    f"gives the observer {action!r}, which is not a read (Get/List/Head/"
                    "Describe): a pull request's preview could change the server with it.",
                    f"remove {action!r}; changes are made only by the reviewed deploy, with the "
                    "admin's credentials.",
                )


@RULES.stack("uploader-covers-runtime", MANDATORY)
def check_uploader_covers_runtime(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """The uploader's policy grants what the runtime package does.

    The uploader's policy grants every action the runtime package performs, on the bucket."""
    uploader = ctx.names(UPLOADER)
    policy = uploader.policy if uploader is not None else None
    mine = [r for r in of_type(resources, IAM_POLICY) if r.known("name") == policy]
    if not mine:
        yield Finding(
            f"no IamPolicy named {policy!r} (the uploader's) exists.",
            f"create the uploader policy from policies/{UPLOADER.policy_file}.json.",
        )
        return
    for resource in mine:
        grants = {
            (action, arn)
            for statement in allows(readable_document(resource))
            for action in statement.actions
            for arn in statement.resources
        }
        for action, needed in sorted(uploader_grants(ctx.bucket)):
            if (action, needed) not in grants:
                yield Finding(
                    f"does not grant {action!r} on {needed}, which the uploader needs.",
                    f"grant {action!r} on {needed} (see voice_recordings.permissions).",
                    resource,
                )


@RULES.stack("service-account-of-stack-user", MANDATORY)
def check_service_account_targets(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """Every service account belongs to one of the stack's own users.

    A service account belongs to one of the stack's own users (never root or a foreign user):
    a user the config names and the stack holds."""
    users = {r.known("name") for r in of_type(resources, IAM_USER)} & ctx.stack_users
    for account in of_type(resources, SERVICE_ACCOUNT):
        target = account.known("targetUser")
        if target not in users:
            yield Finding(
                f"its target user {target!r} is not one of the stack's users "
                f"{sorted(str(u) for u in users)} (the users its config names): its keys would "
                "carry that user's power, which no rule checks.",
                "create service accounts only for the stack's own IamUsers "
                "(target_user=<user>.name).",
                account,
            )


@RULES.stack("users-named-by-config", MANDATORY)
def check_users_named_by_config(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """The stack creates or imports only the users its config names.

    Every IamUser is one the config names (each role's user, infra/identities.py): a user
    named like one that already exists on the shared server (OmniPlay's) would have its
    password overwritten by the provider, and keys made for it carry whatever it can do."""
    for user in of_type(resources, IAM_USER):
        name = user.known("name")
        if name not in ctx.stack_users:
            yield Finding(
                f"user {name!r} is not one the stack's config names "
                f"({', '.join(sorted(ctx.stack_users))}): on a shared server it may be someone "
                "else's, whose secret the provider would overwrite.",
                f"create only the users {NAMESPACE}:{'/'.join(USER_KEYS)} name; change the "
                "config, not the program, to rename one.",
                user,
            )


@RULES.stack("identities-after-bucket", MANDATORY)
def check_identities_after_bucket(
    resources: Sequence[Resource], ctx: StackContext
) -> Iterator[Finding]:
    """Every identity resource depends on the bucket.

    Every identity depends on the bucket, so a failed bucket create stops before them."""
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
