"""The closed world: a resource type or input no rule knows is a violation until one does.

Also what every resource must respect whatever its type: credentials only as secrets, and the
provider that verifies the server's certificate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeAlias

from infra.render_format import (
    ATTACHMENT,
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    ENCRYPTION,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    PROVIDER,
    RANDOM_PASSWORD,
    RANDOM_PROVIDER,
    SECRET_MARKER,
    SERVICE_ACCOUNT,
    STACK,
    VERSIONING,
    config_key,
)
from policies.guardrails.model import (
    MANDATORY,
    Catalogue,
    Finding,
    Resource,
    StackContext,
    require_known,
)

# Input names that hold credentials (minioPassword, secret, secretKey, minioSessionToken ...).
_SECRET_INPUT_RE: Final = re.compile(r"password|secret|token", re.IGNORECASE)


# This subject's rules, in declaration order (policies/guardrails/rules.py lists them all).
RULES: Final = Catalogue()


# --- the closed world: what the rules know ------------------------------------------------------
#
# A type or an input the rules do not know is a violation until a rule knows it: a group policy
# attachment, a replication target, a notification or a KMS key grants or exposes something no
# rule checks. Per type, the inputs the guardrails know, each one of:
#   ANY_VALUE            a rule reads it, or no value of it can widen access or lose recordings;
#   a tuple of values    only these (the provider's default, which its Check may fill in);
#   a mapping            an object (or a list of objects) whose members are known the same way.
# To let the program use something new: write the rule that checks it, then list it here.

ANY_VALUE: Final = None
InputSpec: TypeAlias = "tuple[object, ...] | Mapping[str, InputSpec] | None"

# The engine adds the plugin's version to every provider's inputs.
_ENGINE_PROVIDER_INPUTS: Final[Mapping[str, InputSpec]] = {"version": ANY_VALUE}
_RANDOM_PASSWORD_INPUTS: Final = (
    # The provider's Check fills in the deprecated "number" (true) beside "numeric": recorded
    # under the real analyzer (policies/guardrails/analyzer.py).
    "number",
    "length",
    "special",
    "upper",
    "lower",
    "numeric",
    "minLower",
    "minUpper",
    "minNumeric",
    "minSpecial",
    "overrideSpecial",
    "keepers",
)

KNOWN_INPUTS: Final[Mapping[str, Mapping[str, InputSpec]]] = {
    STACK: {},
    COMPONENT: {},
    PROVIDER: {
        **_ENGINE_PROVIDER_INPUTS,
        "minioServer": ANY_VALUE,
        "minioRegion": ANY_VALUE,
        "minioSsl": ANY_VALUE,
        "minioApiVersion": ANY_VALUE,
        "minioCacertFile": ANY_VALUE,
        "minioCertFile": ANY_VALUE,
        "minioKeyFile": ANY_VALUE,
        # Credentials: secrets-masked checks them. (The provider's Check fills unset ones from
        # MINIO_* variables; minioSessionToken defaults to "".) The deprecated minioAccessKey and
        # minioSecretKey stay unknown: the runtime's MINIO_ACCESS_KEY must never deploy.
        "minioUser": ANY_VALUE,
        "minioPassword": ANY_VALUE,
        "minioSessionToken": ANY_VALUE,
        # Skipping certificate checks hands the admin password to whoever answers.
        "minioInsecure": (False, "false"),
    },
    RANDOM_PROVIDER: dict(_ENGINE_PROVIDER_INPUTS),
    # The generated value's length and alphabet: they grant nothing.
    RANDOM_PASSWORD: dict.fromkeys(_RANDOM_PASSWORD_INPUTS, ANY_VALUE),
    BUCKET: {
        "bucket": ANY_VALUE,
        "acl": ANY_VALUE,  # bucket-acl-private
        "forceDestroy": ANY_VALUE,  # bucket-protected
        "objectLocking": ANY_VALUE,  # bucket-object-lock-acknowledged
    },
    VERSIONING: {
        "bucket": ANY_VALUE,
        # excludedPrefixes / excludeFolders would leave recordings unversioned: not known.
        "versioningConfiguration": {"status": ANY_VALUE},  # versioning-enabled
    },
    LIFECYCLE: {
        "bucket": ANY_VALUE,
        # A rule's filter (a key prefix) is judged with its tags by the lifecycle rules, per
        # company (policies/guardrails/lifecycle.py).
        "rules": {
            "id": ANY_VALUE,
            "status": ANY_VALUE,
            "tags": ANY_VALUE,
            "filter": ANY_VALUE,
            "expiration": ANY_VALUE,
            "noncurrentVersionExpirationDays": ANY_VALUE,
        },
    },
    IAM_POLICY: {"name": ANY_VALUE, "policy": ANY_VALUE},
    IAM_USER: {
        "name": ANY_VALUE,
        "secret": ANY_VALUE,  # secrets-masked
        "disableUser": ANY_VALUE,  # disabling only takes away
        "forceDestroy": (False,),
        "updateSecret": (False,),  # rotation is an explicit, reviewed --replace
    },
    ATTACHMENT: {"policyName": ANY_VALUE, "userName": ANY_VALUE},  # iam-attachment-scope
    SERVICE_ACCOUNT: {
        "targetUser": ANY_VALUE,  # service-account-of-stack-user
        "policy": ANY_VALUE,  # the iam-* document rules
        "disableUser": ANY_VALUE,
        "updateSecret": (False,),
    },
    BUCKET_POLICY: {"bucket": ANY_VALUE, "policy": ANY_VALUE},  # no-anonymous-access
    ENCRYPTION: {"bucket": ANY_VALUE, "encryptionType": ANY_VALUE, "kmsKeyId": ANY_VALUE},
}


def _unknown_inputs(value: Any, spec: InputSpec, path: str, label: str) -> Iterator[str]:
    """Problems of one input against what the rules know of it (values are never echoed).

    Only what this rule decides on must be known: a value restricted to a tuple, and each object
    (or list of objects) whose keys it reads. An unknown under ANY_VALUE is for the rule that
    reads it to judge, so a preview's unknown tag or expiration never stops the closed world."""
    if spec is ANY_VALUE:
        return
    if isinstance(spec, tuple):
        require_known(value, label, path)
        if value not in spec:
            yield (
                f"input {path!r} has a value the guardrails do not accept (only "
                f"{', '.join(json.dumps(v) for v in spec)})."
            )
        return
    require_known(value, label, path, deep=False)
    items = list(value) if isinstance(value, list | tuple) else [value]
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(value, list | tuple) else path
        require_known(item, label, where, deep=False)
        if not isinstance(item, Mapping):
            yield f"input {where!r} is not an object as the guardrails know it."
            continue
        for key in sorted(item):
            if key not in spec:
                yield f"input {where}.{key!r} is not one the guardrails know."
            else:
                yield from _unknown_inputs(item[key], spec[key], f"{where}.{key}", label)


@RULES.resource("known-resources-only", MANDATORY, None)
def check_known_resource(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Every resource type and input is one a rule knows (closed world).

    Closed world: every type and input is one some rule knows (or one that cannot harm)."""
    known = KNOWN_INPUTS.get(resource.type)
    if known is None:
        yield Finding(
            f"the type {resource.type!r} is not one the guardrails know, so nothing checks what "
            "it grants or exposes.",
            "remove it, or first teach the guardrails: a rule for it in "
            "policies/guardrails/rules.py and its inputs in KNOWN_INPUTS.",
        )
        return
    problems = []
    for key in sorted(resource.inputs):
        if key not in known:
            problems.append(f"input {key!r} is not one the guardrails know.")
        else:
            problems.extend(_unknown_inputs(resource.inputs[key], known[key], key, resource.label))
    for problem in problems:
        yield Finding(
            problem,
            "leave it unset, or first teach the guardrails: a rule that checks it and its "
            "entry in KNOWN_INPUTS (policies/guardrails/rules.py).",
        )


@RULES.resource("secrets-masked", MANDATORY, None)
def check_secrets_masked(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """Credential inputs are Pulumi secrets, never plaintext.

    A credential input (password, secret key, token) is a Pulumi secret, never plaintext."""
    for key in sorted(resource.inputs):
        value = resource.inputs[key]
        if not _SECRET_INPUT_RE.search(key) or not isinstance(value, str):
            continue
        if value and value != SECRET_MARKER:
            # Never print the value: this message ends up in CI logs and PR comments.
            yield Finding(
                f"input {key!r} holds a plaintext value.",
                "pass it as a secret: pulumi.Output.secret(...), a pulumi-random result, or "
                "`pulumi config set --secret`.",
            )


@RULES.resource("provider-verifies-tls", MANDATORY, (PROVIDER,))
def check_provider_verifies_tls(resource: Resource, ctx: StackContext) -> Iterator[Finding]:
    """The provider's minio_insecure is explicitly false.

    The provider's minio_insecure is explicitly false."""
    value = resource.known("minioInsecure")
    if value not in (False, "false"):
        state = (
            "unset, so the provider takes MINIO_INSECURE from the deploying shell"
            if (value is None)
            else f"{value!r}, which turns off verification of the server's certificate"
        )
        yield Finding(
            f"minioInsecure is {state}.",
            "set minio_insecure=False on the explicit provider (and a private CA with "
            f"{config_key('caBundle')}).",
        )
