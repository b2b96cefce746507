"""Run the policy pack the way the analyzer calls it: in process, or as the engine serves it.

:func:`pack_violations` calls the pack's own validation functions on a render: each resource
becomes real pulumi-policy argument objects, its props like preview's (policy documents as JSON
strings, wrapped in the SDK's unknown-checking proxy). :func:`serve_pack` starts the pack as the
engine does (``python policies/guardrails/__main__.py``, a gRPC analyzer fed PULUMI_CONFIG), and
:func:`replay` sends it the requests of a recording (:class:`analyzer.Requests`), exactly as the
wire carries them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import grpc  # type: ignore[import-untyped]
from google.protobuf import json_format  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policies.guardrails import model, pack
from policies.guardrails.analyzer import Requests
from tests.engine.policy_packs import Verdict
from tests.guardrails.renders import Render

PACK_DIR: Final = Path(pack.__file__).resolve().parent
# A provider secret in the engine's config: the pack must never read or echo it.
ADMIN_PASSWORD: Final = "not-a-real-admin-password"
# What the engine's enforcement levels mean to the rules.
LEVELS: Final = {analyzer_pb2.MANDATORY: model.MANDATORY, analyzer_pb2.ADVISORY: model.ADVISORY}
# pulumi_policy/policy.py (Analyze, AnalyzeStack): how the SDK words an UnknownValueError.
CANT_RUN: Final = "can't run policy"


def preview_props(resource: dict[str, Any]) -> Any:
    """The render's inputs as preview hands them to a policy (documents as JSON strings)."""
    props = dict(resource["inputs"])
    if isinstance(props.get("policy"), dict):
        props["policy"] = json.dumps(props["policy"])
    return unknown_checking_proxy(props)


def options(resource: dict[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        bool(resource["protect"]), [], None, [], PolicyCustomTimeouts(0, 0, 0), []
    )


def resource_args(resource: dict[str, Any]) -> ResourceValidationArgs:
    urn = f"urn:pulumi:prod::voice-recordings::{resource['type']}::{resource['name']}"
    return ResourceValidationArgs(
        resource["type"], preview_props(resource), urn, resource["name"], options(resource), None
    )


def stack_args(render: Render) -> StackValidationArgs:
    # Like the engine: each resource's dependencies are the resources themselves.
    by_name = {
        r["name"]: PolicyResource(
            r["type"],
            preview_props(r),
            f"urn:{r['name']}",
            r["name"],
            options(r),
            None,
            None,
            [],
            {},
        )
        for r in render["resources"]
    }
    for r in render["resources"]:
        # (A mutation may have removed a resource others named: the engine would refuse that.)
        needs = [d for d in r.get("depends_on", []) if d in by_name]
        by_name[r["name"]].dependencies = [by_name[d] for d in needs]
    return StackValidationArgs(list(by_name.values()))


def pack_violations(render: Render) -> set[tuple[str, str]]:
    """(policy name, message) for every violation the pack's policies report on ``render``."""
    ctx = model.StackContext.from_config(render["config"])
    reported: set[tuple[str, str]] = set()
    for policy in pack.policies(lambda: ctx):

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            reported.add((name, message))

        if isinstance(policy, ResourceValidationPolicy):
            for resource in render["resources"]:
                policy.validate(resource_args(resource), report)
        else:
            assert isinstance(policy, StackValidationPolicy)
            policy.validate(stack_args(render), report)
    return reported


def config_strings(config: Mapping[str, object]) -> dict[str, str]:
    """A render's config as the engine hands it to a pack: every value a string (JSON)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def engine_config(config: Mapping[str, object]) -> str:
    """PULUMI_CONFIG as the engine sets it: every value a string, provider secrets included."""
    return json.dumps(config_strings(config) | {"minio:minioPassword": ADMIN_PASSWORD})


@contextmanager
def serve_pack(config: Mapping[str, object]) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """`python policies/guardrails/__main__.py` started like the engine does, with ``config``
    (a render's config) as the stack's, as a gRPC stub."""
    env = dict(os.environ, PULUMI_CONFIG=engine_config(config))
    process = subprocess.Popen(
        [sys.executable, str(PACK_DIR / "__main__.py")],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait()


def replay(
    stub: analyzer_pb2_grpc.AnalyzerStub, requests: Requests
) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    """Every diagnostic the served pack returns for the recorded requests: one ``Analyze`` per
    resource, then one ``AnalyzeStack``. Fields the protocol lacks (a render's
    ``retainOnDelete``) are dropped, as the engine never sends them."""
    found: list[analyzer_pb2.AnalyzeDiagnostic] = []
    for wire in requests.analyze:
        request = json_format.ParseDict(
            wire, analyzer_pb2.AnalyzeRequest(), ignore_unknown_fields=True
        )
        found.extend(stub.Analyze(request).diagnostics)
    stack = json_format.ParseDict(
        {"resources": list(requests.analyze_stack)},
        analyzer_pb2.AnalyzeStackRequest(),
        ignore_unknown_fields=True,
    )
    found.extend(stub.AnalyzeStack(stack).diagnostics)
    return found


def verdict_of(diagnostics: list[analyzer_pb2.AnalyzeDiagnostic]) -> Verdict:
    """(level, rule) of each diagnostic, as the offline runner's violations read."""
    return frozenset((LEVELS[d.enforcementLevel], d.policyName) for d in diagnostics)
