"""`make takeover-demo`: the takeover of the hand-made storage, on one machine.

1. The specification's hand-made server (:mod:`devtools.endpoint.handmade`): bucket, user with a
   chosen password, the specification's policy, the console's service account, old recordings
   without the ``kind`` tag, and an anonymous-read bucket policy someone set for the public-URL
   flow.
2. Survey (``python -m infra.takeover survey``): the anonymous policy needs a decision (exit 1).
   The demo decides "go private" (``mc anonymous set none``): a public link stops playing.
   Surveyed again: safe (exit 0).
3. ``pulumi up`` of ``prod`` with adoption on, by the real engine (``make engine``) in a
   throwaway workspace, the endpoint's admin as MINIO_USER/MINIO_PASSWORD: its plan imports the
   hand-made objects and creates only what is missing. The password, the console's key and every
   old recording still work, bytes and metadata equal.
4. ``tag-existing`` (dry run, ``--apply``, and again: nothing to do).
5. The handover, as the runbook in docs/operating.md does it: ``pulumi config rm
   voice-recordings:adoptServiceAccount``, ``pulumi up --replace`` of the account, the new keys
   from ``pulumi stack output voice_ai_env``; ``voice-recordings check`` passes with them; the
   console's account is deleted: its key and the links it signed are refused.
6. A report. Exit status 0 only when every check held; the endpoint is stopped.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import requests

from devtools.demos.checks import Checks, error_code, short_type
from devtools.endpoint.embedded_s3 import Credentials, EmbeddedS3
from devtools.endpoint.handmade import build_handmade, stack_config_for
from devtools.engine import pulumi_cli
from devtools.engine.workspace import (
    EngineWorkspace,
    admin_env,
    block_settings,
    embedded_stack_config,
)
from infra import takeover
from infra.config import full_key
from voice_recordings import KIND_TAG_KEY, MinioUploader, cli
from voice_recordings.settings import Env

STACK = "prod"


def run_takeover(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``python -m infra.takeover ARGV`` in this process: (exit status, standard output)."""
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        code = takeover.cli(argv, env)
    return code, out.getvalue()


def plan(workspace: EngineWorkspace) -> dict[str, list[str]]:
    """``pulumi preview --json``: resource names by the operation planned for them."""
    ops: dict[str, list[str]] = {}
    for step in workspace.run("preview", "-s", STACK, "--json").json()["steps"]:
        ops.setdefault(step["op"], []).append(step["urn"].rsplit("::", 1)[-1])
    return ops


def main(running: EmbeddedS3 | None = None) -> int:
    """Run the takeover demo; exit status 0 when every check held.

    ``running``: an endpoint already running in this process (moto allows one per process),
    reset and used instead of starting one (the tests pass theirs).
    """
    engine_dir = (
        pulumi_cli.build()
    )  # `make takeover-demo` built it already: then this only finds it
    if running is not None:
        running.reset()
        return story(running, engine_dir)
    with EmbeddedS3(authentication=True) as endpoint:
        return story(endpoint, engine_dir)


def story(endpoint: EmbeddedS3, engine_dir: Path) -> int:
    """The takeover on ``endpoint`` (an empty, running one) by the engine in ``engine_dir``,
    then the report."""
    check = Checks()
    trust: str | bool = endpoint.ca_bundle or True  # the endpoint's throwaway CA, under TLS
    with tempfile.TemporaryDirectory() as spool, tempfile.TemporaryDirectory() as root:
        print(f"Embedded S3+IAM endpoint on {endpoint.endpoint_url} (authentication on)\n")
        hand = build_handmade(endpoint, anonymous_read=True)
        bucket, console = hand.bucket, hand.console_keys
        admin = endpoint.s3()
        print("The hand-made server (the specification's mc and console steps):")
        print(f"  bucket {bucket}, user {hand.user} (chosen password), policy {hand.policy}")
        print(f"  console service account {console.access_key} (the Voice AI's keys)")
        print(
            f"  {len(hand.objects)} objects from the old uploader, no kind tag; anyone may read "
            f"(mc anonymous set download)\n"
        )

        env = admin_env(endpoint)
        adopt = {
            full_key("adoptExisting"): "true",
            full_key("adoptServiceAccount"): console.access_key,
        }
        flags = [
            f"--config={key}={value}"
            for key, value in {**stack_config_for(endpoint), **adopt}.items()
        ]
        public_link = f"{endpoint.endpoint_url}/{bucket}/{hand.conforming[0].key}"

        print("1. Survey (read only):")
        code, report = run_takeover(["survey", "--stack", STACK, *flags], env)
        print("   " + report.replace("\n", "\n   ").rstrip())
        check("the survey asks for a decision on the anonymous policy (exit 1)", code == 1)
        print("   Decision: go private (mc anonymous set none omniplay/voice-recordings)")
        check("a public link played before", requests.get(public_link, timeout=10, verify=trust).ok)
        admin.delete_bucket_policy(Bucket=bucket)
        check(
            "the public link stops playing (as the survey said)",
            requests.get(public_link, timeout=10, verify=trust).status_code == 403,
        )
        code, _ = run_takeover(["survey", "--stack", STACK, *flags], env)
        check("surveyed again: adoption is safe (exit 0)", code == 0)

        print("\n2. pulumi up with adoption on (the real engine):")
        workspace = EngineWorkspace(engine_dir, Path(root), env=env)
        workspace.init_stack(STACK, {**embedded_stack_config(endpoint), **adopt})
        ops = plan(workspace)
        for op in ("import", "create"):
            print(f"   {op:7} {', '.join(sorted(ops.get(op, [])))}")
        check(
            "the plan imports the bucket, user, policy, attachment and console account",
            len(ops.get("import", [])) == 5,
        )
        workspace.run("up", "-s", STACK, "--yes", "--skip-preview")
        resources = workspace.export(STACK)["deployment"]["resources"]
        imported = sorted(short_type(r["type"]) for r in resources if r.get("importID"))
        print(f"   $ pulumi up -s {STACK} --yes: imported {', '.join(imported)}")
        # The account the stack imported: the runbook's `pulumi up --replace` names its URN.
        (console_urn,) = [r["urn"] for r in resources if r.get("importID") == console.access_key]
        listed = endpoint.s3(hand.user_keys).list_objects_v2(Bucket=bucket)
        check("the user's hand-chosen password still works", listed["KeyCount"] > 0)
        voice_ai = MinioUploader(endpoint.settings(console, bucket=bucket, max_attempts=1))
        during = voice_ai.upload_audio(
            b"ID3 a call during the takeover", call_uuid="c1", company_id=7
        )
        check("the console's key keeps uploading", not during.spooled)
        old_link = voice_ai.presigned_url(during.key, expires_in=3600)
        same = all(
            (got := admin.get_object(Bucket=bucket, Key=o.key))["Body"].read() == o.body
            and got["Metadata"] == o.metadata
            for o in hand.objects
        )
        check("every old object: same bytes and metadata", same)

        print("\n3. tag-existing:")
        for extra in ([], ["--apply"], ["--apply"]):
            code, out = run_takeover(
                ["tag-existing", "--stack", STACK, *flags, *extra, "--json"], env
            )
            summary = json.loads(out)
            print(
                f"   {' '.join(['tag-existing', *extra]):22} to tag {summary['to_tag']}, tagged "
                f"{summary['tagged']}, already tagged {summary['already_tagged']}, skipped "
                f"{summary['nonconforming']} outside the layout"
            )
        check("the second --apply finds nothing to do", summary["tagged"] == 0)
        tagged = [
            admin.get_object_tagging(Bucket=bucket, Key=o.key)["TagSet"] for o in hand.conforming
        ]
        check(
            "every recording and transcript carries its kind tag",
            all(any(t["Key"] == KIND_TAG_KEY for t in tags) for tags in tagged),
        )

        print("\n4. The handover:")
        workspace.run("config", "rm", "-s", STACK, full_key("adoptServiceAccount"))
        workspace.run("up", "-s", STACK, "--yes", "--skip-preview", "--replace", console_urn)
        block = workspace.run("stack", "output", "-s", STACK, "voice_ai_env", "--show-secrets")
        handed = block_settings(block.stdout, endpoint.ca_bundle)
        new_keys = Credentials(handed.access_key, handed.secret_key)
        print(f"   new service account {new_keys.access_key} -> the Voice AI's voice_ai_env")
        check("the stack handed out keys of its own", new_keys.access_key != console.access_key)
        check_out = io.StringIO()
        check_env = {**endpoint.env(new_keys, bucket), Env.SPOOL_DIR: spool}
        code = cli.main(["check"], check_env, check_out)
        print("   " + check_out.getvalue().replace("\n", "\n   ").rstrip())
        check("voice-recordings check passes with the new keys", code == 0)
        endpoint.iam().delete_access_key(UserName=hand.user, AccessKeyId=console.access_key)
        print(f"   mc admin user svcacct rm omniplay {console.access_key}")
        refused = error_code(lambda: endpoint.s3(console).list_objects_v2(Bucket=bucket))
        check("the console's key is refused", refused is not None)
        check(
            "a link it signed is dead",
            requests.get(old_link, timeout=10, verify=trust).status_code == 403,
        )
        voice_ai.close()
    passed = sum(ok for _, ok in check.results)
    print(f"\nReport: takeover of the hand-made storage -> {passed}/{len(check.results)} checks OK")
    for name, ok in check.results:
        print(f"  {'OK    ' if ok else 'FAILED'} {name}")
    return 0 if check.all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
