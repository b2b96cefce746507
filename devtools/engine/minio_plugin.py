"""``make provider``: the ``minio`` resource plugin the engine runs here, from the real bridge.

``tools/provider/`` is a Go module of ours: pulumi-terraform-bridge v3.135.0 (the version
pulumi-minio 0.17.1 is built with, its ``provider/go.mod``) configured as pulumi-minio's
``provider/resources.go`` configures it, over our own Terraform provider ``minio``
(terraform-plugin-sdk/v2, Pulumi's fork as the bridge requires) that declares
terraform-provider-minio v1.20.1's schema and does on the embedded endpoint what v1.20.1 does on
MinIO. Two executables are built, like the engine, into a cache outside the clone keyed by the
bridge version and a hash of ``tools/provider``:

- ``pulumi-resource-minio``, the plugin, serving the schema committed beside its ``main.go``;
- ``pulumi-tfgen-minio``, the bridge's own schema generator run on our provider
  (:func:`generate_schema`; ``make provider-schema`` rewrites the committed schema with it, and a
  test holds the two equal).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

from devtools.engine import go_build
from infra.project import REPOSITORY

MODULE_DIR: Final = REPOSITORY / "tools" / "provider"
BRIDGE_MODULE: Final = "github.com/pulumi/pulumi-terraform-bridge/v3"
SDK_MODULE: Final = "github.com/hashicorp/terraform-plugin-sdk/v2"
SDK_FORK: Final = "github.com/pulumi/terraform-plugin-sdk/v2"
PLUGIN: Final = "pulumi-resource-minio"
TFGEN: Final = "pulumi-tfgen-minio"
EXECUTABLES: Final = (PLUGIN, TFGEN)
SCHEMA: Final = MODULE_DIR / "cmd" / PLUGIN / "schema.json"
METADATA: Final = MODULE_DIR / "bridge" / "bridge-metadata.json"
COLD_BUILD_NOTE: Final = "about 4 minutes on 2 cores, 200 MB of Go modules to download"


class ProviderBuildError(RuntimeError):
    """The plugin cannot be built or found; the message says what to do."""


def required_version(module: str) -> str:
    """The version ``tools/provider/go.mod`` requires of ``module``."""
    found = go_build.required_version(MODULE_DIR, module)
    if found is None:
        raise ProviderBuildError(f"tools/provider/go.mod requires no {module}")
    return found


def build_dir() -> Path:
    """The directory this bridge version and this ``tools/provider`` build into."""
    version = required_version(BRIDGE_MODULE)
    return go_build.cache_root("provider") / f"{version}-{go_build.source_hash(MODULE_DIR)}"


def locate() -> Path | None:
    """The directory of the built plugin and tfgen, or None if not built."""
    built = build_dir()
    return built if all((built / name).exists() for name in EXECUTABLES) else None


def build() -> Path:
    """Build the plugin and tfgen into the cache (nothing when they are there); their
    directory."""
    found = locate()
    if found is not None:
        return found
    target = build_dir()
    print(
        f"Building the minio plugin (pulumi-terraform-bridge {required_version(BRIDGE_MODULE)} "
        f"over our Terraform provider) into {target} (first time only: {COLD_BUILD_NOTE}) ...",
        file=sys.stderr,
        flush=True,
    )
    try:
        built = go_build.build_into(
            target,
            MODULE_DIR,
            ((f"./cmd/{PLUGIN}", PLUGIN), (f"./cmd/{TFGEN}", TFGEN)),
            flags=("-ldflags", "-s -w"),
        )
    except go_build.GoBuildError as exc:
        raise ProviderBuildError(str(exc)) from exc
    print(f"Built in {built.line()}.", file=sys.stderr, flush=True)
    return target


def generate_schema(built: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the bridge's tfgen makes of our provider now: the Pulumi schema and the bridge
    metadata (no docs: they would come from the upstream repository, which is not fetched)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(built / TFGEN), "schema", "--skip-docs", "--skip-examples", "--out", out],
            cwd=out,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        schema = json.loads((Path(out) / "schema.json").read_text(encoding="utf-8"))
        metadata = json.loads((Path(out) / "bridge-metadata.json").read_text(encoding="utf-8"))
    return schema, metadata


def write_schema() -> None:
    """``make provider-schema``: the committed schema and metadata, as tfgen makes them now
    (then ``make provider`` rebuilds the plugin that embeds them)."""
    schema, metadata = generate_schema(build())
    SCHEMA.write_text(json.dumps(schema, indent=4) + "\n", encoding="utf-8")
    METADATA.write_text(json.dumps(metadata, indent=4) + "\n", encoding="utf-8")


def install(directory: Path) -> Path:
    """Put the built plugin where the engine looks for it (a plugin cache entry
    ``$PULUMI_HOME/plugins/resource-minio-v<version>``, or a directory on PATH); return it."""
    built = locate()
    if built is None:
        raise ProviderBuildError("the minio plugin is not built: run `make provider`")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / PLUGIN
    target.unlink(missing_ok=True)
    target.symlink_to(built / PLUGIN)
    return directory


def main(argv: list[str]) -> int:
    """Build (or find) the plugin and print its directory; ``--write-schema`` regenerates the
    committed schema."""
    try:
        if argv[1:] == ["--write-schema"]:
            write_schema()
            print(f"wrote {SCHEMA.relative_to(REPOSITORY)} and {METADATA.relative_to(REPOSITORY)}")
        else:
            print(build())
    except (ProviderBuildError, subprocess.CalledProcessError) as exc:
        print(f"make provider: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
