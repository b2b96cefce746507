"""The docs' reference tables, written from their declarations (``make docs``).

Four tables are the code's, not hand-written copies of it (as terraform-docs writes a module's
inputs and outputs): the ``MINIO_*`` settings (``voice_recordings/settings.py``, ``SETTINGS``),
the stack config keys (``infra/config.py``, ``CONFIG_KEYS``), the stack outputs
(``infra/outputs.py``) and the guardrail rules (``policies/guardrails/rules.py``). Each sits in
its document between two markers::

    <!-- BEGIN GENERATED: settings (make docs) -->
    ...
    <!-- END GENERATED: settings -->

``python -m devtools.docs_tables`` rewrites what is between them; ``--check`` only says which
are stale (``tests/test_docs.py`` fails the same way). Text around the markers is the docs'
own.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from infra.config import CONFIG_KEYS, REQUIRED_KEYS, StackConfig
from infra.outputs import stack_outputs
from policies.guardrails.model import ResourceRule, StackRule
from policies.guardrails.rules import RESOURCE_RULES, STACK_RULES
from voice_recordings.settings import SETTINGS, StorageSettings

REPO: Final = Path(__file__).resolve().parents[1]
DOCS: Final = REPO / "docs"

# Defaults the runtime works out while reading the environment, not a value of the dataclass:
# what the table says instead (StorageSettings.endpoint_url, settings.default_spool_dir).
_DERIVED_SETTINGS: Final = {
    "public_url": "`http(s)://{MINIO_ENDPOINT}`",
    "spool_dir": "`$XDG_STATE_HOME/voice-recordings/spool`",
}
# What the config table's defaults call the endpoint they are made from.
_ENDPOINT_PLACEHOLDER: Final = "<endpoint>"


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell (a bar escaped)."""
    return text.replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    """A default as the tables state it: `true`, `365`, `5`, `voice-recordings`."""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def settings_table() -> str:
    """The ``MINIO_*`` variables, in the order of the settings' fields."""
    by_field = {setting.field: setting for setting in SETTINGS}
    rows = []
    for spec in dataclasses.fields(StorageSettings):
        setting = by_field[spec.name]
        if spec.name in _DERIVED_SETTINGS:
            default = _DERIVED_SETTINGS[spec.name]
        elif spec.default is dataclasses.MISSING:
            default = "(required)"
        elif spec.default is None:
            default = "(unset)"
        else:
            default = _value(spec.default)
        rows.append([f"`{setting.name}`", default, setting.description])
    return _table(["variable", "default", "meaning"], rows)


def config_table() -> str:
    """The stack config keys, in the order ``CONFIG_KEYS`` declares them."""
    defaults = StackConfig(endpoint=_ENDPOINT_PLACEHOLDER)
    rows = []
    for key, declared in CONFIG_KEYS.items():
        value = defaults.value(key)
        if key in REQUIRED_KEYS:
            default = "(required)"
        elif value in ("", {}):
            default = "(empty)"
        else:
            default = _value(value)
        rows.append([f"`{key}`", default, declared.description])
    return _table(["key", "default", "meaning"], rows)


def outputs_table() -> str:
    """Every stack output, whether it is a secret, what it is."""
    rows = [
        [f"`{output.name}`", "yes" if output.secret else "no", output.description]
        for output in stack_outputs()
    ]
    return _table(["output", "secret", "what it is"], rows)


def rules_table() -> str:
    """Every guardrail rule, its level and what it requires (its check's docstring's first
    paragraph), in the order the pack serves them."""
    rules: list[ResourceRule | StackRule] = [*RESOURCE_RULES, *STACK_RULES]
    rows = [[f"`{rule.name}`", rule.level, rule.description] for rule in rules]
    return _table(["rule", "level", "requires"], rows)


@dataclass(frozen=True)
class Block:
    """One generated table: its name in the markers, the document it is in, how it is made."""

    name: str
    doc: Path
    render: Callable[[], str]

    @property
    def begin(self) -> str:
        """Its opening marker."""
        return f"<!-- BEGIN GENERATED: {self.name} (make docs) -->"

    @property
    def end(self) -> str:
        """Its closing marker."""
        return f"<!-- END GENERATED: {self.name} -->"

    def written_into(self, text: str) -> str:
        """``text`` with this block's table between its markers (exactly one pair of them)."""
        pattern = re.compile(re.escape(self.begin) + r"\n.*?" + re.escape(self.end), re.S)
        if len(pattern.findall(text)) != 1:
            where = self.doc.relative_to(REPO)
            raise ValueError(f"{where} needs one {self.begin} ... {self.end} pair")
        return pattern.sub(lambda _: f"{self.begin}\n{self.render()}{self.end}", text)

    def current(self) -> bool:
        """Whether its document already holds the table the code makes."""
        text = self.doc.read_text(encoding="utf-8")
        return self.written_into(text) == text


BLOCKS: Final = (
    Block("settings", DOCS / "runtime.md", settings_table),
    Block("config", DOCS / "operating.md", config_table),
    Block("outputs", DOCS / "operating.md", outputs_table),
    Block("guardrails", DOCS / "operating.md", rules_table),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite every generated table (``--check``: only list the stale ones, exit 1 if any)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = [block for block in BLOCKS if not block.current()]
    for block in stale:
        where = block.doc.relative_to(REPO)
        if args.check:
            print(f"{where}: the {block.name} table is stale: run make docs", file=sys.stderr)
            continue
        text = block.doc.read_text(encoding="utf-8")
        block.doc.write_text(block.written_into(text), encoding="utf-8")
        print(f"{where}: the {block.name} table rewritten", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
