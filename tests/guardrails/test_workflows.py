"""The GitHub Actions workflows: valid against GitHub's schema (offline), and safe by construction.

`workflow_problems` checks the rules the pipeline rests on (which secrets each job can read, where
the admin and the state credentials may appear, pins, permissions, timeouts, triggers); the
committed workflows must have none, and every edit in MUTATIONS (a pull request's careless or
hostile change) must be caught.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from check_jsonschema import main as check_jsonschema  # type: ignore[import-untyped]
from click.testing import CliRunner

from infra.program import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from tests.docs import OPERATING, read
from tests.support import run_command
from tests.workflows import (
    GUARDRAIL_PACK,
    PIPELINE_SCRIPT,
    PULUMI_ACTION,
    REPO,
    WORKFLOWS,
    action,
    committed,
    parse,
    pipeline_command,
    steps,
    workflow,
)

# Where each credential lives on GitHub (docs/operating.md, "The pipeline", says how to store them).
OBSERVER_SECRETS: Final = frozenset({"MINIO_OBSERVER_ACCESS_KEY", "MINIO_OBSERVER_SECRET_KEY"})
ADMIN_SECRETS: Final = frozenset({"MINIO_ADMIN_USER", "MINIO_ADMIN_PASSWORD"})
STATE_SECRETS: Final = frozenset(
    {"PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"}
)
PRODUCTION: Final = "production"  # required reviewers; deployment branches: main
STATE_ENVIRONMENT: Final = "pulumi-state"  # no reviewer; deployment branches: main
# Triggers under which a workflow runs code that a pull request (or a fork) controls.
PULL_REQUEST_TRIGGERS: Final = frozenset({"pull_request", "pull_request_target", "workflow_run"})
FORBIDDEN_TRIGGERS: Final = frozenset({"pull_request_target", "workflow_run", "issue_comment"})
# The one write a workflow may hold: a pull-request comment, in a job that runs no code of the
# pull request (no checkout, no action) and gets what it posts as text in its environment.
COMMENT_PERMISSIONS: Final = {"pull-requests": "write"}
# What a job's env may hold besides secrets: GitHub's context, none of it a credential but the
# job's own token (scoped by its permissions), and the review job's output.
CONTEXT_VALUES: Final = frozenset(
    {
        "${{ github.token }}",
        "${{ github.repository }}",
        "${{ github.event.pull_request.number }}",
        "${{ needs.review.outputs.review }}",
    }
)
MIN_PULUMI_CLI: Final = (3, 174, 0)  # the engine's import-then-update behaviour (docs/operating.md)
MAX_TIMEOUT_MINUTES: Final = 60

# Every job, and the secrets it may read. A new job must be added here, deliberately.
EXPECTED_SECRETS: Final[Mapping[tuple[str, str], frozenset[str]]] = {
    ("test.yml", "test"): frozenset(),
    ("preview.yml", "guard"): frozenset(),
    ("preview.yml", "review"): frozenset(),
    ("preview.yml", "comment"): frozenset(),
    ("preview.yml", "preview"): OBSERVER_SECRETS,
    ("drift.yml", "drift"): OBSERVER_SECRETS | STATE_SECRETS,
    ("deploy.yml", "preview"): OBSERVER_SECRETS | STATE_SECRETS,
    ("deploy.yml", "up"): ADMIN_SECRETS | STATE_SECRETS,
}

_SECRET_RE: Final = re.compile(r"secrets\.([A-Za-z0-9_]+)")
# `secrets` not followed by `.NAME`: toJSON(secrets), secrets[...], `secrets: inherit`.
_ALL_SECRETS_RE: Final = re.compile(r"\bsecrets\b(?!\.[A-Za-z0-9_])")
_PINNED_RE: Final = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_USES_LINE_RE: Final = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")
_VERSION_COMMENT_RE: Final = re.compile(r"#\s*v\d+\.\d+\.\d+\b")


def triggers(data: Mapping[str, Any]) -> set[str]:
    on = data["on"]
    return {on} if isinstance(on, str) else set(on)


def pipeline_jobs(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each job that calls the pipeline script: its arguments (job name, pack)."""
    calls = {job_id: pipeline_command(job) for job_id, job in data["jobs"].items()}
    return {job_id: call[1:] for job_id, call in calls.items() if call is not None}


def secrets_read(data: Mapping[str, Any], job: Mapping[str, Any]) -> set[str]:
    """Every secret a job can read: its own text and the workflow-level env."""
    text = yaml.safe_dump({"env": data.get("env", {}), "job": job})
    return set(_SECRET_RE.findall(text))


def constraints_pin(package: str) -> str:
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower().replace("_", "-") == package:
            return version.strip()
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def workflow_problems(texts: Mapping[str, str]) -> list[str]:
    """Every way the workflows break the pipeline's rules (empty when they keep them all)."""
    problems: list[str] = []
    shas: dict[str, set[str]] = {}
    cli = constraints_pin("pulumi")
    jobs_seen: set[tuple[str, str]] = set()
    for name, text in texts.items():
        data = parse(text)
        on = triggers(data)
        runs_pr_code = bool(on & PULL_REQUEST_TRIGGERS)
        problems += [
            f"{name}: trigger {t!r} is not allowed" for t in sorted(on & FORBIDDEN_TRIGGERS)
        ]
        if data.get("permissions") != {"contents": "read"}:
            problems.append(f"{name}: top-level permissions must be exactly contents: read")
        if any(_SECRET_RE.search(str(value)) for value in (data.get("env") or {}).values()):
            problems.append(f"{name}: a secret in the workflow-level env reaches every job")
        for line in text.splitlines():
            match = _USES_LINE_RE.match(line)
            if not match:
                continue
            ref, comment = match[1], match[2] or ""
            if not _PINNED_RE.match(ref):
                problems.append(f"{name}: {ref} is not pinned to a full commit SHA")
            elif not _VERSION_COMMENT_RE.search(comment):
                problems.append(f"{name}: {ref} has no version comment (# vX.Y.Z)")
            else:
                shas.setdefault(ref.split("@")[0], set()).add(ref.split("@")[1])
        for job_id, job in data["jobs"].items():
            where = f"{name}: job {job_id}"
            jobs_seen.add((name, job_id))
            problems += _job_problems(where, data, job, runs_pr_code, cli)
            if _ALL_SECRETS_RE.search(yaml.safe_dump(job)):
                problems.append(f"{where} can read every secret (toJSON/inherit/index)")
            expected = EXPECTED_SECRETS.get((name, job_id))
            read = secrets_read(data, job)
            if expected is None:
                problems.append(f"{where} is new: list the secrets it may read in the test")
            elif read != expected:
                problems.append(f"{where} reads {sorted(read)}, expected {sorted(expected)}")
    problems += [f"{a}: pinned to {len(s)} commits" for a, s in shas.items() if len(s) > 1]
    problems += [f"{n}: job {j} is missing" for n, j in set(EXPECTED_SECRETS) - jobs_seen]
    return problems


def _job_problems(
    where: str, data: Mapping[str, Any], job: Mapping[str, Any], runs_pr_code: bool, cli: str
) -> Iterator[str]:
    read = secrets_read(data, job)
    environment = job.get("environment")
    environment = environment.get("name") if isinstance(environment, dict) else environment
    timeout = job.get("timeout-minutes")
    if not isinstance(timeout, int) or not 0 < timeout <= MAX_TIMEOUT_MINUTES:
        yield f"{where}: timeout-minutes must be set, 1..{MAX_TIMEOUT_MINUTES}"
    if "permissions" in job:
        yield from _writer_problems(where, job)
    if runs_pr_code and read - OBSERVER_SECRETS:
        yield f"{where} runs pull-request code with {sorted(read - OBSERVER_SECRETS)}"
    if read & ADMIN_SECRETS and environment != PRODUCTION:
        yield f"{where} reads the admin credentials outside the {PRODUCTION!r} environment"
    if read & STATE_SECRETS and environment not in (PRODUCTION, STATE_ENVIRONMENT):
        yield f"{where} reads the state's secrets outside {PRODUCTION!r}/{STATE_ENVIRONMENT!r}"
    on_main_only = job.get("if") == "github.ref == 'refs/heads/main'"
    if environment is not None and (runs_pr_code or not on_main_only):
        yield f"{where}: an environment job runs on main only (if: github.ref == 'refs/heads/main')"
    # What the provider reads: the admin's keys in production, the observer's everywhere else.
    sources = (
        {ADMIN_USER_ENV: "MINIO_ADMIN_USER", ADMIN_PASSWORD_ENV: "MINIO_ADMIN_PASSWORD"}
        if environment == PRODUCTION
        else {
            ADMIN_USER_ENV: "MINIO_OBSERVER_ACCESS_KEY",
            ADMIN_PASSWORD_ENV: "MINIO_OBSERVER_SECRET_KEY",
        }
    )
    for variable, secret in sources.items():
        value = (job.get("env") or {}).get(variable)
        if value is not None and value != f"${{{{ secrets.{secret} }}}}":
            yield f"{where}: {variable} must be ${{{{ secrets.{secret} }}}}"
    for step in steps(job):
        if (
            action(step) == "actions/checkout"
            and (step.get("with") or {}).get("persist-credentials") is not False
        ):
            yield f"{where}: checkout must set persist-credentials: false"
        if action(step) == PULUMI_ACTION:
            inputs = step.get("with") or {}
            version = str(inputs.get("pulumi-version", ""))
            if version != cli or _version(version) < MIN_PULUMI_CLI:
                yield f"{where}: pulumi-version must be {cli} (constraints.txt's pulumi, >= 3.174)"
            # The action installs the CLI only: a command of its own would be one the engine
            # tests never ran (they run the script's).
            if set(inputs) != {"pulumi-version"}:
                yield f"{where}: {PULUMI_ACTION} installs the CLI only (with: pulumi-version)"
            if pipeline_command(job) is None:
                yield f"{where} installs pulumi but runs no {PIPELINE_SCRIPT}"


def _writer_problems(where: str, job: Mapping[str, Any]) -> Iterator[str]:
    """A job with permissions of its own may only comment, and must never run pull-request code
    with that token: no checkout, no action, no expression inside a script (its value would run
    as shell: the review's text is the pull request's to choose)."""
    if job["permissions"] != COMMENT_PERMISSIONS:
        yield f"{where}: job-level permissions other than {COMMENT_PERMISSIONS}"
    for step in steps(job):
        if "uses" in step:
            yield f"{where} holds a write token and uses {step['uses']}: it may run no action"
        if "${{" in str(step.get("run", "")):
            yield f"{where} holds a write token and expands an expression in its script"
    if job.get("if") != "github.event.pull_request.head.repo.full_name == github.repository":
        yield f"{where}: a commenting job runs for the repository's own pull requests only"


def test_the_workflows_keep_every_rule() -> None:
    assert workflow_problems(committed()) == []


# (id, file, text in the committed workflow, its replacement): each must be caught.
MUTATIONS: Final = [
    (
        "admin-password-in-preview",
        "preview.yml",
        "MINIO_PASSWORD: ${{ secrets.MINIO_OBSERVER_SECRET_KEY }}",
        "MINIO_PASSWORD: ${{ secrets.MINIO_PASSWORD }}",
    ),
    (
        "admin-secret-in-preview",
        "preview.yml",
        "MINIO_PASSWORD: ${{ secrets.MINIO_OBSERVER_SECRET_KEY }}",
        "MINIO_PASSWORD: ${{ secrets.MINIO_ADMIN_PASSWORD }}",
    ),
    (
        "passphrase-in-preview",
        "preview.yml",
        "      MINIO_USER: ${{ secrets.MINIO_OBSERVER_ACCESS_KEY }}",
        "      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n"
        "      MINIO_USER: ${{ secrets.MINIO_OBSERVER_ACCESS_KEY }}",
    ),
    (
        "backend-token-in-a-step",
        "preview.yml",
        "          pulumi-version: 3.260.0",
        "          pulumi-version: 3.260.0\n"
        "          github-token: ${{ secrets.PULUMI_ACCESS_TOKEN }}",
    ),
    (
        "the-action-runs-its-own-command",
        "drift.yml",
        "          pulumi-version: 3.260.0",
        "          pulumi-version: 3.260.0\n          command: up",
    ),
    (
        "pulumi-without-the-script",
        "deploy.yml",
        "        run: .github/scripts/pulumi-job.sh up policies/guardrails\n",
        "        run: pulumi up --yes -s prod\n",
    ),
    (
        "every-secret-in-a-run-step",
        "test.yml",
        "        run: make test",
        "        run: make test '${{ toJSON(secrets) }}'",
    ),
    (
        "workflow-level-env",
        "preview.yml",
        "permissions:\n  contents: read\n",
        "permissions:\n  contents: read\n\nenv:\n  X: ${{ secrets.MINIO_OBSERVER_ACCESS_KEY }}\n",
    ),
    ("pull-request-target", "preview.yml", "  pull_request:\n", "  pull_request_target:\n"),
    (
        "drift-on-pull-requests",
        "drift.yml",
        "  workflow_dispatch:\n",
        "  workflow_dispatch:\n  pull_request:\n",
    ),
    (
        "admin-keys-in-drift",
        "drift.yml",
        "MINIO_USER: ${{ secrets.MINIO_OBSERVER_ACCESS_KEY }}",
        "MINIO_USER: ${{ secrets.MINIO_ADMIN_USER }}",
    ),
    ("deploy-without-review", "deploy.yml", "environment: production", "environment: staging"),
    ("drift-outside-its-environment", "drift.yml", "    environment: pulumi-state\n", ""),
    (
        "deploy-from-any-branch",
        "deploy.yml",
        "    needs: preview\n    if: github.ref == 'refs/heads/main'\n",
        "    needs: preview\n",
    ),
    (
        "tag-instead-of-sha",
        "test.yml",
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
        "actions/checkout@v7",
    ),
    (
        "sha-without-version",
        "drift.yml",
        "@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0",
        "@8e5e406f4007fca908480587cb9893c07090f58d",
    ),
    ("write-permissions", "deploy.yml", "  contents: read\n", "  contents: write\n"),
    (
        "job-permissions",
        "preview.yml",
        "    timeout-minutes: 20\n",
        "    timeout-minutes: 20\n    permissions:\n      pull-requests: write\n",
    ),
    ("no-timeout", "test.yml", "    timeout-minutes: 20\n", ""),
    (
        "comment-job-checks-out-the-pull-request",
        "preview.yml",
        "    steps:\n      - name: post the review",
        "    steps:\n      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
        " # v7.0.1\n        with:\n          persist-credentials: false\n"
        "      - name: post the review",
    ),
    (
        "comment-job-runs-the-review-as-shell",
        "preview.yml",
        "printf '%s\\n' \"$REVIEW\"",
        "printf '%s\\n' \"${{ needs.review.outputs.review }}\"",
    ),
    (
        "comment-job-writes-contents",
        "preview.yml",
        "    permissions:\n      pull-requests: write\n",
        "    permissions:\n      pull-requests: write\n      contents: write\n",
    ),
    (
        "comment-job-on-forks",
        "preview.yml",
        "    if: github.event.pull_request.head.repo.full_name == github.repository\n"
        "    runs-on: ubuntu-latest\n    timeout-minutes: 5\n",
        "    runs-on: ubuntu-latest\n    timeout-minutes: 5\n",
    ),
    (
        "review-job-gets-a-write-token",
        "preview.yml",
        "    timeout-minutes: 10\n    outputs:\n",
        "    timeout-minutes: 10\n    permissions:\n      pull-requests: write\n    outputs:\n",
    ),
    (
        "comment-job-reads-a-secret",
        "preview.yml",
        "      GH_TOKEN: ${{ github.token }}\n",
        "      GH_TOKEN: ${{ secrets.MINIO_OBSERVER_ACCESS_KEY }}\n",
    ),
    ("persisted-token", "preview.yml", "persist-credentials: false", "persist-credentials: true"),
    ("unpinned-cli", "deploy.yml", "          pulumi-version: 3.260.0\n", ""),
    ("old-cli", "drift.yml", "pulumi-version: 3.260.0", "pulumi-version: 3.173.0"),
    (
        "new-job",
        "test.yml",
        "jobs:\n",
        "jobs:\n  extra:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
        "    steps:\n      - run: 'true'\n",
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS]
)
def test_a_change_that_breaks_a_rule_is_caught(file: str, old: str, new: str) -> None:
    texts = committed()
    assert old in texts[file], f"the mutation no longer applies to {file}"
    texts[file] = texts[file].replace(old, new)
    assert workflow_problems(texts), "the change was not caught"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the schema check tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
@pytest.mark.usefixtures("no_network")
def test_workflow_matches_githubs_schema_offline(path: Path) -> None:
    result = CliRunner().invoke(
        check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(path)]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("no_network")
def test_schema_check_does_fail_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = CliRunner().invoke(
        check_jsonschema, ["--builtin-schema", "vendor.github-workflows", str(broken)]
    )
    assert result.exit_code == 1


def test_tests_run_on_push_and_pull_request() -> None:
    data = workflow("test.yml")
    assert {"push", "pull_request"} <= triggers(data)
    assert "make test" in [s.get("run") for s in steps(data["jobs"]["test"])]


def test_pull_requests_get_guard_and_a_preview_on_a_throwaway_state() -> None:
    data = workflow("preview.yml")
    assert triggers(data) == {"pull_request"}
    assert "make guard" in [s.get("run") for s in steps(data["jobs"]["guard"])]
    assert pipeline_jobs(data) == {"preview": ["pr-preview", GUARDRAIL_PACK]}
    # No production state from pull-request code: the script makes a local one (pr-preview).
    assert not {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"} & set(
        data["jobs"]["preview"]["env"]
    )


def test_main_deploys_behind_the_production_environment_after_a_preview() -> None:
    data = workflow("deploy.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    up_job = data["jobs"]["up"]
    assert up_job["environment"] == PRODUCTION and up_job["needs"] == "preview"
    assert pipeline_jobs(data) == {
        "preview": ["deploy-preview", GUARDRAIL_PACK],
        "up": ["up", GUARDRAIL_PACK],
    }


def test_drift_check_runs_on_a_schedule() -> None:
    data = workflow("drift.yml")
    assert data["on"]["schedule"]
    assert pipeline_jobs(data) == {"drift": ["drift", GUARDRAIL_PACK]}


def test_the_script_knows_every_job_the_workflows_call_and_the_pack_exists() -> None:
    script = (REPO / PIPELINE_SCRIPT).read_text()
    assert (REPO / PIPELINE_SCRIPT).stat().st_mode & 0o111, "the workflows run it directly"
    stack = re.search(r"^STACK=(\S+)$", script, re.MULTILINE)
    assert stack and (REPO / f"Pulumi.{stack[1]}.yaml").is_file()
    for path in WORKFLOWS.glob("*.yml"):
        for job, *pack in pipeline_jobs(workflow(path.name)).values():
            assert f"\n  {job})\n" in script, job
            assert pack == [GUARDRAIL_PACK]
    assert (REPO / GUARDRAIL_PACK / "PulumiPolicy.yaml").is_file()


# -- the script's stack (--stack; prod, the workflows' stack, by default) -------------------

JOBS: Final = ("pr-preview", "deploy-preview", "drift", "up")
# The `pulumi` the script finds first on PATH: it records each call's arguments, one line each.
FAKE_PULUMI: Final = '#!/bin/sh\nprintf "%s\\n" "$*" >> "$PULUMI_CALLS"\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's files (pr-preview edits a stack file and puts it back)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for path in REPO.glob("Pulumi*.yaml"):
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def run_script(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The script with ``args`` in ``project``, a recording ``pulumi`` on PATH: what it exited
    with and printed, and each pulumi call it made."""
    bin_dir, calls = project.parent / "bin", project.parent / "pulumi-calls"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    calls.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_CALLS": str(calls),
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = run_command(["bash", str(REPO / PIPELINE_SCRIPT), *args], cwd=project, env=env)
    return done, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize(
    ("stack_args", "stack"), [((), "prod"), (("--stack", "dev"), "dev"), (("--stack=dev",), "dev")]
)
def test_each_job_runs_on_the_stack_it_is_given(
    project: Path, job: str, stack_args: tuple[str, ...], stack: str
) -> None:
    committed = {path.name: path.read_bytes() for path in project.iterdir()}
    done, calls = run_script(project, job, *stack_args, GUARDRAIL_PACK)
    assert done.returncode == 0, done.stderr
    assert calls, "no pulumi command ran"
    for call in calls:
        assert re.findall(r"(?:--stack|stack init) (\S+)", call) == [stack], call
    pack = f"--policy-pack {GUARDRAIL_PACK}"
    assert (pack in calls[-1]) is (job != "drift"), calls[-1]  # refresh takes no pack
    assert {path.name: path.read_bytes() for path in project.iterdir()} == committed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("drift", "--stack", "prdo"), "no stack 'prdo' here: "),
        (("drift", "--stack"), "--stack needs a stack name"),
        (("up", "--stack", "../prod"), "'../prod' is not a stack name"),
        (("up", "--stack="), "'' is not a stack name"),
        (("drfit",), "unknown job 'drfit'"),
        ((), "no job given"),
        (("drift", "--stacks", "dev"), "unknown option '--stacks'"),
    ],
)
def test_a_bad_call_says_what_was_wrong_and_runs_nothing(
    project: Path, args: tuple[str, ...], said: str
) -> None:
    done, calls = run_script(project, *args)
    assert done.returncode == 2 and calls == []
    first, usage = done.stderr.splitlines()
    assert first.startswith(f"pulumi-job.sh: {said}"), first
    assert usage.startswith("usage: pulumi-job.sh ")
    if said.startswith(("no stack", "'")):  # a wrong name: the stacks there are, to pick from
        assert first.endswith("this project's stacks: dev prod"), first


def test_no_credential_is_written_in_a_workflow() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for job in workflow(path.name)["jobs"].values():
            for key, value in job.get("env", {}).items():
                assert str(value).startswith("${{ secrets.") or value in CONTEXT_VALUES, (
                    f"{path.name}: {key}"
                )


def test_pull_requests_get_the_review_as_a_comment() -> None:
    """make review runs with no secret and a read-only token; the comment job posts its output
    with the runner's gh, editing its earlier comment (docs/operating.md, "The review")."""
    jobs = workflow("preview.yml")["jobs"]
    review_runs = [str(s.get("run", "")) for s in steps(jobs["review"])]
    assert any(run.startswith("make review BASE=HEAD^1 >") for run in review_runs)
    checkout = next(s for s in steps(jobs["review"]) if action(s) == "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 2  # the merge and its base, HEAD^1
    assert jobs["review"]["outputs"] == {"review": "${{ steps.review.outputs.review }}"}
    comment = jobs["comment"]
    assert comment["needs"] == "review" and comment["permissions"] == COMMENT_PERMISSIONS
    assert comment["env"]["REVIEW"] == "${{ needs.review.outputs.review }}"
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"
    (post,) = [str(s["run"]) for s in steps(comment)]
    assert 'gh pr comment "$PR" --repo "$GH_REPO" --edit-last' in post
    assert "|| gh pr comment" in post


def test_readme_names_the_cli_version_and_every_secret() -> None:
    readme = read(OPERATING)
    assert f"Pulumi CLI {constraints_pin('pulumi')}" in readme
    for secret in OBSERVER_SECRETS | ADMIN_SECRETS | STATE_SECRETS:
        assert f"`{secret}`" in readme, secret
    assert f"`{PRODUCTION}`" in readme and f"`{STATE_ENVIRONMENT}`" in readme
