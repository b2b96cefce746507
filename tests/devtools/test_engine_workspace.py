"""The throwaway workspaces (the tests', ``make demo``'s, ``make sandbox``'s) survive a clone in
which a person followed a recipe the old way: ``pulumi stack init`` left the salt of their own
passphrase in the stack file, ``pulumi config set --secret`` a value encrypted with it. Before,
the next workspace copied them and died with "incorrect passphrase"."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from devtools.engine.workspace import EngineWorkspace
from infra.config import full_key
from infra.project import PROJECT_FILE, REPOSITORY, stack_file_name, stack_names


def test_a_stack_file_a_persons_stack_init_changed_breaks_no_workspace(
    engine_dir: Path, tmp_path: Path
) -> None:
    # The person's own stack init and secret, with their own passphrase, in a clone of theirs.
    person = EngineWorkspace(engine_dir, tmp_path / "person")
    person.run("stack", "init", "dev")
    person.run("config", "set", "--secret", full_key("voiceAiServiceToken"), "x" * 48)
    changed = (person.project / stack_file_name("dev")).read_text(encoding="utf-8")
    assert "encryptionsalt" in changed and "secure" in changed
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copyfile(REPOSITORY / PROJECT_FILE, clone / PROJECT_FILE)
    for stack in stack_names(REPOSITORY):
        shutil.copyfile(REPOSITORY / stack_file_name(stack), clone / stack_file_name(stack))
    (clone / stack_file_name("dev")).write_text(changed, encoding="utf-8")

    workspace = EngineWorkspace(engine_dir, tmp_path / "workspace", source=clone)
    workspace.init_stack("dev", {full_key("endpoint"): "127.0.0.1:9000"})
    config = workspace.run("config", "--json", "-s", "dev").json()
    committed = yaml.safe_load((REPOSITORY / stack_file_name("dev")).read_text())["config"]
    assert config[full_key("bucket")]["value"] == committed[full_key("bucket")]
    assert full_key("voiceAiServiceToken") not in config, "a value it cannot decrypt is left out"
    assert (clone / stack_file_name("dev")).read_text(encoding="utf-8") == changed
