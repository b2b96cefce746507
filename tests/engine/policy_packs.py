"""Policy packs under the real engine: the guardrails' pack, a recorder, and reading verdicts.

The recorder is a second pack, written into a test's temporary directory and run beside the
guardrails in the same ``pulumi preview``: it writes every ``Analyze`` and ``AnalyzeStack``
request the engine sends it, as the wire's JSON, and the stack config the engine handed it
(PULUMI_CONFIG, this project's namespace only), to the file named by :data:`RECORDING_ENV`.
That file is a :class:`policies.guardrails.analyzer.Requests`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from infra.project import REPOSITORY
from policies.guardrails.analyzer import Requests, check_requests, project_config
from policies.guardrails.model import MANDATORY
from policies.guardrails.offline import check_render
from policies.guardrails.pack import PACK_NAME

GUARDRAILS: Final = REPOSITORY / "policies" / "guardrails"
RECORDING_ENV: Final = "GUARDRAILS_TEST_RECORDING"

_RECORDER_YAML: Final = """description: Test only - records what the analyzer hands a pack
runtime:
  name: python
  options:
    virtualenv: {venv}
version: 0.0.1
"""

# The recorder's __main__.py: the engine runs it with the pack's directory as the working directory.
_RECORDER_MAIN: Final = '''"""Test only: records the analyzer's requests."""
import sys

sys.path.insert(0, {repository!r})

from tests.engine.policy_packs import serve_recorder

serve_recorder()
'''


def serve_recorder() -> None:
    """Inside the recorder pack: wrap pulumi-policy's Analyze and AnalyzeStack so each request
    is kept as the wire's JSON, and serve a pack with one policy that finds nothing."""
    import pulumi.runtime
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy
    from pulumi_policy import policy as policy_module

    out = Path(os.environ[RECORDING_ENV])
    analyzed: list[dict[str, Any]] = []
    servicer: Any = policy_module.__dict__["_PolicyAnalyzerServicer"]
    analyze, analyze_stack = servicer.Analyze, servicer.AnalyzeStack

    def record_analyze(self: Any, request: Any, context: Any) -> Any:
        analyzed.append(json_format.MessageToDict(request))
        return analyze(self, request, context)

    def record_analyze_stack(self: Any, request: Any, context: Any) -> Any:
        # AnalyzeStack comes once, after every Analyze: the recording is then complete.
        config = project_config(pulumi.runtime.get_config_env())
        stack = json_format.MessageToDict(request).get("resources", [])
        out.write_text(json.dumps(Requests(analyzed, stack, config).to_json()), encoding="utf-8")
        return analyze_stack(self, request, context)

    servicer.Analyze, servicer.AnalyzeStack = record_analyze, record_analyze_stack
    PolicyPack(
        name="analyzer-recorder",
        policies=[
            StackValidationPolicy(
                name="records", description="Records the requests.", validate=lambda a, r: None
            )
        ],
        enforcement_level=EnforcementLevel.ADVISORY,
    )


def write_recorder(directory: Path) -> Path:
    """Write the recorder pack into ``directory`` (in this interpreter's virtualenv)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "PulumiPolicy.yaml").write_text(_RECORDER_YAML.format(venv=sys.prefix))
    (directory / "__main__.py").write_text(_RECORDER_MAIN.format(repository=str(REPOSITORY)))
    return directory


def read_recording(path: Path) -> Requests:
    """What the recorder wrote."""
    return Requests.from_json(json.loads(path.read_text(encoding="utf-8")))


_PACK_HEADER: Final = re.compile(r"^\s+\S+ (\S+)@v\S+ \(local: ")
_VIOLATION: Final = re.compile(r"^\s+- \[(mandatory|advisory)\]\s+(\S+)\s")

Verdict = frozenset[tuple[str, str]]


def verdict(output: str) -> Verdict:
    """(level, rule) of every violation the guardrails pack reported in ``pulumi preview``'s
    "Policies:" block."""
    found: set[tuple[str, str]] = set()
    pack = None
    for line in output.splitlines():
        header = _PACK_HEADER.match(line)
        if header:
            pack = header[1]
            continue
        violation = _VIOLATION.match(line)
        if violation and pack == PACK_NAME:
            found.add((violation[1], violation[2]))
    return frozenset(found)


def offline_verdict(render_or_requests: Mapping[str, Any] | Requests) -> Verdict:
    """The offline runner's verdict on a render, or on a recording (with its recorded config)."""
    found = (
        check_requests(render_or_requests)
        if isinstance(render_or_requests, Requests)
        else check_render(render_or_requests)
    )
    return frozenset((v.level, v.rule) for v in found)


def mandatory(found: Verdict) -> set[str]:
    """The mandatory rules of a verdict."""
    return {rule for level, rule in found if level == MANDATORY}
