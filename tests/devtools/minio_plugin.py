"""The built ``minio`` plugin (the real bridge over our Terraform provider), spoken to directly
over the provider protocol, as the engine speaks to it: fast checks of what Check, Diff and each
CRUD operation do, without a Pulumi program around them."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from devtools.engine import minio_plugin
from devtools.providers.properties import from_struct, to_struct

PACKAGE = "minio"


def urn(type_token: str, name: str) -> str:
    """A resource's URN in a throwaway stack."""
    return f"urn:pulumi:test::voice-recordings::{type_token}::{name}"


@dataclass(frozen=True)
class Checked:
    """What Check returned: the inputs and the failures (property, reason)."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


class MinioPlugin:
    """``pulumi-resource-minio`` started as the engine starts it (it prints its port)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        built = minio_plugin.locate()
        if built is None:
            raise AssertionError("the minio plugin is not built: run `make provider`")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("MINIO_")}
        self.process = subprocess.Popen(
            [str(built / minio_plugin.PLUGIN)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**inherited, **(env or {})},
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> None:
        """Stop the plugin."""
        self.channel.close()
        self.process.terminate()
        self.process.wait(timeout=10)

    def configure(self, config: Mapping[str, Any]) -> None:
        """Configure with the provider's config (camelCase keys), as the engine sends it."""
        variables = {
            f"{PACKAGE}:config:{key}": value if isinstance(value, str) else str(value).lower()
            for key, value in config.items()
        }
        self.stub.Configure(
            provider_pb2.ConfigureRequest(
                variables=variables,
                args=to_struct(dict(config)),
                acceptSecrets=True,
                acceptResources=True,
            )
        )

    def check(
        self, type_token: str, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None
    ) -> Checked:
        """Check of ``news`` (``olds``: the previous inputs)."""
        response = self.stub.Check(
            provider_pb2.CheckRequest(
                urn=urn(type_token, "r"),
                olds=to_struct(dict(olds or {})),
                news=to_struct(dict(news)),
                randomSeed=secrets.token_bytes(32),
            )
        )
        inputs, _ = from_struct(response.inputs)
        return Checked(inputs, [(f.property, f.reason) for f in response.failures])

    def diff(
        self, type_token: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> Any:
        """Diff of the state ``olds`` against the checked inputs ``news``."""
        return self.stub.Diff(
            provider_pb2.DiffRequest(
                id=id_,
                urn=urn(type_token, "r"),
                olds=to_struct(dict(olds)),
                news=to_struct(dict(news)),
                old_inputs=to_struct(dict(olds)),
            )
        )

    def create(
        self, type_token: str, inputs: Mapping[str, Any], *, preview: bool = False
    ) -> tuple[str, dict[str, Any], struct_pb2.Struct]:
        """Create; the id, the outputs (plain) and the outputs as sent (secrets marked)."""
        response = self.stub.Create(
            provider_pb2.CreateRequest(
                urn=urn(type_token, "r"), properties=to_struct(dict(inputs)), preview=preview
            )
        )
        outputs, _ = from_struct(response.properties)
        return response.id, outputs, response.properties

    def read(
        self, type_token: str, id_: str, state: Mapping[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Read (a refresh, or an import when ``state`` is empty): the id ("" = gone) and the
        state read."""
        response = self.stub.Read(
            provider_pb2.ReadRequest(
                id=id_,
                urn=urn(type_token, "r"),
                properties=to_struct(dict(state or {})),
                inputs=to_struct(dict(state or {})),
            )
        )
        properties, _ = from_struct(response.properties)
        return response.id, properties

    def delete(self, type_token: str, id_: str, state: Mapping[str, Any]) -> None:
        """Delete."""
        self.stub.Delete(
            provider_pb2.DeleteRequest(
                id=id_, urn=urn(type_token, "r"), properties=to_struct(dict(state))
            )
        )
