"""Four changes the guardrails must refuse, each made once, for the engine and for a render.

The program cannot be talked into them through stack config (its config refuses public
recordings without the acknowledgement; a policy file, the lifecycle's rules and ``protect`` are
not config), so under the engine they are made by :data:`VARIANT_PROGRAM`: the real program
(``infra.program.main``) with a Pulumi resource transform that edits the one resource, or, for
public recordings, with the program's own public bucket policy added. The same edit applied to a
render (:func:`apply_to_render`) is the same change for the offline runner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from infra import render_format
from voice_recordings.permissions import objects_arn
from voice_recordings.settings import DEFAULT_BUCKET

# The variant program reads which change to make from this variable.
VIOLATION_ENV: Final = "GUARDRAILS_TEST_VIOLATION"
PUBLIC_POLICY_NAME: Final = "public-recordings-policy"  # infra/storage.py's logical name

# (type, logical name, inputs with wire names, options {"protect": bool}) -> edited in place.
Edit = Callable[[str, str, dict[str, Any], dict[str, Any]], None]


@dataclass(frozen=True)
class Change:
    """One change and the guardrail that must refuse it."""

    id: str
    rule: str
    edit: Edit | None = None  # None: the change adds the public bucket policy instead
    # Other mandatory rules the same change rightly breaks (no transcript expiry: the `check`
    # probe, a transcript, expires no more either).
    also: frozenset[str] = frozenset()

    @property
    def rules(self) -> frozenset[str]:
        """Every mandatory rule the change must break: :attr:`rule` and :attr:`also`."""
        return frozenset({self.rule, *self.also})


def _widen_uploader(type_: str, name: str, inputs: dict[str, Any], _: dict[str, Any]) -> None:
    if type_ != render_format.IAM_POLICY or name != "uploader-policy":
        return
    document = inputs["policy"]
    parsed = json.loads(document) if isinstance(document, str) else document
    parsed["Statement"].append(
        {
            "Sid": "AlsoDelete",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject"],
            "Resource": [objects_arn(DEFAULT_BUCKET)],
        }
    )
    inputs["policy"] = json.dumps(parsed) if isinstance(document, str) else parsed


def _drop_transcript_expiry(type_: str, _: str, inputs: dict[str, Any], __: dict[str, Any]) -> None:
    if type_ == render_format.LIFECYCLE:
        inputs["rules"] = [
            r for r in inputs["rules"] if (r.get("tags") or {}).get("kind") != "transcript"
        ]


def _unprotect_bucket(type_: str, _: str, __: dict[str, Any], options: dict[str, Any]) -> None:
    if type_ == render_format.BUCKET:
        options["protect"] = False


CHANGES: Final = (
    Change("widened-uploader", "iam-least-privilege", _widen_uploader),
    Change("public-without-acknowledgement", "no-anonymous-access"),
    Change(
        "lifecycle-without-transcript-expiry",
        "lifecycle-per-kind",
        _drop_transcript_expiry,
        also=frozenset({"lifecycle-probe-expires"}),
    ),
    Change("bucket-not-protected", "bucket-protected", _unprotect_bucket),
)
BY_ID: Final = {change.id: change for change in CHANGES}


def apply_to_render(change: Change, render: dict[str, Any]) -> None:
    """Make ``change`` in a render (of a stack with public recordings off)."""
    if change.edit is None:
        raise ValueError(f"{change.id} adds a resource: render the public stack instead")
    for item in render["resources"]:
        options = {"protect": item["protect"]}
        change.edit(item["type"], item["name"], item["inputs"], options)
        item["protect"] = options["protect"]


def apply_to_program() -> None:
    """Inside the variant program: make the change named by VIOLATION_ENV, then run the real
    program (``infra.program.main``)."""
    import pulumi
    import pulumi_minio as minio

    from infra.policies import PUBLIC_RECORDINGS_POLICY, policy_json
    from infra.program import main

    change = BY_ID[os.environ[VIOLATION_ENV]]
    edit = change.edit
    if edit is not None:

        def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
            props = dict(args.props)
            options = {"protect": bool(args.opts.protect)}
            assert edit is not None
            edit(args.type_, args.name, props, options)
            opts = pulumi.ResourceOptions.merge(
                args.opts, pulumi.ResourceOptions(protect=options["protect"])
            )
            return pulumi.ResourceTransformResult(props=props, opts=opts)

        pulumi.runtime.register_resource_transform(transform)
    storage = main()
    if edit is None:
        # What infra/storage.py registers when public recordings are on and acknowledged.
        minio.S3BucketPolicy(
            PUBLIC_POLICY_NAME,
            bucket=storage.bucket.bucket,
            policy=policy_json(PUBLIC_RECORDINGS_POLICY, DEFAULT_BUCKET),
            opts=pulumi.ResourceOptions(
                parent=storage, provider=storage.admin_provider, depends_on=[storage.bucket]
            ),
        )


# The variant program's __main__.py (written into a workspace; {repository} filled in).
VARIANT_PROGRAM: Final = '''"""Test only: the real program with one guardrail violation."""
import sys

sys.path.insert(0, {repository!r})

from tests.engine.violations import apply_to_program

apply_to_program()
'''
