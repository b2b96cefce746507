"""A Pulumi resource provider plugin: the engine's gRPC protocol over one table of behaviours.

As pulumi-random and pulumi-command are built: the servicer here knows the protocol (handshake,
config, Check, Diff, Create, Read, Update, Delete, secrets on the wire, previews), and each
resource type is one :class:`ResourceBehaviour` in a :class:`Plugin`'s table. Pulumi's Python
SDK offers no such servicer for custom resources (``pulumi.provider.Provider`` serves Construct
only), so this one is written against the protocol itself
(``pulumi/runtime/proto/provider_pb2_grpc.py``).

Read answers "gone" with an empty id, which refresh and import depend on.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Collection, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from devtools.providers.properties import UNKNOWN, from_struct, to_struct

Properties = dict[str, Any]
CONFIG_PREFIX_SEPARATOR: Final = ":config:"


@dataclass(frozen=True)
class Failure:
    """An input the provider refuses at Check: the engine reports it and stops before any step."""

    property: str
    reason: str


@dataclass(frozen=True)
class Diff:
    """What differs between the stored state and the new inputs, and what forces a replace."""

    changed: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadResult:
    """What Read found on the server: the id, the outputs and the inputs they imply."""

    id: str
    outputs: Properties
    inputs: Properties


class ResourceBehaviour(Protocol):
    """What one resource type does: the provider's CRUD for it, on a configured client."""

    @property
    def sensitive(self) -> frozenset[str]:
        """Outputs that are always secret (the provider's Sensitive attributes)."""

    def check(self, olds: Properties, news: Properties) -> tuple[Properties, list[Failure]]:
        """The inputs with the provider's defaults filled in, and what it refuses."""

    def diff(self, olds: Properties, news: Properties, ignore: Collection[str]) -> Diff:
        """How the stored outputs ``olds`` differ from the checked inputs ``news``."""

    def create(self, client: Any, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        """Make the object; its id and outputs (unknown ones as UNKNOWN when ``preview``)."""

    def read(self, client: Any, id_: str, state: Properties) -> ReadResult | None:
        """What the server holds under ``id_``; None when it is gone."""

    def update(
        self, client: Any, id_: str, olds: Properties, news: Properties, preview: bool
    ) -> Properties:
        """Change the object in place; the new outputs."""

    def delete(self, client: Any, id_: str, state: Properties) -> None:
        """Remove the object."""


@dataclass(frozen=True)
class Plugin:
    """A provider: its name and version, its config, and the table of its resource types."""

    name: str
    version: str
    resources: Mapping[str, ResourceBehaviour]
    # The provider's own config: checked at CheckConfig, turned into a client at Configure.
    check_config: Callable[[Properties], tuple[Properties, list[Failure]]]
    configure: Callable[[Properties], Any]
    sensitive_config: frozenset[str] = field(default_factory=frozenset)


def _type_of(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<parent types$>type::<name>
    return urn.split("::")[2].rsplit("$", 1)[-1]


class ProviderServicer(provider_pb2_grpc.ResourceProviderServicer):
    """The engine's ResourceProvider service, dispatching each call to the type's behaviour."""

    def __init__(self, plugin: Plugin) -> None:
        self.plugin = plugin
        self.client: Any = None
        self.configured = False

    # -- helpers ------------------------------------------------------------------------------

    def _behaviour(self, urn: str, context: grpc.ServicerContext) -> ResourceBehaviour:
        type_ = _type_of(urn)
        behaviour = self.plugin.resources.get(type_)
        if behaviour is None:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{self.plugin.name} {self.plugin.version} (stand-in) has no resource type {type_}",
            )
            raise AssertionError("unreachable: abort raises")
        return behaviour

    def _configured(self, context: grpc.ServicerContext) -> Any:
        if not self.configured:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "the provider is not configured")
        return self.client

    @staticmethod
    def _fail(context: grpc.ServicerContext, what: str, exc: Exception) -> None:
        # One line the engine shows under the resource; the stack trace only with -v.
        print(traceback.format_exc(), file=sys.stderr)
        context.abort(grpc.StatusCode.UNKNOWN, f"{what}: {exc}")

    @staticmethod
    def _check_response(
        inputs: Properties, failures: list[Failure], secret: Collection[str]
    ) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(
            inputs=to_struct(inputs, secret),
            failures=[
                provider_pb2.CheckFailure(property=f.property, reason=f.reason) for f in failures
            ],
        )

    # -- the plugin and its config ---------------------------------------------------------------

    def Handshake(
        self, request: provider_pb2.ProviderHandshakeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ProviderHandshakeResponse:
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True)

    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=self.plugin.version)

    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        # The engine asks only when generating code or converting; the SDK is installed.
        return provider_pb2.GetSchemaResponse(schema="{}")

    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        news, secret = from_struct(request.news)
        inputs, failures = self.plugin.check_config(news)
        return self._check_response(inputs, failures, secret | self.plugin.sensitive_config)

    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        olds, _ = from_struct(request.olds)
        news, _ = from_struct(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        if request.HasField("args"):
            config, _ = from_struct(request.args)
        else:
            config = {
                key.split(CONFIG_PREFIX_SEPARATOR, 1)[-1]: value
                for key, value in request.variables.items()
            }
        try:
            self.client = self.plugin.configure(config)
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        self.configured = True
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True)

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    # -- resources ----------------------------------------------------------------------------

    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        behaviour = self._behaviour(request.urn, context)
        olds, _ = from_struct(request.olds)
        news, secret = from_struct(request.news)
        inputs, failures = behaviour.check(olds, news)
        return self._check_response(inputs, failures, secret)

    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        behaviour = self._behaviour(request.urn, context)
        olds, _ = from_struct(request.olds)
        news, _ = from_struct(request.news)
        diff = behaviour.diff(olds, news, frozenset(request.ignoreChanges))
        kind = provider_pb2.PropertyDiff
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if diff.changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=list(diff.changed),
            replaces=list(diff.replaces),
            detailedDiff={
                name: kind(kind=kind.UPDATE_REPLACE if name in diff.replaces else kind.UPDATE)
                for name in diff.changed
            },
            hasDetailedDiff=True,
        )

    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        behaviour = self._behaviour(request.urn, context)
        inputs, secret = from_struct(request.properties)
        client = None if request.preview else self._configured(context)
        try:
            id_, outputs = behaviour.create(client, inputs, request.preview)
        except Exception as exc:
            self._fail(context, "creating", exc)
        return provider_pb2.CreateResponse(
            id=id_, properties=to_struct(outputs, secret | behaviour.sensitive)
        )

    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        behaviour = self._behaviour(request.urn, context)
        state, secret = from_struct(request.properties)
        # An import reads with no state: the program's inputs are all there is to go on.
        old_inputs, input_secret = from_struct(request.inputs)
        try:
            found = behaviour.read(self._configured(context), request.id, {**old_inputs, **state})
        except Exception as exc:
            self._fail(context, f"reading {request.id}", exc)
        if found is None:
            return provider_pb2.ReadResponse()  # no id: the object is gone
        return provider_pb2.ReadResponse(
            id=found.id,
            properties=to_struct(found.outputs, secret | input_secret | behaviour.sensitive),
            inputs=to_struct(found.inputs, secret | input_secret | behaviour.sensitive),
        )

    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        behaviour = self._behaviour(request.urn, context)
        olds, old_secret = from_struct(request.olds)
        news, secret = from_struct(request.news)
        client = None if request.preview else self._configured(context)
        try:
            outputs = behaviour.update(client, request.id, olds, news, request.preview)
        except Exception as exc:
            self._fail(context, f"updating {request.id}", exc)
        return provider_pb2.UpdateResponse(
            properties=to_struct(outputs, secret | old_secret | behaviour.sensitive)
        )

    def Delete(
        self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        behaviour = self._behaviour(request.urn, context)
        state, _ = from_struct(request.properties)
        try:
            behaviour.delete(self._configured(context), request.id, state)
        except Exception as exc:
            self._fail(context, f"deleting {request.id}", exc)
        return empty_pb2.Empty()


def unknown_outputs(inputs: Properties, computed: Collection[str]) -> Properties:
    """A preview's outputs: the inputs, and every computed output not known yet."""
    return {**inputs, **{name: UNKNOWN for name in computed if name not in inputs}}


def serve(plugin: Plugin, argv: list[str] | None = None) -> None:
    """Serve ``plugin`` on a free loopback port, print the port (the engine reads it), and run
    until the engine stops the process."""
    parser = argparse.ArgumentParser(prog=f"pulumi-resource-{plugin.name}")
    parser.add_argument("engine", nargs="?", help="the engine's address (unused: no callbacks)")
    parser.parse_known_args(argv)  # the engine may add logging and tracing flags
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(ProviderServicer(plugin), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()
