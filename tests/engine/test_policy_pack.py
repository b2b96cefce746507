"""``pulumi preview --policy-pack policies/guardrails`` under the real engine and analyzer.

The pack runs through our language host's RunPlugin. It passes on ``dev``, ``prod`` and the
adopting stack (``prod`` with infra/adoption.py's overrides, over the specification's hand-made
state seeded on the endpoint), and fails naming the rule on each change of
:mod:`tests.engine.violations`, which the real program makes under a resource transform (a
test-only variant program: the program's config cannot express them). A recorder pack beside it
in the same preview records what the analyzer really hands a pack; the offline runner reads that
recording, and a render of the same change, and must reach the pack's verdict.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.endpoint.handmade import build_handmade
from devtools.engine.workspace import (
    EngineWorkspace,
    PulumiRun,
    admin_env,
    embedded_stack_config,
)
from infra import render_format
from infra.adoption import ADOPT_OVERRIDES
from infra.config import full_key
from infra.project import REPOSITORY
from infra.provider_contract import CONTRACTS
from infra.render import VARIANTS, render_stack
from policies.guardrails.analyzer import (
    RETAIN_ON_DELETE,
    WIRE_UNKNOWN,
    Requests,
    requests_of_render,
)
from policies.guardrails.pack import PACK_NAME
from tests.engine.policy_packs import (
    GUARDRAILS,
    RECORDING_ENV,
    Verdict,
    mandatory,
    offline_verdict,
    read_recording,
    verdict,
    write_recorder,
)
from tests.engine.violations import (
    CHANGES,
    VARIANT_PROGRAM,
    VIOLATION_ENV,
    Change,
    apply_to_render,
)
from tests.support import PUBLIC_OVERRIDES

ADOPTING = "prod-adopt"  # the render variant's name (infra/render.py VARIANTS), here a stack
OWN_RETENTION = "prod-company-retention"  # another variant: a company with its own retention
STACKS = ("dev", "prod", ADOPTING, OWN_RETENTION)
VARIANT_DIR = "violating"


@dataclass(frozen=True)
class Judged:
    """One preview with both packs: what it printed and what the analyzer handed the packs."""

    run: PulumiRun
    requests: Requests

    @property
    def verdict(self) -> Verdict:
        """The guardrails pack's verdict, from the preview's output."""
        return verdict(self.run.output)


@dataclass
class Engine:
    """The workspaces, each stack's config, and a cache of judged previews (each preview costs
    about ten seconds: every test reads the one it needs)."""

    program: EngineWorkspace
    variant: EngineWorkspace
    recorder: Path
    recordings: Path
    config: dict[str, dict[str, str]]
    judged: dict[tuple[str, str], Judged]

    def judge(self, stack: str, change: str = "") -> Judged:
        """``pulumi preview`` of ``stack`` (with ``change``: of the variant program's ``dev``)
        with the guardrails and the recorder."""
        key = (stack, change)
        if key not in self.judged:
            workspace = self.variant if change else self.program
            recording = self.recordings / f"{stack}-{change or 'as-is'}.json"
            env = {RECORDING_ENV: str(recording), VIOLATION_ENV: change}
            run = workspace.run(
                "preview",
                "-s",
                stack,
                "--policy-pack",
                str(GUARDRAILS),
                "--policy-pack",
                str(self.recorder),
                env=env,
                check=False,
            )
            assert recording.exists(), f"the analyzer never reached the recorder:\n{run.output}"
            self.judged[key] = Judged(run, read_recording(recording))
        return self.judged[key]


@pytest.fixture(scope="module")
def engine(
    engine_dir: Path, endpoint: EmbeddedS3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """dev, prod and the adopting stack (a copy of prod's stack file, adopting the hand-made
    state seeded on the endpoint) of the real program; dev of the variant program."""
    handmade = build_handmade(endpoint)
    pointed = embedded_stack_config(endpoint)
    adopting = {
        **pointed,
        **ADOPT_OVERRIDES,
        full_key("adoptServiceAccount"): handmade.console_keys.access_key,
    }
    own_retention = {**pointed, **VARIANTS[OWN_RETENTION][1]}
    config = {"dev": pointed, "prod": pointed, ADOPTING: adopting, OWN_RETENTION: own_retention}
    root = tmp_path_factory.mktemp("policy-pack")
    program = EngineWorkspace(engine_dir, root / "program", env=admin_env(endpoint))
    for copied in (ADOPTING, OWN_RETENTION):
        (program.project / f"Pulumi.{copied}.yaml").write_bytes(
            (program.project / "Pulumi.prod.yaml").read_bytes()
        )
    for stack in STACKS:
        program.init_stack(stack, config[stack])

    variant = EngineWorkspace(engine_dir, root / "variant", env=admin_env(endpoint))
    project_file = variant.project / "Pulumi.yaml"
    text = project_file.read_text(encoding="utf-8")
    assert "main:" not in text  # the default: the project directory's __main__.py
    project_file.write_text(f"{text}main: {VARIANT_DIR}/\n")
    (variant.project / VARIANT_DIR).mkdir()
    (variant.project / VARIANT_DIR / "__main__.py").write_text(
        VARIANT_PROGRAM.format(repository=str(REPOSITORY))
    )
    variant.init_stack("dev", pointed)
    recordings = root / "recordings"
    recordings.mkdir()
    yield Engine(program, variant, write_recorder(root / "recorder"), recordings, config, {})


def render_of(engine: Engine, stack: str, change: Change | None = None) -> dict[str, Any]:
    """The offline render of ``stack`` as the engine's stack is configured, with ``change``."""
    render_name = "prod" if stack in (ADOPTING, OWN_RETENTION) else stack
    if change is None:
        return render_stack(render_name, engine.config[stack])
    if change.edit is None:  # the public bucket policy, without the acknowledgement
        render = render_stack(render_name, {**engine.config[stack], **PUBLIC_OVERRIDES})
        render["config"][full_key("acknowledgePublicRecordings")] = False
        return render
    render = render_stack(render_name, engine.config[stack])
    apply_to_render(change, render)
    return render


@pytest.mark.parametrize("stack", STACKS)
def test_the_pack_passes_on_each_stack(engine: Engine, stack: str) -> None:
    judged = engine.judge(stack)
    assert judged.run.returncode == 0, judged.run.output
    assert f"{PACK_NAME}@v" in judged.run.output  # the engine ran the guardrails
    assert mandatory(judged.verdict) == set()
    assert judged.requests.analyze and judged.requests.analyze_stack


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.id)
def test_the_pack_fails_naming_the_rule(engine: Engine, change: Change) -> None:
    judged = engine.judge("dev", change.id)
    assert judged.run.returncode != 0
    assert mandatory(judged.verdict) == change.rules, judged.run.output
    assert f"breaks '{change.rule}'" in judged.run.output


def _by_name(items: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {item["name"]: item for item in items}


def test_what_the_analyzer_hands_the_pack(engine: Engine) -> None:
    """The facts policies/guardrails/analyzer.py and docs/operating.md state, as recorded."""
    requests = engine.judge("dev").requests
    analyzed, stack = _by_name(list(requests.analyze)), _by_name(list(requests.analyze_stack))
    bucket = analyzed["recordings-bucket"]
    # Inputs after the bridge's Check: a falsy schema default (objectLocking false) is not
    # filled in; the top-level `__defaults` is stripped by the engine, the nested ones are not.
    assert bucket["properties"] == {
        "bucket": "voice-recordings",
        "acl": "private",
        "forceDestroy": False,
    }
    versioning = analyzed["recordings-versioning"]["properties"]
    assert versioning["versioningConfiguration"] == {"__defaults": [], "status": "Enabled"}
    rules = analyzed["recordings-lifecycle"]["properties"]["rules"]
    assert rules and all(rule["__defaults"] == [] for rule in rules)
    # A preview of a new lifecycle: each rule's computed-only status is unknown.
    assert {rule["status"] for rule in stack["recordings-lifecycle"]["properties"]["rules"]} == {
        WIRE_UNKNOWN
    }
    assert bucket["options"].get("protect") is True
    assert RETAIN_ON_DELETE not in bucket["options"]  # not in the protocol
    assert "dependencies" not in bucket and "dependencies" not in analyzed["recordings-versioning"]
    assert "protect" not in analyzed["recordings-versioning"]["options"]  # absent when false
    assert analyzed["voice-ai-realtime"]["options"]["ignoreChanges"] == ["policy", "secretKey"]
    assert isinstance(analyzed["uploader-policy"]["properties"]["policy"], str)  # JSON text
    provider = analyzed["minio-admin"]["properties"]
    assert "version" in provider
    # The credentials are not the provider's inputs (they come from the job's environment).
    assert not {"minioUser", "minioPassword"} & set(provider)
    # AnalyzeStack: outputs (unknown until created), parents and dependencies as URNs.
    assert stack["recordings-bucket"]["properties"]["arn"] == WIRE_UNKNOWN
    assert stack["recordings-versioning"]["dependencies"] == [bucket["urn"]]
    assert stack["recordings-bucket"]["parent"].endswith("::recording-storage")
    assert "pulumi:pulumi:Stack" in {r["type"] for r in requests.analyze_stack}
    # The stack config the engine hands every pack: this project's keys, as strings.
    assert requests.config[full_key("endpoint")] == engine.config["dev"][full_key("endpoint")]


def test_a_render_reads_in_the_shape_the_analyzer_hands_the_pack(engine: Engine) -> None:
    """Every MinIO resource of the render has the inputs, options and dependencies that the
    engine hands the pack for it (the offline runner fills in the provider's defaults)."""
    recorded = engine.judge("dev").requests
    rendered = requests_of_render(render_of(engine, "dev"))
    analyzed, stack = _by_name(list(recorded.analyze)), _by_name(list(recorded.analyze_stack))
    compared = 0
    for item in rendered.analyze:
        if item["type"] not in CONTRACTS or item["type"] == render_format.PROVIDER:
            continue  # the engine adds the plugin's version to a provider's inputs
        engine_item = analyzed[item["name"]]
        assert item["urn"] == engine_item["urn"]
        assert set(item["properties"]) == set(engine_item["properties"]), item["name"]
        options = {k: v for k, v in item["options"].items() if k != RETAIN_ON_DELETE}
        assert options.items() <= engine_item["options"].items(), item["name"]
        assert sorted(item["dependencies"]) == sorted(stack[item["name"]].get("dependencies", []))
        compared += 1
    assert compared >= 10


Case = tuple[str, "Change | None"]
SAME_CHANGE: list[Case] = [(stack, None) for stack in STACKS] + [("dev", c) for c in CHANGES]


@pytest.mark.parametrize(
    ("stack", "change"), SAME_CHANGE, ids=[f"{s}-{c.id if c else 'as-is'}" for s, c in SAME_CHANGE]
)
def test_both_runners_reach_the_same_verdict_on_the_same_change(
    engine: Engine, stack: str, change: Change | None
) -> None:
    judged = engine.judge(stack, change.id if change else "")
    render = render_of(engine, stack, change)
    assert judged.verdict, judged.run.output  # at least the encryption advisory: it did run
    assert offline_verdict(render) == judged.verdict
    assert offline_verdict(judged.requests) == judged.verdict


def test_the_offline_runner_is_not_fooled_by_a_copy(engine: Engine) -> None:
    """The same-verdict test can fail: a render with a change the engine did not see differs."""
    render = copy.deepcopy(render_of(engine, "dev"))
    apply_to_render(CHANGES[0], render)
    assert offline_verdict(render) != engine.judge("dev").verdict
