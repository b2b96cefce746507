"""What counts as a read (the observer's guardrail), over MinIO's and S3's action vocabularies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_recordings.permissions import (
    OBSERVER_ACTIONS,
    OBSERVER_ADMIN_ACTIONS,
    OBSERVER_S3_ACTIONS,
    is_read_action,
)

# From minio/pkg policy (admin-action.go, action.go): actions that only read ...
READS = [
    "s3:GetObject",
    "s3:ListBucket",
    "s3:GetBucketPolicy",
    "s3:GetLifecycleConfiguration",
    "s3:ListAllMyBuckets",
    "admin:GetUser",
    "admin:ListUsers",
    "admin:GetPolicy",
    "admin:ListServiceAccounts",
    "admin:GetBucketQuota",
    "admin:ListUserPolicies",
]
# ... and actions that create, change, delete, export or operate.
WRITES = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:CreateBucket",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:ListenBucketNotification",
    "s3:BypassGovernanceRetention",
    "admin:CreateUser",
    "admin:DeleteUser",
    "admin:EnableUser",
    "admin:AttachUserOrGroupPolicy",
    "admin:UpdatePolicyAssociation",
    "admin:CreateServiceAccount",
    "admin:UpdateServiceAccount",
    "admin:RemoveServiceAccount",
    "admin:CreatePolicy",
    "admin:DeletePolicy",
    "admin:SetBucketQuota",
    "admin:ConfigUpdate",
    "admin:ExportIAM",
    "admin:ImportIAM",
    "admin:ServiceRestart",
    "admin:ServerUpdate",
    "admin:KMSCreateKey",
    "admin:Heal",
    "admin:ForceUnlock",
    "admin:*",
    "s3:*",
    "s3:Get*",
    "*",
    "GetObject",
    "s3:Get",
]


@pytest.mark.parametrize("action", READS)
def test_reads_are_reads(action: str) -> None:
    assert is_read_action(action)


@pytest.mark.parametrize("action", WRITES)
def test_everything_else_is_not(action: str) -> None:
    assert not is_read_action(action)


@given(
    st.sampled_from(["s3", "admin"]),
    st.sampled_from(["Put", "Delete", "Create", "Update", "Set", "Attach", "Remove", "Enable"]),
    st.from_regex(r"[A-Z][A-Za-z]{0,20}", fullmatch=True),
)
def test_a_writing_verb_is_never_a_read(service: str, verb: str, rest: str) -> None:
    assert not is_read_action(f"{service}:{verb}{rest}")


def test_the_observers_actions_are_all_reads_split_by_service() -> None:
    assert all(is_read_action(action) for action in OBSERVER_ACTIONS)
    assert all(a.startswith("s3:") for a in OBSERVER_S3_ACTIONS)
    assert all(a.startswith("admin:") for a in OBSERVER_ADMIN_ACTIONS)
    assert "s3:GetObject" not in OBSERVER_ACTIONS  # recordings are personal data
