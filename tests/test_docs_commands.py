"""Every command of the docs runs as written, in the sandbox (docs/try-it-locally.md).

The sandbox starts as ``make sandbox`` starts it (``python -m devtools.sandbox``, here in a
directory of this module's own), and its tour runs as a person runs it: each part of
try-it-locally.md (``## A shell on prod``, ``## A shell on dev``) is one bash shell that
sources the ``env.sh`` the sandbox wrote, the two at once. A part runs, in its order, its own
```bash blocks and those of every section named in a paragraph that begins "Run, as written:"
(the blocks right under that heading, not its subsections). The conventions the docs follow:

- a ```bash block runs in the sandbox, unless its fence says ``no-sandbox: <why>``;
- every ```bash block of operating.md and runtime.md is run by the tour or marked: one that is
  neither fails :func:`test_every_bash_block_is_run_by_the_tour_or_marked`;
- ``<name>`` is a placeholder: here the value ``sandbox placeholder name`` prints;
- the one answer a person types, yes to ``pulumi up``'s question, is
  ``PULUMI_SKIP_CONFIRMATIONS=true``.

Each shell runs with ``set -e``: a command that fails fails the test, naming its block. After
the tour the clone is as it was (``git status``), none of the files the commands write is in it,
a second sandbox in the same place says one runs there, and Ctrl-C stops the sandbox with one
line and exit 130, leaving none of its processes and no directory.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import pytest

from devtools.engine import minio_plugin
from devtools.sandbox.run import EXIT_INTERRUPTED
from devtools.sandbox.shell import ENV_FILE
from tests.docs import (
    DOCS_DIR,
    OPERATING,
    REPO,
    RUNTIME,
    TRY_IT_LOCALLY,
    BashBlock,
    bash_blocks,
    heading_lines,
    own_lines,
    read,
)

PARTS: Final = ("A shell on prod", "A shell on dev")
CHECKED: Final = (OPERATING, RUNTIME)  # every bash block of these: run by the tour or marked
NO_SANDBOX: Final = "no-sandbox:"
RUN_AS_WRITTEN: Final = "Run, as written:"
SECTION_LINK: Final = re.compile(r"\[[^\]]*\]\(([\w.-]+\.md)#([\w-]+)\)")
PLACEHOLDER: Final = re.compile(r"<([a-z][a-z0-9-]*)>")
READY: Final = "Sandbox ready"
STARTUP: Final = 300.0  # a cold sandbox: two endpoints, `pulumi up` of dev
TOUR_TIMEOUT: Final = 600.0
# What the commands write, by the names the docs give them: never in the clone.
WRITTEN: Final = (
    "voice-ai.env",
    "omniplay.env",
    "steward.env",
    "call.mp3",
    "replay.prom",
    "erasure-5-abc-123.jsonl",
    "export-abc-123",
)


# -- the tour, read from the docs ---------------------------------------------------------------


def _part_lines(title: str) -> tuple[int, int]:
    found = heading_lines(TRY_IT_LOCALLY)
    for index, (number, level, heading) in enumerate(found):
        if heading == title:
            later = [n for n, lvl, _ in found[index + 1 :] if lvl <= level]
            return number + 1, later[0] if later else len(read(TRY_IT_LOCALLY).splitlines())
    raise AssertionError(f"no heading {title!r} in docs/try-it-locally.md")


def _paragraphs(lines: list[str], start: int, end: int) -> Iterator[tuple[int, str]]:
    """``(first line, text)`` of each paragraph outside fences in ``lines[start:end]``."""
    number = start
    while number < end:
        if lines[number].startswith("```"):
            number = lines.index("```", number + 1) + 1
            continue
        if not lines[number].strip():
            number += 1
            continue
        first = number
        while number < end and lines[number].strip() and not lines[number].startswith("```"):
            number += 1
        yield first, "\n".join(lines[first:number])


def tour(title: str) -> list[BashBlock]:
    """The blocks the part ``title`` of the tour runs, in order (marked ones included)."""
    start, end = _part_lines(title)
    lines = read(TRY_IT_LOCALLY).splitlines()
    steps: list[tuple[int, list[BashBlock]]] = [
        (block.line, [block]) for block in bash_blocks(TRY_IT_LOCALLY, start, end)
    ]
    for first, text in _paragraphs(lines, start, end):
        if text.startswith(RUN_AS_WRITTEN):
            for name, anchor in SECTION_LINK.findall(text):
                doc = DOCS_DIR / name
                steps.append((first + 1, bash_blocks(doc, *own_lines(doc, anchor))))
    return [block for _, blocks in sorted(steps, key=lambda step: step[0]) for block in blocks]


def runs(block: BashBlock) -> bool:
    """Whether the tour runs ``block`` (its fence does not say ``no-sandbox``)."""
    return not block.info.startswith(NO_SANDBOX)


def script(env_file: Path, blocks: list[BashBlock]) -> str:
    """The shell script of a part: the sandbox's environment, then each block, as written but
    for its placeholders."""
    lines = [
        "set -eo pipefail",
        "trap 'echo \"FAILED (exit $?): $BASH_COMMAND\" >&2' ERR",
        f". {env_file}",
        "export PULUMI_SKIP_CONFIRMATIONS=true  # the person's yes to pulumi up",
    ]
    for block in blocks:
        if runs(block):
            lines.append(f'echo "### {block.where} $SECONDS" >&2')
            lines.append(PLACEHOLDER.sub(r'"$(sandbox placeholder \1)"', block.text))
    return "\n".join(lines) + "\n"


# -- the sandbox, started as `make sandbox` starts it ---------------------------------------------


def _person_env() -> dict[str, str]:
    """This environment without what the sandbox's env.sh sets (a person's fresh shell)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MINIO_", "PULUMI_", "AWS_")) and k not in ("VIRTUAL_ENV", "SANDBOX")
    }


def _drain(stream: IO[str], into: queue.Queue[str], kept: list[str]) -> None:
    for line in stream:
        kept.append(line)
        into.put(line)


@dataclass
class RunningSandbox:
    """A ``python -m devtools.sandbox`` child: its directory and what it printed."""

    process: subprocess.Popen[str]
    directory: Path
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def children(self) -> list[int]:
        """The process ids whose parent is the sandbox (its endpoints)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found


def start_sandbox(directory: Path) -> RunningSandbox:
    """Start the sandbox in ``directory`` and wait until it says it is ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.sandbox", "--dir", str(directory)],
        cwd=REPO,
        env=_person_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = RunningSandbox(process, directory)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None and process.stderr is not None
    for stream, kept in ((process.stdout, running.stdout), (process.stderr, running.stderr)):
        threading.Thread(target=_drain, args=(stream, lines, kept), daemon=True).start()
    deadline = time.monotonic() + STARTUP
    while not any(line.startswith(READY) for line in running.stdout):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the sandbox did not start:\n{''.join(running.stdout + running.stderr)}")
        with contextlib.suppress(queue.Empty):
            lines.get(timeout=1)
    return running


def git_status() -> str:
    """``git status --porcelain`` of the clone, untracked files listed one by one."""
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def clone_before() -> str:
    """The clone's status before the sandbox starts."""
    return git_status()


@pytest.fixture(scope="module")
def sandbox(
    clone_before: str, engine_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSandbox]:
    """The module's sandbox (stopped at the end if a test did not stop it)."""
    if minio_plugin.locate() is None:
        pytest.fail("the minio plugin is not built: run `make provider` (make test does it first)")
    running = start_sandbox(tmp_path_factory.mktemp("sandbox") / "place")
    yield running
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)
        running.process.wait(timeout=60)


# -- the tests ------------------------------------------------------------------------------------


def test_every_bash_block_is_run_by_the_tour_or_marked() -> None:
    toured = {(b.doc, b.line) for part in PARTS for b in tour(part)}
    for doc in CHECKED:
        for block in bash_blocks(doc):
            if runs(block):
                assert (doc, block.line) in toured, (
                    f"{block.where} is neither run by docs/try-it-locally.md's tour (name its "
                    f'section in a "{RUN_AS_WRITTEN}" paragraph) nor marked ```bash '
                    f"{NO_SANDBOX} <why>"
                )
            else:
                assert block.info.removeprefix(NO_SANDBOX).strip(), f"{block.where}: say why"
    for block in bash_blocks(TRY_IT_LOCALLY):
        assert runs(block), f"{block.where}: the tour's own commands run in the sandbox"
        assert (TRY_IT_LOCALLY, block.line) in toured, f"{block.where} is in no part of the tour"


def test_the_docs_commands_run_as_written_in_the_sandbox(
    sandbox: RunningSandbox, clone_before: str, tmp_path: Path
) -> None:
    env_file = sandbox.directory / ENV_FILE
    started = time.monotonic()
    shells = {}
    for number, part in enumerate(PARTS):
        path = tmp_path / f"part-{number}.sh"
        path.write_text(script(env_file, tour(part)), encoding="utf-8")
        log = (tmp_path / f"part-{number}.log").open("w", encoding="utf-8")
        process = subprocess.Popen(
            ["bash", str(path)], env=_person_env(), stdout=log, stderr=subprocess.STDOUT
        )
        shells[part] = (process, tmp_path / f"part-{number}.log")
    try:
        for part, (process, log_path) in shells.items():
            code = process.wait(timeout=TOUR_TIMEOUT)
            output = log_path.read_text(encoding="utf-8")
            assert code == 0, f"{part}: a command failed (the last block named):\n{output[-6000:]}"
    finally:
        for process, _ in shells.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    print(f"the tour ran in {time.monotonic() - started:.1f} s")
    assert git_status() == clone_before, "the tour changed the clone"
    leaked = [name for name in WRITTEN if (REPO / name).exists()]
    assert not leaked, f"the tour wrote into the clone: {leaked}"


def test_a_second_sandbox_in_the_same_place_says_one_runs_there(sandbox: RunningSandbox) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "devtools.sandbox", "--dir", str(sandbox.directory)],
        cwd=REPO,
        env=_person_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1
    assert f"a sandbox is already running in {sandbox.directory}" in second.stderr
    assert f"(pid {sandbox.process.pid})" in second.stderr
    assert sandbox.process.poll() is None, "the first one runs on"


def test_ctrl_c_stops_everything_with_one_line(sandbox: RunningSandbox) -> None:
    children = sandbox.children()
    assert len(children) == 2, "one endpoint per stack"
    printed = len(sandbox.stderr)
    sandbox.process.send_signal(signal.SIGINT)
    assert sandbox.process.wait(timeout=60) == EXIT_INTERRUPTED
    time.sleep(0.2)  # the drain thread's last lines
    said = [line for line in sandbox.stderr[printed:] if line.strip()]
    assert len(said) == 1 and said[0].startswith("sandbox stopped"), said
    for pid in children:
        assert not Path(f"/proc/{pid}").exists(), f"endpoint {pid} still runs"
    assert not sandbox.directory.exists()
