"""The takeover, end to end on the embedded endpoint: the specification's hand-made server ->
survey -> provisioning the adopting render (imports, never creates) -> tag-existing -> the
handover to a stack-managed service account -> the old key refused, the new key passes ``check``.

Embedded endpoint only (the hand-made state is built through moto's backend; the provisioner
stands in for ``pulumi up``).
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from botocore.exceptions import ClientError

from devtools import takeover_demo
from devtools.embedded_s3 import ADMIN_USER, Credentials, EmbeddedS3
from devtools.engine_workspace import admin_env
from devtools.handmade import HandMadeState, build_handmade
from devtools.provision import ProvisionError, provision_embedded, replace
from infra import takeover
from infra.config import full_key
from infra.render import render_stack
from tests.integration.test_takeover_tools import argv, tags
from voice_recordings import KIND_TAG_KEY, MinioUploader, cli, parse_key
from voice_recordings.settings import Env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

STACK = "prod"


def adopting(console_key: str | None, **extra: str) -> dict[str, Any]:
    """The prod render adopting the hand-made storage (and the console's account, if given)."""
    overrides = {full_key("adoptExisting"): "true", **{full_key(k): v for k, v in extra.items()}}
    if console_key:
        overrides[full_key("adoptServiceAccount")] = console_key
    return render_stack(STACK, overrides)


def config_of(render: dict[str, Any], key: str) -> str:
    return str(render["config"][full_key(key)])


def error_code(call: Any) -> str | None:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def check(endpoint: EmbeddedS3, keys: Credentials, bucket: str, spool: Path) -> tuple[int, str]:
    """``voice-recordings check`` as the Voice AI with ``keys``."""
    out = io.StringIO()
    env = {**endpoint.env(keys, bucket), Env.SPOOL_DIR: str(spool), Env.MAX_ATTEMPTS: "1"}
    return cli.main(["check"], env, out), out.getvalue()


@pytest.fixture
def handmade(embedded_s3: EmbeddedS3) -> Iterator[HandMadeState]:
    embedded_s3.reset()
    yield build_handmade(embedded_s3)


def test_the_takeover_keeps_every_recording_password_and_key_until_the_handover(
    embedded_s3: EmbeddedS3,
    handmade: HandMadeState,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    admin: S3Client = embedded_s3.s3()
    console = handmade.console_keys
    bucket = handmade.bucket

    # 1. Survey: safe to adopt as configured.
    survey_argv = argv(
        "survey",
        embedded_s3,
        "--json",
        adoptExisting="true",
        adoptServiceAccount=console.access_key,
    )
    assert takeover.cli(survey_argv, admin_env(embedded_s3)) == takeover.EXIT_SAFE
    assert json.loads(capsys.readouterr().out)["objects"]["untagged"] == len(handmade.conforming)

    # 2. `pulumi up` with adoption on: imports, creates versioning, lifecycle and the reader.
    render = adopting(console.access_key)
    stack = provision_embedded(embedded_s3, render)
    uploader_account = config_of(render, "uploaderServiceAccount")
    assert set(stack.imported.values()) == {
        bucket,
        handmade.user,
        handmade.policy,
        f"{handmade.user}/{handmade.policy}",
        console.access_key,
    }
    assert stack.imported_service_accounts == {uploader_account: console.access_key}
    with pytest.raises(ProvisionError, match="imported"):
        stack.credentials(uploader_account)  # its secret is the console's, not the stack's
    assert admin.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = admin.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    wanted = next(r for r in render["resources"] if r["type"].endswith(":IlmPolicy"))
    assert {r["ID"] for r in rules} == {r["id"] for r in wanted["inputs"]["rules"]}

    # The hand-chosen password still works (MinIO users sign with name and password) and is
    # still the user's secret (the provisioner writes a user's secret there).
    listed = embedded_s3.s3(handmade.user_keys).list_objects_v2(Bucket=bucket)
    assert listed["KeyCount"] == len(handmade.objects)
    assert embedded_s3.user_secret(handmade.user) == handmade.user_keys.secret_key

    # The console's key keeps uploading (now tagged: the stack's policy allows tagging).
    voice_ai = MinioUploader(embedded_s3.settings(console, bucket=bucket, max_attempts=1))
    during = voice_ai.upload_audio(b"ID3 during the takeover", call_uuid="during-1", company_id=7)
    assert not during.spooled
    assert tags(embedded_s3, bucket, during.key) == {KIND_TAG_KEY: "voice"}
    old_link = voice_ai.presigned_url(during.key, expires_in=3600)
    assert (
        requests.get(old_link, timeout=10, verify=embedded_s3.ca_bundle or True).status_code == 200
    )

    # Every pre-existing object: same bytes, metadata and content type, read by OmniPlay's
    # reader (created by the stack) and by the old key.
    reader = embedded_s3.s3(stack.credentials(config_of(render, "readerServiceAccount")))
    old_key_client = embedded_s3.s3(console)
    for item in handmade.objects:
        for client in (reader, old_key_client):
            got = client.get_object(Bucket=bucket, Key=item.key)
            assert got["Body"].read() == item.body
            assert got["Metadata"] == item.metadata
            assert got["ContentType"] == item.content_type

    # 3. tag-existing --apply: every conforming object, nothing else.
    tag_argv = argv("tag-existing", embedded_s3, "--json", "--apply")
    assert takeover.cli(tag_argv, admin_env(embedded_s3)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tagged"] == len(handmade.conforming) and report["failed"] == []
    for item in handmade.objects:
        expected = (
            {} if item.key in handmade.nonconforming else {KIND_TAG_KEY: parse_key(item.key).kind}
        )
        assert tags(embedded_s3, bucket, item.key) == expected

    # 4. Handover: unset adoptServiceAccount, `pulumi up --replace` the account: new keys.
    handover = adopting(None)
    new = replace(handover, uploader_account, admin, embedded_s3.iam())
    new_keys = new.credentials(uploader_account)
    assert new_keys.access_key != console.access_key
    # The console's account is retained: the Voice AI keeps working until it runs on the new
    # keys; then `mc admin user svcacct rm` deletes it.
    assert error_code(lambda: old_key_client.head_object(Bucket=bucket, Key=during.key)) is None
    code, output = check(embedded_s3, new_keys, bucket, tmp_path / "spool")
    assert code == 0, output
    embedded_s3.iam().delete_access_key(UserName=handmade.user, AccessKeyId=console.access_key)

    # 5. The old key is refused, links it signed are dead; the new key passes check.
    refused = error_code(lambda: embedded_s3.s3(console).head_object(Bucket=bucket, Key=during.key))
    assert refused in ("403", "InvalidAccessKeyId")
    assert (
        requests.get(old_link, timeout=10, verify=embedded_s3.ca_bundle or True).status_code == 403
    )
    code, output = check(embedded_s3, new_keys, bucket, tmp_path / "spool")
    assert code == 0, output
    voice_ai.close()


def test_importing_into_an_empty_server_fails_on_the_bucket_before_any_identity(
    embedded_s3: EmbeddedS3,
) -> None:
    embedded_s3.reset()
    with pytest.raises(ProvisionError, match=r"import of 'voice-recordings' failed: .*not exist"):
        provision_embedded(embedded_s3, adopting("CONSOLEACCESSKEY1234"))
    users = {u["UserName"] for u in embedded_s3.iam().list_users()["Users"]}
    assert users == {ADMIN_USER}
    assert embedded_s3.iam().list_policies(Scope="Local")["Policies"] == []


def test_importing_a_console_account_that_does_not_exist_fails_naming_it(
    embedded_s3: EmbeddedS3, handmade: HandMadeState
) -> None:
    with pytest.raises(ProvisionError, match=r"import of 'AKIANOSUCHACCOUNT000' failed"):
        provision_embedded(embedded_s3, adopting("AKIANOSUCHACCOUNT000"))
    # The console's real account is untouched and still works.
    assert embedded_s3.s3(handmade.console_keys).list_objects_v2(Bucket=handmade.bucket)["KeyCount"]


def test_make_takeover_demo_runs_the_whole_story(
    embedded_s3: EmbeddedS3, capsys: pytest.CaptureFixture[str]
) -> None:
    assert takeover_demo.main(embedded_s3) == 0
    out = capsys.readouterr().out
    assert "FAILED" not in out
    assert re.search(r"-> (\d+)/\1 checks OK", out)


def test_without_ignoring_the_users_secret_the_import_would_overwrite_the_password(
    embedded_s3: EmbeddedS3, handmade: HandMadeState
) -> None:
    # The proof that the check above can fail: the same render, ignore_changes removed.
    render = copy.deepcopy(adopting(handmade.console_keys.access_key))
    user = next(
        r for r in render["resources"] if r["type"].endswith(":IamUser") and r.get("import")
    )
    user["ignore_changes"] = []
    provision_embedded(embedded_s3, render)
    assert embedded_s3.user_secret(handmade.user) != handmade.user_keys.secret_key
