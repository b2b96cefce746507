"""The bucket on the server is the bucket the render describes: versioning, lifecycle, no loss.

Runs on every target (see ``conftest.py``); inspecting the server needs its admin. moto stores the
lifecycle configuration but never runs expiry, so the configuration is compared, not its effect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from infra.provider_values import DELETE_MARKER
from infra.render_format import LIFECYCLE
from tests.support import Target

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def as_ilm(rule: Mapping[str, Any]) -> dict[str, Any]:
    """An S3 lifecycle rule read back in the ``IlmPolicy`` input's terms (what MinIO's ILM rule
    with those inputs means: ``Expiration.Days`` as ``"<N>d"``, the delete-marker expiry as
    ``DeleteMarker``, the tags and the prefix of its filter, the noncurrent days), empty
    fields left out (servers differ in echoing ``Prefix: ""`` and the like)."""
    where = rule.get("Filter") or {}
    both = where.get("And") or {}
    tags = both.get("Tags") or ([where["Tag"]] if "Tag" in where else [])
    expiration = rule.get("Expiration") or {}
    noncurrent = rule.get("NoncurrentVersionExpiration") or {}
    read = {
        "id": rule["ID"],
        "status": rule["Status"],
        "filter": both.get("Prefix") or where.get("Prefix") or "",
        "tags": {t["Key"]: t["Value"] for t in tags},
        "expiration": (
            DELETE_MARKER
            if expiration.get("ExpiredObjectDeleteMarker")
            else f"{expiration['Days']}d"
            if "Days" in expiration
            else None
        ),
        "noncurrentVersionExpirationDays": noncurrent.get("NoncurrentDays"),
    }
    return {k: v for k, v in read.items() if v not in (None, "", {})}


def rendered_rules(render: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The render's ILM rules, each as the provider writes it (always ``Enabled``), by id."""
    (ilm,) = [r for r in render["resources"] if r["type"] == LIFECYCLE]
    rules = [{"status": "Enabled", **rule} for rule in ilm["inputs"]["rules"]]
    return sorted(rules, key=lambda rule: rule["id"])


def test_versioning_is_enabled(target: Target) -> None:
    s3 = target.s3(target.admin)
    assert s3.get_bucket_versioning(Bucket=target.bucket).get("Status") == "Enabled"


def test_lifecycle_on_the_server_equals_the_render(target: Target) -> None:
    s3 = target.s3(target.admin)
    on_server = s3.get_bucket_lifecycle_configuration(Bucket=target.bucket)["Rules"]
    expected = rendered_rules(target.render)
    assert sorted((as_ilm(rule) for rule in on_server), key=lambda r: r["id"]) == expected
    # What the render asks for: one rule per kind, selected by the kind tag, both expiries set;
    # and one bucket-wide rule that only removes delete markers left with no version behind.
    by_kind = [rule for rule in expected if rule.get("tags")]
    assert sorted(rule["tags"]["kind"] for rule in by_kind) == ["transcript", "voice"]
    assert all(
        rule["expiration"].endswith("d") and rule["noncurrentVersionExpirationDays"] > 0
        for rule in by_kind
    )
    (markers,) = [rule for rule in expected if rule not in by_kind]
    assert markers["expiration"] == DELETE_MARKER
    assert not markers.get("filter") and "noncurrentVersionExpirationDays" not in markers


def test_uploading_twice_keeps_the_earlier_version(
    target: Target, company_id: int, call_uuid: str
) -> None:
    uploader = target.uploader_client()
    first = uploader.upload_audio(
        b"first take", call_uuid=call_uuid, company_id=company_id, when=WHEN
    )
    second = uploader.upload_audio(
        b"second take", call_uuid=call_uuid, company_id=company_id, when=WHEN
    )
    assert first.key == second.key
    assert first.version_id and second.version_id and first.version_id != second.version_id

    admin = target.s3(target.admin)
    listed = admin.list_object_versions(Bucket=target.bucket, Prefix=first.key)
    versions = {v["VersionId"]: v["IsLatest"] for v in listed["Versions"] if v["Key"] == first.key}
    assert versions == {first.version_id: False, second.version_id: True}
    old = admin.get_object(Bucket=target.bucket, Key=first.key, VersionId=first.version_id)
    assert old["Body"].read() == b"first take"
    latest = uploader.client.get_object(Bucket=target.bucket, Key=first.key)
    assert latest["Body"].read() == b"second take"
