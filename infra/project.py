"""A Pulumi project directory of its own for this clone's program: where a person runs a stack.

    python -m infra.project DIR

Pulumi writes into the stack file of every stack it runs (``Pulumi.<stack>.yaml`` beside
``Pulumi.yaml``): ``pulumi stack init`` on a self-managed backend adds the salt of that
backend's passphrase (``encryptionsalt``), and every command that finds no salt there writes one
(even ``PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER``, which takes it from the state, writes it back
into the file); ``pulumi config set`` writes the value. The CLI has no way to send those writes
elsewhere for every command: ``--config-file`` is missing from ``stack init`` and must be given
to each command, ``stackConfigDir`` moves the committed stack files too, and no environment
variable names the file (checked in the CLI's source at the pin). So the clone's stack files are
the stacks' reviewed config only, and a stack run by hand lives in a directory made here,
outside the clone, where Pulumi's writes stay:

- ``Pulumi.yaml``, copied;
- each ``Pulumi.<stack>.yaml``, its ``config`` copied from the clone's without any secrets
  settings (``encryptionsalt``, ``encryptedkey``, ``secretsprovider``: the clone's, if a
  person's ``stack init`` wrote one, belong to another backend). A ``secure:`` value stays (a
  stack whose secrets Pulumi Cloud keeps decrypts it anywhere), unless the directory's backend
  can never decrypt it (``keep_secure=False``: a throwaway backend of its own). Made again over
  an existing directory, the config becomes the clone's again and the directory's own secrets
  settings stay;
- links to the clone's ``__main__.py`` (what the language host runs: Pulumi.yaml sets no
  ``main``), ``infra/`` and ``voice_recordings/`` (the program as it is now, imported from the
  project directory as from the clone), ``policies/`` (the guardrail pack), ``.github/`` (the
  pipeline's script) and the virtualenv (``virtualenv: .venv``).

:func:`find_project` is the other half: the tools that read a stack's config (``python -m
infra.takeover``) read the stack file of the project in the current directory, as ``pulumi``
does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from infra.render_format import PROJECT

REPOSITORY: Final = Path(__file__).resolve().parents[1]
PROJECT_FILE: Final = "Pulumi.yaml"
# What `pulumi stack init` and the secrets managers write into a stack file, per backend.
SECRETS_SETTINGS: Final = ("encryptionsalt", "encryptedkey", "secretsprovider")
LINKED: Final = ("__main__.py", "infra", "voice_recordings", "policies", ".github")
VIRTUALENV: Final = ".venv"  # Pulumi.yaml's runtime option `virtualenv`


class ProjectError(RuntimeError):
    """A project directory cannot be made there; the message says why and what to do."""


def stack_file_name(stack: str) -> str:
    """``Pulumi.<stack>.yaml``."""
    return f"Pulumi.{stack}.yaml"


def stack_names(project: Path) -> list[str]:
    """The stacks that have a stack file in ``project``."""
    return sorted(p.name.split(".")[1] for p in project.glob(stack_file_name("*")))


def _document(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return loaded if isinstance(loaded, dict) else {}


def is_secure(value: object) -> bool:
    """A ``secure:`` value of a stack file (encrypted; only its backend can decrypt it)."""
    return isinstance(value, dict) and set(value) == {"secure"}


def seeded_stack(
    source: Mapping[str, Any], kept: Mapping[str, Any], *, keep_secure: bool = True
) -> dict[str, Any]:
    """A stack file's document for a project directory: ``source``'s config (without its
    ``secure:`` values unless ``keep_secure``) and the secrets settings of ``kept`` (the
    directory's own file), none of ``source``'s."""
    config = source.get("config") or {}
    document: dict[str, Any] = {
        "config": {
            key: value for key, value in config.items() if keep_secure or not is_secure(value)
        }
    }
    document.update({key: kept[key] for key in SECRETS_SETTINGS if key in kept})
    return document


def seed_stack_file(source: Path, target: Path, *, keep_secure: bool = True) -> None:
    """Write ``target`` from the clone's stack file ``source`` (:func:`seeded_stack`)."""
    document = seeded_stack(_document(source), _document(target), keep_secure=keep_secure)
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _link(link: Path, to: Path) -> None:
    if link.is_symlink() and link.resolve() == to.resolve():
        return
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        raise ProjectError(f"{link} exists and is not a link to {to}: move it away first")
    link.symlink_to(to)


def make_project(
    target: Path,
    *,
    source: Path = REPOSITORY,
    virtualenv: Path | None = None,
    keep_secure: bool = True,
) -> Path:
    """Make (or bring up to date) the project directory ``target`` for the project in
    ``source``; ``virtualenv`` (default: the running interpreter's) is what ``.venv`` links
    to; ``keep_secure``: see :func:`seeded_stack`. Returns ``target``."""
    if target.resolve().is_relative_to(source.resolve()):
        raise ProjectError(
            f"{target} is inside {source}: a project directory of its own must be outside the "
            f"clone, or Pulumi's writes land in the repository again"
        )
    target.mkdir(parents=True, exist_ok=True)
    (target / PROJECT_FILE).write_bytes((source / PROJECT_FILE).read_bytes())
    for stack in stack_names(source):
        seed_stack_file(
            source / stack_file_name(stack),
            target / stack_file_name(stack),
            keep_secure=keep_secure,
        )
    for name in LINKED:
        if (source / name).exists():
            _link(target / name, source / name)
    _link(target / VIRTUALENV, virtualenv or Path(sys.prefix))
    return target


def find_project(start: Path | None = None) -> Path | None:
    """The directory of this project's ``Pulumi.yaml`` nearest ``start`` (default: the current
    directory) or above it, as ``pulumi`` finds it; None when there is none."""
    here = (start or Path.cwd()).absolute()
    for directory in (here, *here.parents):
        if _document(directory / PROJECT_FILE).get("name") == PROJECT:
            return directory
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.project DIR``: make the directory; print what to do next."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.project", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("directory", type=Path, help="where (outside the clone)")
    args = parser.parse_args(argv)
    try:
        made = make_project(args.directory)
    except (ProjectError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{made.resolve()}: stacks {', '.join(stack_names(made))}; run pulumi there (cd {made})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
