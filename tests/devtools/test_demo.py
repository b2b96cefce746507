"""``make demo`` end to end: ``python -m devtools.demos.deploy`` runs ``pulumi up`` of the dev
stack with the real engine on its own embedded endpoint, uploads, plays and checks least
privilege as the identities the stack made, and exits 0 only when every check held. It runs in a
child process, as ``make demo`` does: it starts its own endpoint, and moto keeps one state per
process (the session's endpoint already holds this one's)."""

from __future__ import annotations

import os
import re
import subprocess

from devtools.demos.deploy import STACK
from devtools.engine.pulumi_cli import pinned_version
from infra.render import snapshot_path
from policies.guardrails.offline import load_render
from tests.support import ROOT, run_python

# The checks the demo's story promises (its docstring's steps 3 to 5), each reported OK.
PROMISED = (
    "the Voice AI identity sees the bucket",
    "recording and transcript stored",
    "played through the reader's presigned URL, bytes identical to the upload",
    "over TLS: a client without the CA refuses the certificate",
    "the uploader may not delete (AccessDenied)",
    "the recording is still there",
    "no anonymous reads (the bucket is private by default)",
    "the observer reads what a refresh reads",
    "the observer changes nothing and reads no recording (AccessDenied)",
)


def test_make_demo_runs_the_whole_story_and_every_check_holds() -> None:
    # run_python fails the test unless the module exits 0 (every check held).
    out = run_python("import runpy; runpy.run_module('devtools.demos.deploy', run_name='__main__')")
    report = re.search(
        r"pulumi up '(\w+)' \((v[0-9.]+)\) -> (\d+) resources made -> (\d+)/(\d+) checks OK", out
    )
    assert report, out
    stack, version, resources = report[1], report[2], int(report[3])
    passed, total = int(report[4]), int(report[5])
    assert (stack, version) == (STACK, pinned_version())
    assert "provider: minio 0.17.1, pulumi-terraform-bridge v3.135.0 over our Terraform" in out
    # Everything the committed render of the stack asks for was made, and the default provider
    # the engine registers for pulumi-random (the program gives random no explicit provider).
    assert resources == len(load_render(snapshot_path(STACK))["resources"]) + 1
    assert f"+ {resources} created" in out  # pulumi up's own summary, shown as it ran
    assert passed == total == len(PROMISED)
    summary = out.split("\nReport: ", 1)[1]
    for name in PROMISED:
        assert f"OK     {name}" in summary
    assert "FAILED" not in out
    assert "Embedded endpoint stopped." in out


def test_make_demo_says_what_its_first_minutes_do() -> None:
    """On a fresh clone (``-B``: every target out of date), each slow step is announced before
    it runs: the quiet pip install by a line of its own, the Go builds by the modules that do
    them (:mod:`devtools.engine.go_build`, tested in test_go_build.py), on stderr, so that their
    stdout, the build's directory, can go to /dev/null."""
    # As from a shell: not a sub-make of `make test` (whose flags and directory lines differ).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    dry = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    pip = next(n for n, line in enumerate(dry) if "pip install" in line)
    said = [line for line in dry[:pip] if line.startswith("echo ")]
    assert len(said) == 1 and "Installing the Python packages" in said[0], dry
    assert "first time: about" in said[0]
    for module in ("devtools.engine", "devtools.engine.minio_plugin"):
        runs = [line for line in dry if f"-m {module} " in line]  # not a module inside it
        assert runs and all(line.endswith(f"-m {module} > /dev/null") for line in runs), runs
    assert dry[-1].endswith("-m devtools.demos.deploy")
