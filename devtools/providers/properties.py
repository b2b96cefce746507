"""Resource properties on the wire (``google.protobuf.Struct``) and back, secrets kept secret.

The engine marks a secret as an object with Pulumi's signature key, and a value not known yet
(a preview) as a fixed string (sdk/go/common/resource/plugin/rpc.go in pulumi/pulumi). A
provider that tells the engine it accepts secrets must hand every secret back marked, or the
engine stores it in plain text: :func:`to_struct` marks every property named in ``secret``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

from google.protobuf import json_format, struct_pb2  # type: ignore[import-untyped]

# Spelt here, not imported from pulumi.runtime.rpc: importing that loads the whole SDK, which the
# plugin process does not (devtools.providers.sdk_protos). A test holds them equal to the SDK's.
SIGNATURE_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE: Final = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value only `pulumi up` will know

__all__ = [
    "SECRET_SIGNATURE",
    "SIGNATURE_KEY",
    "UNKNOWN",
    "from_struct",
    "has_unknowns",
    "to_struct",
]


def _plain(value: Any, secrets: set[str], path: str) -> Any:
    if isinstance(value, dict):
        if value.get(SIGNATURE_KEY) == SECRET_SIGNATURE:
            secrets.add(path.split(".", 1)[0])
            return _plain(value.get("value"), secrets, path)
        return {k: _plain(v, secrets, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(item, secrets, path) for item in value]
    # A Struct has only doubles: a whole number (a length, a day count) comes back an int.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def from_struct(struct: struct_pb2.Struct) -> tuple[dict[str, Any], set[str]]:
    """The properties as plain values, and the top-level names that held a secret."""
    secrets: set[str] = set()
    plain = _plain(json_format.MessageToDict(struct), secrets, "")
    return plain, secrets


def to_struct(properties: Mapping[str, Any], secret: Collection[str] = ()) -> struct_pb2.Struct:
    """``properties`` as a Struct, each top-level name in ``secret`` marked secret."""
    marked = {
        name: {SIGNATURE_KEY: SECRET_SIGNATURE, "value": value}
        if name in secret and value is not None
        else value
        for name, value in properties.items()
    }
    struct = struct_pb2.Struct()
    struct.update(marked)
    return struct


def has_unknowns(value: Any) -> bool:
    """Whether ``value`` (plain) holds a value only `pulumi up` will know."""
    if isinstance(value, Mapping):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknowns(v) for v in value)
    return bool(value == UNKNOWN)
