"""``make takeover-demo`` end to end: ``devtools.demos.takeover`` takes over the specification's
hand-made storage with the real engine (survey, decision, ``pulumi up`` importing it, tagging,
the handover by ``pulumi up --replace``) and exits 0 only when every check held. It runs in this
process on the session's endpoint (reset first), since the hand-made state is built through
moto's backend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.demos import takeover
from devtools.endpoint.embedded_s3 import EmbeddedS3

# The checks the demo's story promises, each reported OK.
PROMISED = (
    "the survey asks for a decision on the anonymous policy (exit 1)",
    "the public link stops playing (as the survey said)",
    "the plan imports the bucket, user, policy, attachment and console account",
    "the user's hand-chosen password still works",
    "the console's key keeps uploading",
    "every old object: same bytes and metadata",
    "every recording and transcript carries its kind tag",
    "the stack handed out keys of its own",
    "voice-recordings check passes with the new keys",
    "the console's key is refused",
    "a link it signed is dead",
)


def test_make_takeover_demo_runs_the_whole_story(
    embedded_s3: EmbeddedS3, engine_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert takeover.main(embedded_s3) == 0
    out = capsys.readouterr().out
    assert "FAILED" not in out
    assert re.search(r"-> (\d+)/\1 checks OK", out)
    summary = out.split("\nReport: ", 1)[1]
    for name in PROMISED:
        assert f"OK     {name}" in summary
