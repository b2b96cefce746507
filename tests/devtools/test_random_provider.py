"""The stand-in ``random`` plugin behaves as terraform-provider-random's ``random_password``
(what pulumi-random 4.21.4 bridges), where that decides what a deploy does."""

from __future__ import annotations

import json
import sys
from typing import Any

import bcrypt
import pulumi
import pulumi.runtime.rpc

from devtools.providers.properties import (
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN,
    from_struct,
    to_struct,
)
from devtools.providers.random_provider import BCRYPT_COST, RandomPassword
from devtools.providers.sdk_protos import register_bare_parents
from tests.support import run_python


def test_random_password_as_terraform_provider_random() -> None:
    password = RandomPassword()
    inputs, failures = password.check({}, {"length": 40, "special": False})
    assert failures == [] and inputs["upper"] is True and inputs["minLower"] == 0
    assert [f.property for f in password.check({}, {"length": 0})[1]] == ["length"]
    assert [f.property for f in password.check({}, {"length": 2, "minUpper": 3})[1]] == ["length"]
    id_, outputs = password.create(None, inputs, preview=False)
    assert id_ == "none" and len(outputs["result"]) == 40 and outputs["result"].isalnum()
    assert password.diff(outputs, {**inputs, "length": 41}, ()).replaces == ("length",)
    assert password.sensitive == {"result", "bcryptHash"}
    # generateHash: bcrypt at Go's DefaultCost (10), of the result.
    assert outputs["bcryptHash"].startswith(f"$2b${BCRYPT_COST:02d}$")
    assert bcrypt.checkpw(outputs["result"].encode(), outputs["bcryptHash"].encode())


def test_secrets_stay_marked_on_the_wire() -> None:
    struct = to_struct({"name": "u", "secret": "s3cr3t"}, {"secret"})
    wire: Any = json.loads(json.dumps(dict(struct)["secret"], default=dict))
    assert wire[SIGNATURE_KEY] == SECRET_SIGNATURE
    plain, secret = from_struct(struct)
    assert plain == {"name": "u", "secret": "s3cr3t"} and secret == {"secret"}


def test_the_plugin_process_loads_the_protocol_without_the_sdk() -> None:
    """The stand-in starts on every preview and update: its process imports Pulumi's generated
    protocol modules and none of the SDK's own code (which costs 0.3 CPU-seconds a start)."""
    script = """
        import sys
        from devtools.providers.sdk_protos import register_bare_parents
        register_bare_parents()
        from devtools.providers.plugins import PLUGINS
        from devtools.providers.server import serve
        sdk = sorted(m for m in sys.modules if m.startswith("pulumi") and "_pb2" not in m)
        print(sdk, sys.modules["pulumi.runtime.proto.provider_pb2"].DESCRIPTOR.name)
    """
    printed = run_python(script).strip()
    assert printed == "['pulumi', 'pulumi.runtime', 'pulumi.runtime.proto'] pulumi/provider.proto"


def test_a_process_with_the_sdk_keeps_it() -> None:
    register_bare_parents()
    assert sys.modules["pulumi"] is pulumi and hasattr(pulumi, "Output")


def test_the_plugins_wire_markers_are_the_sdks() -> None:
    assert (
        pulumi.runtime.rpc._special_sig_key,
        pulumi.runtime.rpc._special_secret_sig,
        pulumi.runtime.rpc.UNKNOWN,
    ) == (SIGNATURE_KEY, SECRET_SIGNATURE, UNKNOWN)
