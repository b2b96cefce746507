"""``make engine`` and ``make provider`` say how far a build is instead of sitting silent for
minutes: ``go build -v``'s modules and packages counted, a line on stderr every few seconds, and
Go's own words when it fails. On a module of a few lines, built for real."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from devtools.engine import go_build

MAIN = 'package main\n\nimport "fmt"\n\nfunc main() {{ fmt.Println("{greeting}") }}\n'


def tiny_module(directory: Path, source: str) -> Path:
    directory.mkdir()
    (directory / "go.mod").write_text("module example.com/tiny\n\ngo 1.26\n")
    (directory / "main.go").write_text(source)
    return directory


def test_a_build_reports_its_progress_on_stderr_and_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(go_build, "PROGRESS_EVERY", 0.01)  # a line each 10 ms: some will show
    # Source Go has never compiled (a new greeting), so its package is compiled, not cached.
    module = tiny_module(tmp_path / "tiny", MAIN.format(greeting=uuid.uuid4().hex))
    target = tmp_path / "cache" / "built"
    built = go_build.build_into(target, module, [(".", "tiny")])
    assert (target / "tiny").is_file()
    assert built.packages >= 1 and built.modules == 0  # the standard library is no module
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is the caller's (the build's directory)
    lines = captured.err.splitlines()
    assert lines and all(
        re.fullmatch(r"  \.\.\. \d+ s: \d+ Go modules downloaded, \d+ packages compiled", line)
        for line in lines
    ), lines
    assert re.fullmatch(r"\d+ s: 0 Go modules downloaded, [1-9]\d* packages compiled", built.line())


def test_a_failed_build_raises_with_gos_own_words_and_leaves_no_build(tmp_path: Path) -> None:
    module = tiny_module(tmp_path / "broken", "package main\n\nfunc main() {\n")
    target = tmp_path / "cache" / "built"
    with pytest.raises(go_build.GoBuildError, match=r"go build -v -trimpath .* failed:\n") as e:
        go_build.build_into(target, module, [(".", "broken")])
    assert "syntax error" in str(e.value) or "expected" in str(e.value), e.value
    assert not target.exists() and list(target.parent.iterdir()) == []
