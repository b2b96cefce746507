"""Where each piece of documentation lives, for the tests that check it against the code.

One definition: a test that reads a document names it by the constant below and the heading of
its section, so moving a text means changing this file (and the doc), not every test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
README: Final = REPO / "README.md"
DOCS_DIR: Final = REPO / "docs"
RUNTIME: Final = DOCS_DIR / "runtime.md"  # the package for the Voice AI service
OPERATING: Final = DOCS_DIR / "operating.md"  # deploy, takeover, review, workflows
DEVELOPING: Final = DOCS_DIR / "developing.md"  # tests, embedded endpoint, benchmarks, renders

_HEADING: Final = re.compile(r"(#{1,6}) (.+)")
_FENCE: Final = re.compile(r"\s*(```|~~~)")


def read(doc: Path) -> str:
    """The whole text of ``doc``."""
    return doc.read_text(encoding="utf-8")


def headings(doc: Path) -> list[tuple[int, str]]:
    """``(level, title)`` of every heading in ``doc``, outside fenced code (where ``# ...`` is a
    shell comment, not a heading)."""
    found: list[tuple[int, str]] = []
    fenced = False
    for line in read(doc).splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := _HEADING.fullmatch(line)):
            found.append((len(match.group(1)), match.group(2).strip()))
    return found


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
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]
