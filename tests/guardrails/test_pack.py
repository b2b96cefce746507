"""The policy pack as the engine runs it: a gRPC analyzer process fed the stack config."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from infra import render_format
from infra.identities import OBSERVER, READER, UPLOADER
from policies.guardrails import model, pack, rules
from tests.guardrails.packrun import ADMIN_PASSWORD, resource_args, serve_pack
from tests.guardrails.renders import load_committed

SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack served as the engine serves it, with prod's stack config."""
    with serve_pack(load_committed("prod")["config"]) as stub:
        yield stub


def analyze(
    stub: analyzer_pb2_grpc.AnalyzerStub, type_token: str, name: str, props: Mapping[str, object]
) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    wire = struct_pb2.Struct()
    wire.update(dict(props))
    request = analyzer_pb2.AnalyzeRequest(
        type=type_token,
        name=name,
        urn=f"urn:pulumi:prod::voice-recordings::{type_token}::{name}",
        properties=wire,
    )
    return list(stub.Analyze(request).diagnostics)


def test_pack_serves_every_rule_at_its_level(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == pack.PACK_NAME
    served = {p.name: p.enforcementLevel for p in info.policies}
    levels = rules.RULE_LEVELS
    assert set(served) == set(rules.ALL_RULE_NAMES)
    for name, level in levels.items():
        expected = analyzer_pb2.MANDATORY if level == model.MANDATORY else analyzer_pb2.ADVISORY
        assert served[name] == expected, name


def test_pack_accepts_a_secret_and_refuses_plaintext_without_echoing_it(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    secret = {**SECRET_SIG, "value": "generated-by-random"}
    assert (
        analyze(analyzer, render_format.IAM_USER, "uploader-user", {"name": "u", "secret": secret})
        == []
    )
    found = analyze(
        analyzer, render_format.IAM_USER, "uploader-user", {"name": "u", "secret": "hunter2"}
    )
    assert [d.policyName for d in found] == ["secrets-masked"]
    assert found[0].enforcementLevel == analyzer_pb2.MANDATORY
    assert "hunter2" not in found[0].message and "IamUser 'uploader-user'" in found[0].message


def test_pack_reads_the_document_as_a_json_string(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    props = {"name": "voice-ai-policy", "policy": json.dumps(document)}
    found = {
        d.policyName for d in analyze(analyzer, render_format.IAM_POLICY, "uploader-policy", props)
    }
    assert found == {"iam-no-wildcards", "iam-bucket-scope", "erasures-steward-only"}


def test_pack_uses_the_stack_config_for_the_acknowledgement(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # prod has not acknowledged public recordings: any anonymous grant fails.
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::voice-recordings/company_*/voice/*",
            }
        ]
    }
    props = {"bucket": "voice-recordings", "policy": json.dumps(document)}
    found = analyze(analyzer, render_format.BUCKET_POLICY, "public", props)
    assert [d.policyName for d in found] == ["no-anonymous-access"]


def test_unknown_inputs_are_reported_as_unknown_not_as_passing(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    props = {"name": "voice-ai-policy", "policy": UNKNOWN_STRING_VALUE}
    found = analyze(analyzer, render_format.IAM_POLICY, "uploader-policy", props)
    assert found and all("can't be known during preview" in d.message for d in found)
    assert all(d.enforcementLevel == analyzer_pb2.ADVISORY for d in found)


def ignore(message: str, urn: str | None = None) -> None:
    """A report_violation that drops the report."""


def test_unknown_document_raises_the_sdk_unknown_error() -> None:
    resource = {
        "type": render_format.IAM_POLICY,
        "name": "uploader-policy",
        "protect": False,
        "inputs": {"name": "voice-ai-policy", "policy": UNKNOWN_STRING_VALUE},
    }
    rule = next(r for r in rules.RESOURCE_RULES if r.name == "iam-no-wildcards")
    policy = pack.resource_policy(rule, model.StackContext)
    with pytest.raises(UnknownValueError):
        policy.validate(resource_args(resource), ignore)


def test_stack_config_reads_only_this_project_and_applies_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps(
            {
                "voice-recordings:endpoint": "storage.example.org",
                "voice-recordings:omniplayApiUrl": "https://omniplay.example.org",
                "voice-recordings:publicRecordings": "true",
                "voice-recordings:acknowledgePublicRecordings": "true",
                "minio:minioPassword": ADMIN_PASSWORD,
            }
        ),
    )
    ctx = pack.context_from_stack()
    assert ADMIN_PASSWORD not in repr(ctx)
    assert ctx.public_acknowledged
    uploader, reader, observer = (ctx.names(role) for role in (UPLOADER, READER, OBSERVER))
    assert uploader and uploader.policy and reader and reader.policy  # the program's defaults
    assert observer and observer.policy and observer.user


def test_pack_levels_map_to_enforcement_levels() -> None:
    by_name = {p.name: p.enforcement_level for p in pack.policies(model.StackContext)}
    assert by_name["bucket-protected"] == EnforcementLevel.MANDATORY
    assert by_name["encryption-configured"] == EnforcementLevel.ADVISORY


def test_pack_reads_keys_in_any_case_as_minio_does(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # "\u017ftatement" and lower-case keys: Go's encoding/json (MinIO) reads them as Statement.
    document = {"\u017ftatement": [{"effect": "Allow", "action": "s3:*", "resource": "*"}]}
    props = {"name": "voice-ai-policy", "policy": json.dumps(document)}
    found = {
        d.policyName for d in analyze(analyzer, render_format.IAM_POLICY, "uploader-policy", props)
    }
    assert found == {"iam-no-wildcards", "iam-bucket-scope", "erasures-steward-only"}
    twice = (
        '{"Statement": [], "statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
    )
    props = {"name": "voice-ai-policy", "policy": twice}
    found = {
        d.policyName for d in analyze(analyzer, render_format.IAM_POLICY, "uploader-policy", props)
    }
    assert "policy-document-unambiguous" in found


def test_pack_refuses_a_type_no_rule_knows(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    token = "minio:index/iamGroupPolicyAttachment:IamGroupPolicyAttachment"
    props = {"groupName": "ops", "policyName": "consoleAdmin"}
    found = analyze(analyzer, token, "ops-admin", props)
    assert [d.policyName for d in found] == ["known-resources-only"]
    assert found[0].enforcementLevel == analyzer_pb2.MANDATORY


def test_pack_knows_what_only_the_engine_registers(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # The stack resource, the default random provider and a provider's engine-added version.
    assert analyze(analyzer, render_format.STACK, "voice-recordings-prod", {}) == []
    assert (
        analyze(analyzer, render_format.RANDOM_PROVIDER, "default_4_16_0", {"version": "4.16.0"})
        == []
    )
    secret = {**SECRET_SIG, "value": "admin"}
    # What the provider's Check fills in (its defaults) is known too.
    provider = {
        "minioServer": "s:9000",
        "minioUser": secret,
        "minioPassword": secret,
        "minioRegion": "us-east-1",
        "minioApiVersion": "v4",
        "minioSessionToken": "",
        "minioInsecure": "false",
    }
    assert (
        analyze(analyzer, render_format.PROVIDER, "minio-admin", provider | {"version": "0.17.1"})
        == []
    )


def test_pack_knows_the_defaults_the_providers_check_fills_in(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    # terraform-provider-minio v1.20.1: force_destroy, disable_user, update_secret default false.
    secret = {**SECRET_SIG, "value": "generated"}
    user = {"name": "u", "secret": secret, "forceDestroy": False, "disableUser": False}
    assert (
        analyze(analyzer, render_format.IAM_USER, "uploader-user", user | {"updateSecret": False})
        == []
    )
    account = {"targetUser": "u", "disableUser": False, "updateSecret": False}
    assert analyze(analyzer, render_format.SERVICE_ACCOUNT, "voice-ai-realtime", account) == []
    # ... but a value other than the default is not known.
    found = analyze(
        analyzer, render_format.IAM_USER, "uploader-user", user | {"updateSecret": True}
    )
    assert [d.policyName for d in found] == ["known-resources-only"]
