"""``make provider``: the ``minio`` plugin is the real bridge at the version pulumi-minio 0.17.1
is built with, over our Terraform provider, and its schema is tfgen's and pulumi_minio's."""

from __future__ import annotations

import collections.abc
import importlib
import json
import re
import subprocess
import typing
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi._types import input_type_py_to_pulumi_names

from devtools.engine import minio_plugin
from infra.project import REPOSITORY

# What may never be built into the plugin (AGPL: read, never built, imported or vendored).
FORBIDDEN_MODULES = (
    "github.com/aminueza/terraform-provider-minio",
    "github.com/minio/minio ",
    "github.com/minio/madmin-go",
)


@pytest.fixture(scope="module")
def built() -> Path:
    """The plugin ``make provider`` built (``make test`` builds it before the tests)."""
    found = minio_plugin.locate()
    if found is None:
        pytest.fail("the minio plugin is not built: run `make provider`")
    return found


def _build_info(executable: Path) -> str:
    done = subprocess.run(
        ["go", "version", "-m", str(executable)], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_the_plugin_is_the_bridge_over_sdk_v2_at_pulumi_minios_versions(built: Path) -> None:
    assert not built.resolve().is_relative_to(REPOSITORY)
    info = _build_info(built / minio_plugin.PLUGIN)
    bridge = minio_plugin.required_version(minio_plugin.BRIDGE_MODULE)
    assert bridge == "v3.135.0"  # pulumi-minio 0.17.1's provider/go.mod
    assert re.search(rf"dep\s+{re.escape(minio_plugin.BRIDGE_MODULE)}\s+{bridge}\s", info)
    # terraform-plugin-sdk/v2, replaced by Pulumi's fork as the bridge's own go.mod replaces it.
    assert re.search(rf"dep\s+{re.escape(minio_plugin.SDK_MODULE)}\s+v2\.", info)
    assert re.search(rf"=>\s+{re.escape(minio_plugin.SDK_FORK)}\s+v2\.0\.0-", info)
    assert re.search(r"dep\s+github.com/minio/minio-go/v7\s+v7\.0\.63\s", info)
    for module in FORBIDDEN_MODULES:
        assert module not in info, module
    version = subprocess.run(
        [str(built / minio_plugin.PLUGIN), "-version"], capture_output=True, text=True
    )
    plugin_json = Path(importlib.import_module("pulumi_minio").__file__ or "").parent
    sdk = json.loads((plugin_json / "pulumi-plugin.json").read_text(encoding="utf-8"))
    assert version.stdout.strip() == sdk["version"]


def test_the_committed_schema_is_what_tfgen_makes_of_our_provider(built: Path) -> None:
    schema, metadata = minio_plugin.generate_schema(built)
    assert json.loads(minio_plugin.SCHEMA.read_text(encoding="utf-8")) == schema, (
        "stale: run `make provider-schema`"
    )
    assert json.loads(minio_plugin.METADATA.read_text(encoding="utf-8")) == metadata


# -- the schema against the pulumi_minio 0.17.1 SDK the program is written with ---------------

SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _schema_type(spec: dict[str, Any]) -> Any:
    if "$ref" in spec:
        return spec["$ref"].rsplit(":", 1)[-1]
    if spec["type"] == "array":
        return ("array", _schema_type(spec["items"]))
    if spec["type"] == "object":
        return ("map", _schema_type(spec["additionalProperties"]))
    return spec["type"]


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """The type an SDK annotation carries, and whether it is optional."""
    optional = False
    while True:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Union:
            members = [a for a in args if a is not type(None)]
            optional |= len(members) < len(args)
            # pulumi.Input[T] is Union[T, Awaitable[T], Output[T]]: T is the first.
            hint = members[0]
        elif origin is pulumi.Output:
            hint = args[0]
        else:
            return hint, optional


def _sdk_type(hint: Any) -> Any:
    hint, _ = _unwrap(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (collections.abc.Sequence, list):
        return ("array", _sdk_type(args[0]))
    if origin in (collections.abc.Mapping, dict):
        return ("map", _sdk_type(args[1]))
    if hint in SCALARS:
        return SCALARS[hint]
    name = hint.__forward_arg__ if isinstance(hint, typing.ForwardRef) else hint.__name__
    return re.sub(r"Args$", "", name.removeprefix("outputs."))


def _hints(function: Any) -> dict[str, Any]:
    # The annotations as written (typing.get_type_hints cannot resolve pulumi.Input's own
    # forward reference "Output[T]"); a nested type stays a ForwardRef, read by its name.
    return dict(function.__annotations__)


def _sdk_inputs(args_cls: type) -> dict[str, tuple[Any, bool]]:
    names = input_type_py_to_pulumi_names(args_cls)
    hints = _hints(args_cls.__init__)  # type: ignore[misc]
    return {
        names[py]: (_sdk_type(hint), not _unwrap(hint)[1])
        for py, hint in hints.items()
        if py != "return"
    }


def _sdk_outputs(resource_cls: type) -> dict[str, tuple[Any, bool]]:
    found = {}
    for member in vars(resource_cls).values():
        getter = getattr(member, "fget", None)
        name = getattr(getter, "_pulumi_name", None)
        if name is not None:
            hint = _hints(getter)["return"]
            found[name] = (_sdk_type(hint), not _unwrap(hint)[1])
    return found


def _schema_side(spec: dict[str, Any], properties: str, required: str) -> dict[str, Any]:
    return {
        name: (_schema_type(prop), name in spec.get(required, []))
        for name, prop in spec.get(properties, {}).items()
    }


SCHEMA = json.loads(minio_plugin.SCHEMA.read_text(encoding="utf-8"))


def _sdk_class(token: str) -> tuple[type, type]:
    module_part, name = token.split(":")[1].split("/")[1], token.rsplit(":", 1)[-1]
    module = importlib.import_module(
        f"pulumi_minio.{re.sub(r'(?<!^)(?=[A-Z])', '_', module_part).lower()}"
    )
    return getattr(module, name), getattr(module, f"{name}Args")


@pytest.mark.parametrize("token", sorted(SCHEMA["resources"]))
def test_each_resource_is_pulumi_minios_name_by_name_and_type_by_type(token: str) -> None:
    resource_cls, args_cls = _sdk_class(token)
    spec = SCHEMA["resources"][token]
    assert _schema_side(spec, "inputProperties", "requiredInputs") == _sdk_inputs(args_cls)
    assert _schema_side(spec, "properties", "required") == _sdk_outputs(resource_cls)


@pytest.mark.parametrize("token", sorted(SCHEMA["types"]))
def test_each_nested_type_is_pulumi_minios(token: str) -> None:
    name = token.rsplit(":", 1)[-1]
    inputs = importlib.import_module("pulumi_minio._inputs")
    outputs = importlib.import_module("pulumi_minio.outputs")
    spec = SCHEMA["types"][token]
    assert _schema_side(spec, "properties", "required") == _sdk_inputs(
        getattr(inputs, f"{name}Args")
    ) or _schema_side(spec, "properties", "required") == _sdk_outputs(getattr(outputs, name))


def test_the_provider_config_is_pulumi_minios() -> None:
    provider_module = importlib.import_module("pulumi_minio.provider")
    spec = SCHEMA["provider"]
    assert _schema_side(spec, "inputProperties", "requiredInputs") == _sdk_inputs(
        provider_module.ProviderArgs
    )
