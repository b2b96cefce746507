"""The documentation stays true: its examples run, its reference tables are the ones ``make docs``
writes from the code (and state each default as the code behaves), nothing else restates them,
and every link between the documents lands."""

from __future__ import annotations

import ast
import doctest
import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Final

import pytest
from prometheus_client import CollectorRegistry

from devtools.docs_tables import BLOCKS, Block
from infra.config import KNOWN_KEYS, full_key, parse_stack_config
from infra.identities import ROLES
from infra.render_format import SECRET_MARKER
from policies.guardrails.offline import RENDER_DIR
from tests.docs import (
    DEVELOPING,
    OPERATING,
    README,
    REPO,
    RUNTIME,
    TRY_IT_LOCALLY,
    github_anchor,
    headings,
    read,
    section,
    table_rows,
)
from tests.support import MINIMAL_STACK_CONFIG, OUTPUT_OF_VAR, ROOT
from voice_recordings import ConfigError, Env, StorageSettings, upload_metrics
from voice_recordings.settings import SETTINGS

DOCUMENTS: Final = (README, RUNTIME, OPERATING, DEVELOPING, TRY_IT_LOCALLY)
# Written on another branch of the same change (issue 13, the render contract); the lead empties
# this set once both are merged, and the link test then checks it like every other target.

SETTINGS_TABLE: Final = (RUNTIME, "Settings (environment variables)")
CONFIG_TABLE: Final = (OPERATING, "Stack config")
PROGRAM: Final = REPO / "infra" / "program.py"


def _backticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]*)`", cell)


def test_the_runtime_examples_run_as_written() -> None:
    result = doctest.testfile(str(RUNTIME), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3
    assert result.failed == 0


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.name)
def test_every_example_in_every_document_runs(doc: Path) -> None:
    result = doctest.testfile(str(doc), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_front_page_stays_a_front_page() -> None:
    assert len(read(README).splitlines()) < 200
    for command in ("make demo", "make sandbox", "make test"):
        assert command in read(README)
    for doc in (RUNTIME, OPERATING, DEVELOPING, TRY_IT_LOCALLY):
        assert f"(docs/{doc.name})" in read(README), doc.name


# --- the generated reference tables (devtools/docs_tables.py) ---------------------------------


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_each_generated_table_is_the_one_the_code_makes(block: Block) -> None:
    assert block.current(), (
        f"{block.doc.relative_to(REPO)}: the {block.name} table is stale: run make docs"
    )


def _generated_rows() -> set[tuple[str, str]]:
    """The first two cells of every generated row: a name and its default, secrecy or level."""
    return {(row[0], row[1]) for block in BLOCKS for row in table_rows(block.render())}


def _generated_headers() -> set[str]:
    return {block.render().splitlines()[0] for block in BLOCKS}


def _outside_generated_blocks(doc: Path) -> str:
    text = read(doc)
    for block in BLOCKS:
        if block.doc == doc:
            before, _, rest = text.partition(block.begin)
            text = before + rest.partition(block.end)[2]
    return text


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.name)
def test_no_hand_written_table_restates_a_generated_one(doc: Path) -> None:
    # A table of the same columns, or a row of its own for a setting, key, output or rule that
    # says what its generated row says: a copy that would drift.
    text = _outside_generated_blocks(doc)
    copied = [line for line in text.splitlines() if line.strip() in _generated_headers()]
    copied += [row[0] for row in table_rows(text) if tuple(row[:2]) in _generated_rows()]
    assert copied == [], f"{doc.name}: say it in the declarations instead (make docs)"


def test_make_docs_rewrites_only_what_is_between_the_markers() -> None:
    block = BLOCKS[0]
    text = f"before\n{block.begin}\n| stale |\n{block.end}\nafter\n"
    assert (
        block.written_into(text) == f"before\n{block.begin}\n{block.render()}{block.end}\nafter\n"
    )


def test_a_document_without_its_markers_is_refused() -> None:
    block = BLOCKS[0]
    with pytest.raises(ValueError, match="needs one <!-- BEGIN GENERATED: settings"):
        block.written_into("| variable | default | meaning |\n")


# --- the settings table (runtime.md) states each default as StorageSettings behaves ------------

_REQUIRED: Final = {
    Env.ENDPOINT: "storage.example.net",
    Env.ACCESS_KEY: "AKIAEXAMPLE",
    Env.SECRET_KEY: "x" * 16,
}


def _settings_rows() -> dict[str, str]:
    """Variable -> its default as the table states it (one row may name two variables, and then
    two defaults)."""
    documented: dict[str, str] = {}
    for name_cell, default_cell, _meaning in table_rows(section(*SETTINGS_TABLE)):
        names = re.findall(r"`(MINIO_[A-Z_]+)`", name_cell)
        assert names, f"a settings row names no MINIO_ variable: {name_cell!r}"
        defaults = _backticked(default_cell)
        if len(defaults) != len(names):
            # One description for all of them: "(required)", "(system CAs)".
            defaults = [default_cell] * len(names)
        for name, default in zip(names, defaults, strict=True):
            assert name not in documented, f"{name} has two rows"
            documented[name] = default
    return documented


def _env_names() -> dict[str, str]:
    """Variable -> the settings field it sets, as the table of settings declares it."""
    return {setting.name: setting.field for setting in SETTINGS}


def test_the_settings_table_names_every_variable_and_no_other() -> None:
    assert sorted(_settings_rows()) == sorted(_env_names())


def test_the_settings_table_states_each_default_the_code_uses(tmp_path: Path) -> None:
    env = {**_REQUIRED, "XDG_STATE_HOME": str(tmp_path)}
    settings = StorageSettings.from_env(env)
    for name, default in _settings_rows().items():
        field = _env_names()[name]
        if default == "(required)":
            without = {k: v for k, v in env.items() if k != name}
            with pytest.raises(ConfigError, match=name):
                StorageSettings.from_env(without)
            continue
        value = getattr(settings, field)
        if default.startswith("("):  # a description of "unset", e.g. "(system CAs)"
            assert value in (None, ""), (name, value)
            continue
        stated = (
            default.replace("$XDG_STATE_HOME", str(tmp_path))
            .replace("http(s)", "https")  # MINIO_USE_SSL's default is true
            .replace("{MINIO_ENDPOINT}", _REQUIRED[Env.ENDPOINT])
        )
        if isinstance(value, bool):
            assert stated == str(value).lower(), name
        elif isinstance(value, (int, float)):
            assert float(stated) == value, name
        else:
            assert stated == str(value), name


# --- the stack config table (operating.md) states each default as infra.config behaves --------


def _config_rows() -> dict[str, str]:
    documented: dict[str, str] = {}
    for key_cell, default_cell, _meaning in table_rows(section(*CONFIG_TABLE)):
        (key,) = _backticked(key_cell)
        assert full_key(key) not in documented, f"{key} has two rows"
        documented[full_key(key)] = default_cell
    return documented


def test_the_config_table_names_every_key_and_no_other() -> None:
    assert sorted(_config_rows()) == sorted(KNOWN_KEYS)


def test_the_config_table_states_each_default_the_code_uses() -> None:
    values = parse_stack_config(MINIMAL_STACK_CONFIG).to_json()
    for key, default_cell in _config_rows().items():
        if default_cell == "(required)":
            without = {k: v for k, v in MINIMAL_STACK_CONFIG.items() if k != key}
            with pytest.raises(ValueError, match=key):
                parse_stack_config(without)
            continue
        if default_cell.startswith("(empty"):
            assert values.get(key, "") in ("", {}), key
            continue
        stated = _backticked(default_cell)[0].replace("<endpoint>", "storage.example.net")
        value = values[key]
        assert stated == (str(value).lower() if isinstance(value, bool) else str(value)), key


# --- the stack outputs table (operating.md, from infra/outputs.py) against the program's exports

OUTPUTS_TABLE: Final = (OPERATING, "Stack outputs")


def _program_exports() -> dict[str, bool]:
    """Every ``pulumi.export(name, value)`` in the program (under any config: both branches of
    an ``if``), and whether its value is wrapped in ``pulumi.Output.secret``."""
    exports: dict[str, bool] = {}
    for node in ast.walk(ast.parse(PROGRAM.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "pulumi.export"):
            continue
        name, value = node.args
        secret = isinstance(value, ast.Call) and ast.unparse(value.func) == "pulumi.Output.secret"
        if isinstance(name, ast.Attribute) and ast.unparse(name.value) == "role":
            # One export per identity (infra/identities.py): that name of every role.
            names = [getattr(role, name.attr) for role in ROLES]
        else:
            assert isinstance(name, ast.Constant) and isinstance(name.value, str), ast.unparse(node)
            names = [name.value]
        for each in names:
            assert exports.setdefault(each, secret) == secret, f"{each}: secret or not?"
    return exports


def _outputs_rows() -> dict[str, bool]:
    documented: dict[str, bool] = {}
    for name_cell, secret_cell, _what in table_rows(section(*OUTPUTS_TABLE)):
        (name,) = _backticked(name_cell)
        assert name not in documented and secret_cell in ("yes", "no"), name_cell
        documented[name] = secret_cell == "yes"
    return documented


def test_the_outputs_table_is_every_export_of_the_program_and_says_which_are_secret() -> None:
    assert _outputs_rows() == _program_exports()


@pytest.mark.parametrize("render", sorted(RENDER_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_each_render_s_outputs_are_in_the_outputs_table_as_secret_as_it_says(render: Path) -> None:
    outputs = json.loads(render.read_text(encoding="utf-8"))["outputs"]
    documented = _outputs_rows()
    assert {name: value == SECRET_MARKER for name, value in outputs.items()} == {
        name: documented[name] for name in outputs
    }


# --- links between the documents ---------------------------------------------------------------


def _links() -> list[tuple[Path, str]]:
    return [
        (doc, target)
        for doc in DOCUMENTS
        for target in re.findall(r"\]\(([^)\s]+)\)", read(doc))
        if not re.match(r"[a-z]+:", target)  # http(s) links are not ours to check offline
    ]


@pytest.mark.parametrize(("doc", "target"), _links(), ids=lambda v: getattr(v, "name", v))
def test_every_relative_link_lands(doc: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    destination = (doc.parent / path).resolve() if path else doc
    assert destination.exists(), f"{doc.name} links to {target}: no such file"
    if anchor:
        anchors = {github_anchor(title) for _, title in headings(destination)}
        assert anchor in anchors, f"{doc.name} links to {target}: no such heading"


# --- the files and modules the documents name ---------------------------------------------------

_TOP_LEVEL: Final = (
    "voice_recordings/",
    "infra/",
    "devtools/",
    "policies/",
    "tests/",
    "benchmarks/",
)


def _named_paths() -> list[tuple[Path, str]]:
    """Repository paths the documents name in code spans (placeholders and globs left out)."""
    return sorted(
        {
            (doc, span)
            for doc in DOCUMENTS
            for span in re.findall(r"`([^`\s]+)`", read(doc))
            if span.startswith(_TOP_LEVEL) and not re.search(r"[<*{]", span)
        }
    )


@pytest.mark.parametrize(("doc", "path"), _named_paths(), ids=lambda v: getattr(v, "name", v))
def test_every_file_a_document_names_exists(doc: Path, path: str) -> None:
    assert (REPO / path).exists(), f"{doc.name} names {path}, which does not exist"


def _named_modules() -> list[tuple[Path, str]]:
    return sorted(
        {
            (doc, module)
            for doc in DOCUMENTS
            for module in re.findall(r"python -m ([\w.]+)", read(doc))
        }
        - {(doc, "pytest") for doc in DOCUMENTS}
    )


@pytest.mark.parametrize(("doc", "module"), _named_modules(), ids=lambda v: getattr(v, "name", v))
def test_every_module_a_document_runs_exists(doc: Path, module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{doc.name} runs python -m {module}"


# --- the metrics table (runtime.md) against the registered metrics ----------------------------


def test_the_metrics_table_is_what_the_package_registers() -> None:
    registry = CollectorRegistry()
    upload_metrics(registry)
    registered: dict[str, tuple[str, list[str]]] = {}
    label_values: dict[str, set[str]] = {}
    for family in registry.collect():
        exposed = f"{family.name}_total" if family.type == "counter" else family.name
        labels = sorted(
            {n for s in family.samples for n in s.labels if n not in ("le", "quantile")}
        )
        registered[exposed] = (family.type, labels)
        for sample in family.samples:
            for label in labels:
                label_values.setdefault(label, set()).add(sample.labels[label])
    documented: dict[str, tuple[str, list[str]]] = {}
    for name_cell, kind, label_cell, _meaning in table_rows(section(RUNTIME, "Metrics")):
        (name,) = _backticked(name_cell)
        spans = _backticked(label_cell)
        documented[name] = (kind, spans[:1])
        if spans[1:]:  # "`status`: `success`, `spooled`, `error`": the values it takes, all
            assert set(spans[1:]) == label_values[spans[0]], name
    assert documented == registered


def test_the_real_minio_recipe_sets_each_variable_from_the_output_the_embedded_targets_read() -> (
    None
):
    # The embedded targets are named by the same MINIO_TEST_* variables, each from the same
    # stack output (tests/support.py): the recipe and that mapping cannot drift apart.
    recipe = section(DEVELOPING, "Integration tests against a real MinIO")
    found = dict(re.findall(r'export (MINIO_TEST_\w+)="\$\(pulumi stack output (\w+)', recipe))
    assert found == OUTPUT_OF_VAR


def test_every_file_the_docs_write_secrets_or_personal_data_to_is_private_and_git_ignored() -> None:
    """Each ``> file`` a documented command writes (``.env`` blocks) is created 0600 (``umask
    077``) and ignored by git, as are the erasure reports and exports the CLI writes."""
    written: set[str] = set()
    for doc in ("README.md", "docs/operating.md", "docs/runtime.md"):
        lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = re.search(r"--show-secrets > (\S+?)\)?(\s|$)", line)
            if match:
                written.add(match.group(1))
                # Either the command itself, or the step just before it (a runbook whose
                # commands a test runs as written), says umask 077.
                told = "umask 077" in " ".join(lines[max(0, number - 8) : number])
                assert line.startswith("(umask 077; ") or told, f"{doc}: {line}"
    assert {"voice-ai.env", "omniplay.env", "steward.env"} <= written
    names = [*sorted(written), "erasure-company_5-abc-123.jsonl", "export-abc-123/x.mp3"]
    ignored = subprocess.run(
        ["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert sorted(ignored) == sorted(names)
