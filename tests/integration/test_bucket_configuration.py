"""The bucket on the server is the bucket the render describes: versioning, lifecycle, no loss.

Runs on every target (see ``conftest.py``); inspecting the server needs its admin. moto stores the
lifecycle configuration but never runs expiry, so the configuration is compared, not its effect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from devtools.provision import LIFECYCLE, lifecycle_rules
from tests.support import Target

pytestmark = pytest.mark.integration
WHEN = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def without_empty(value: Any) -> Any:
    """Drop empty fields (servers differ in echoing ``Prefix: ""`` and the like)."""
    if isinstance(value, Mapping):
        cleaned = {k: without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [without_empty(item) for item in value]
    return value


def rendered_rules(render: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The render's ILM rules, translated to S3 lifecycle rules, sorted by ID."""
    (ilm,) = [r for r in render["resources"] if r["type"] == LIFECYCLE]
    return sorted(without_empty(lifecycle_rules(ilm["inputs"]["rules"])), key=lambda r: r["ID"])


def test_versioning_is_enabled(target: Target) -> None:
    s3 = target.s3(target.admin)
    assert s3.get_bucket_versioning(Bucket=target.bucket).get("Status") == "Enabled"


def test_lifecycle_on_the_server_equals_the_render(target: Target) -> None:
    s3 = target.s3(target.admin)
    on_server = s3.get_bucket_lifecycle_configuration(Bucket=target.bucket)["Rules"]
    expected = rendered_rules(target.render)
    assert sorted(without_empty(on_server), key=lambda r: r["ID"]) == expected
    # The translation itself: one rule per kind, selected by the kind tag, both expiries set;
    # and one bucket-wide rule that only removes delete markers left with no version behind.
    by_kind = [rule for rule in expected if "Tag" in rule.get("Filter", {})]
    assert len(by_kind) == 2
    assert all(
        rule["Filter"]["Tag"]["Key"] == "kind"
        and rule["Expiration"]["Days"] > 0
        and rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
        for rule in by_kind
    )
    (markers,) = [rule for rule in expected if rule not in by_kind]
    assert markers["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    # (without_empty drops its empty Prefix filter: the whole bucket.)
    assert not markers.get("Filter") and "NoncurrentVersionExpiration" not in markers


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
