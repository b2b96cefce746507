"""Each identity's grants in a render: the IAM actions it is allowed (or denied) per resource.

An identity is a user, granted through the policies attached to it, or the anonymous public,
granted through a bucket policy. Documents are read the way MinIO reads them, by the guardrails'
own reader (policies/guardrails/documents.py), so the review and the rules never disagree on what
a document grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from infra.render_format import ATTACHMENT, BUCKET_POLICY, IAM_POLICY, IAM_USER, POLICY_INPUT
from policies.guardrails.documents import PolicyDocumentError, read_policy_document, statements

# identity -> resource (bucket-relative: "voice-recordings/*") -> sorted actions.
Grants = dict[str, dict[str, tuple[str, ...]]]
_ARN_HEAD: Final = "arn:aws:s3:::"
UNREADABLE: Final = "(a document no reader can read: see make guard)"


def _grants_of(document: Any, bucket_policy: bool) -> list[tuple[str, str, set[str]]]:
    """(principal, resource, actions) of one document; principal "" for an identity policy.
    Deny and NotAction/NotResource are spelt out, never dropped."""
    try:
        canonical = read_policy_document(document, bucket_policy=bucket_policy)
    except PolicyDocumentError:
        return [("", UNREADABLE, set())]
    found: list[tuple[str, str, set[str]]] = []
    for statement in statements(canonical):
        prefix = "" if statement.effect == "Allow" else "deny "
        actions = {prefix + action for action in statement.actions}
        actions |= {f"{prefix}{negated} (!)" for negated in statement.negated}
        for principal in statement.principals or [""]:
            for resource in statement.resources or ["(every resource)"]:
                found.append((principal, resource.removeprefix(_ARN_HEAD), actions))
    return found


def _principal(principal: str) -> str:
    return "anyone" if principal == "*" else principal


def identity_grants(render: Mapping[str, Any] | None) -> Grants:
    """Every identity of ``render`` (None: none) with its grants; a user without a policy has
    none."""
    resources = (render or {}).get("resources", [])
    of_type = {
        token: [r["inputs"] for r in resources if r["type"] == token]
        for token in (IAM_USER, IAM_POLICY, ATTACHMENT, BUCKET_POLICY)
    }
    documents = {p.get("name"): p.get(POLICY_INPUT) for p in of_type[IAM_POLICY]}
    found: dict[str, dict[str, set[str]]] = {str(u.get("name")): {} for u in of_type[IAM_USER]}
    for attachment in of_type[ATTACHMENT]:
        document = documents.get(attachment.get("policyName"))
        for _, resource, actions in _grants_of(document, bucket_policy=False):
            user = found.setdefault(str(attachment.get("userName")), {})
            user.setdefault(resource, set()).update(actions)
    for policy in of_type[BUCKET_POLICY]:
        for principal, resource, actions in _grants_of(policy.get(POLICY_INPUT), True):
            who = found.setdefault(f"{_principal(principal)} (bucket policy)", {})
            who.setdefault(resource, set()).update(actions)
    return {
        who: {resource: tuple(sorted(actions)) for resource, actions in sorted(grants.items())}
        for who, grants in sorted(found.items())
    }
