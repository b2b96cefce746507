"""Where each piece of documentation lives, for the tests that check it against the code.

One definition: a test that reads a document names it by the constant below and the heading of
its section, so moving a text means changing this file (and the doc), not every test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
README: Final = REPO / "README.md"
DOCS_DIR: Final = REPO / "docs"
RUNTIME: Final = DOCS_DIR / "runtime.md"  # the package for the Voice AI service
OPERATING: Final = DOCS_DIR / "operating.md"  # deploy, takeover, review, workflows
DEVELOPING: Final = DOCS_DIR / "developing.md"  # tests, embedded endpoint, benchmarks, renders
TRY_IT_LOCALLY: Final = DOCS_DIR / "try-it-locally.md"  # the sandbox's tour

_HEADING: Final = re.compile(r"(#{1,6}) (.+)")
_FENCE: Final = re.compile(r"\s*(```|~~~)")


def read(doc: Path) -> str:
    """The whole text of ``doc``."""
    return doc.read_text(encoding="utf-8")


def headings(doc: Path) -> list[tuple[int, str]]:
    """``(level, title)`` of every heading in ``doc``, outside fenced code (where ``# ...`` is a
    shell comment, not a heading)."""
    return [(level, title) for _line, level, title in heading_lines(doc)]


def section(doc: Path, title: str) -> str:
    """The text under the heading ``title`` of ``doc`` (its heading line excluded), up to the next
    heading of the same or a higher level (subsections included). Fails naming the title and the
    file when there is no such heading, so a renamed section is found at once."""
    lines = read(doc).splitlines(keepends=True)
    fenced = False
    level = 0
    start = end = -1
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.fullmatch(line.rstrip("\n"))
        if match is None:
            continue
        if start < 0 and match.group(2).strip() == title:
            level, start = len(match.group(1)), number + 1
        elif start >= 0 and len(match.group(1)) <= level:
            end = number
            break
    if start < 0:
        raise AssertionError(f"no heading {title!r} in {doc.relative_to(REPO)}")
    return "".join(lines[start : end if end >= 0 else len(lines)])


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in ``text``, each as its stripped cells (header rows
    and ``|---|`` separators left out; ``\\|`` inside a cell is a literal bar)."""
    rows: list[list[str]] = []
    previous_was_table = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            previous_was_table = False
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", stripped)[1:-1]]
        is_separator = all(re.fullmatch(r":?-{3,}:?", c) for c in cells)
        # The first row of a table is its header; the separator follows it.
        if previous_was_table and not is_separator:
            rows.append(cells)
        previous_was_table = True
    return rows


def github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to ``-``."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def bash_commands(text: str) -> list[str]:
    """Every command line of the ```bash blocks of ``text``, in order (comment lines dropped)."""
    return [
        line.strip()
        for block in re.findall(r"```bash[^\n]*\n(.*?)```", text, flags=re.S)
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


@dataclass(frozen=True)
class BashBlock:
    """A ```bash block: where it is, what its fence says after ``bash``, its text."""

    doc: Path
    line: int  # of its opening fence, from 1
    info: str  # the fence after "bash": "" or "no-sandbox: <why>"
    text: str

    @property
    def where(self) -> str:
        """``docs/operating.md:21``."""
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def bash_blocks(doc: Path, start: int = 0, end: int | None = None) -> list[BashBlock]:
    """The ```bash blocks of ``doc`` whose fence is on a line in ``[start, end)`` (0-based)."""
    lines = read(doc).splitlines()
    blocks: list[BashBlock] = []
    number = start
    stop = len(lines) if end is None else end
    while number < stop:
        opening = re.fullmatch(r"```bash(.*)", lines[number])
        if opening is None:
            number += 1
            continue
        closing = lines.index("```", number + 1)
        text = "\n".join(lines[number + 1 : closing]) + "\n"
        blocks.append(BashBlock(doc, number + 1, opening.group(1).strip(), text))
        number = closing + 1
    return blocks


def heading_lines(doc: Path) -> list[tuple[int, int, str]]:
    """``(line, level, title)`` of every heading of ``doc`` outside fenced code (0-based)."""
    found: list[tuple[int, int, str]] = []
    fenced = False
    for number, line in enumerate(read(doc).splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := _HEADING.fullmatch(line)):
            found.append((number, len(match.group(1)), match.group(2).strip()))
    return found


def own_lines(doc: Path, anchor: str) -> tuple[int, int]:
    """The lines ``[start, end)`` of the heading of ``doc`` whose GitHub anchor is ``anchor``,
    up to the next heading of any level (its subsections left out)."""
    found = heading_lines(doc)
    for index, (number, _level, title) in enumerate(found):
        if github_anchor(title) == anchor:
            following = found[index + 1][0] if index + 1 < len(found) else None
            return number + 1, following if following is not None else len(read(doc).splitlines())
    raise AssertionError(f"no heading #{anchor} in {doc.relative_to(REPO)}")
