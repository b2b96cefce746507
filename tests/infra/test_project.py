"""Stack files: the clone's hold the reviewed config only, and a project directory of its own
(``python -m infra.project``) is where Pulumi's writes for a stack go (docs/operating.md, "Stack
files and what Pulumi writes into them")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import full_key
from infra.project import (
    PROJECT_FILE,
    REPOSITORY,
    SECRETS_SETTINGS,
    ProjectError,
    find_project,
    main,
    make_project,
    stack_file_name,
    stack_names,
)
from infra.takeover.cli import EXIT_USAGE, cli

# What a person's `pulumi stack init` and `pulumi config set --secret` leave in a stack file.
SALT = "v1:heQqiEZ5cwY=:v1:HY6KinqJZib1nQEN:HP3NcHnK8qtWetBBKFzagabva452/g=="
TOKEN = {"secure": "v1:AAAABBBBCCCCDDDD:EEEEFFFF"}


def _stack(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("stack", stack_names(REPOSITORY))
def test_the_committed_stack_files_hold_no_setting_of_a_machine_or_a_backend(stack: str) -> None:
    document = _stack(REPOSITORY / stack_file_name(stack))
    assert set(document) == {"config"}, (
        f"Pulumi.{stack}.yaml holds {sorted(set(document) - {'config'})}: a `pulumi stack init` "
        f"ran in the clone; `git checkout Pulumi.{stack}.yaml` and run pulumi from a project "
        f"directory of its own (python -m infra.project DIR)"
    )
    assert full_key("caBundle") not in document["config"], "a CA path of one machine"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone whose stack files a person's `stack init` and `config set --secret` changed."""
    source = tmp_path / "clone"
    source.mkdir()
    (source / PROJECT_FILE).write_bytes((REPOSITORY / PROJECT_FILE).read_bytes())
    for stack in stack_names(REPOSITORY):
        document = _stack(REPOSITORY / stack_file_name(stack))
        document["config"][full_key("voiceAiServiceToken")] = TOKEN
        document.update({"encryptionsalt": SALT, "secretsprovider": "passphrase"})
        (source / stack_file_name(stack)).write_text(yaml.safe_dump(document), encoding="utf-8")
    (source / "infra").mkdir()
    (source / "__main__.py").write_text("", encoding="utf-8")
    return source


def test_a_project_directory_takes_the_config_and_none_of_the_clones_secrets_settings(
    clone: Path, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in clone.iterdir() if p.is_file()}
    project = make_project(tmp_path / "project", source=clone, virtualenv=tmp_path / "venv")
    for stack in stack_names(REPOSITORY):
        committed = _stack(REPOSITORY / stack_file_name(stack))["config"]
        made = _stack(project / stack_file_name(stack))
        assert set(made) == {"config"}
        assert made["config"] == {**committed, full_key("voiceAiServiceToken"): TOKEN}
    assert (project / "infra").resolve() == (clone / "infra").resolve()
    assert (project / "__main__.py").resolve() == (clone / "__main__.py").resolve()
    assert (project / ".venv").resolve() == (tmp_path / "venv").resolve()
    (project / "calls").mkdir()
    assert find_project(project / "calls") == project
    assert {p.name: p.read_bytes() for p in clone.iterdir() if p.is_file()} == before


def test_a_throwaway_backend_gets_no_value_it_cannot_decrypt(clone: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", source=clone, keep_secure=False)
    for stack in stack_names(REPOSITORY):
        assert (
            full_key("voiceAiServiceToken")
            not in _stack(project / stack_file_name(stack))["config"]
        )


def test_made_again_the_config_is_the_clones_and_the_directorys_salt_stays(
    clone: Path, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "project", source=clone)
    own = project / stack_file_name("prod")
    document = _stack(own)
    document["encryptionsalt"] = "v1:the-directory's-own"
    document["config"][full_key("bucket")] = "tried-here"
    own.write_text(yaml.safe_dump(document), encoding="utf-8")
    make_project(project, source=clone)
    again = _stack(own)
    assert again["encryptionsalt"] == "v1:the-directory's-own"
    assert again["config"][full_key("bucket")] == "voice-recordings"
    assert set(again) - {"config"} <= set(SECRETS_SETTINGS)


def test_a_project_directory_inside_the_clone_is_refused(clone: Path) -> None:
    with pytest.raises(ProjectError, match="outside the clone"):
        make_project(clone / "sub", source=clone)


def test_the_command_says_where_to_run_pulumi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    assert f"cd {tmp_path / 'mine'}" in out and "stacks dev, prod" in out
    assert main([str(REPOSITORY / "inside")]) == 2
    assert "outside the clone" in capsys.readouterr().err


def test_the_takeover_reads_the_stack_file_of_the_project_it_runs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "project")
    stack_file = project / stack_file_name("prod")
    document = _stack(stack_file)
    document["config"][full_key("endpoint")] = "127.0.0.1:9"
    stack_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.chdir(project)
    env = {"MINIO_USER": "admin", "MINIO_PASSWORD": "not-a-real-one"}
    code = cli(["tag-existing", "--stack", "prod", "--concurrency", "1"], env)
    assert code == EXIT_USAGE
    assert "127.0.0.1:9" in capsys.readouterr().err
