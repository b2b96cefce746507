"""``python -m devtools.sandbox [--dir DIR]`` (``make sandbox``): start, serve until Ctrl-C, stop.

It takes the sandbox's directory (:mod:`devtools.sandbox.place`: a second sandbox there says
which process runs it and exits 1), finds the engine and the ``minio`` plugin (``make sandbox``
built them), starts a storage per stack, deploys ``dev`` and makes ``prod``
(:mod:`devtools.sandbox.stacks`), writes ``env.sh`` and the ``sandbox`` command, and prints what
to paste in another shell. Then it serves the ``sandbox`` command until Ctrl-C (or SIGTERM, or
the terminal closing): everything it started is stopped, its directory removed, one line says
so, and it exits 130, as the CLI does when interrupted.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Final

from devtools.engine import minio_plugin, pulumi_cli
from devtools.engine.workspace import MINIO_PLUGIN_VERSION, PulumiFailed
from devtools.sandbox import shell
from devtools.sandbox.control import SOCKET, ControlServer, client_script
from devtools.sandbox.place import Place, SandboxBusy, default_dir, write_private
from devtools.sandbox.stacks import BLOCKS, DEPLOYED, READY, SandboxStacks
from devtools.sandbox.storage import Storage, write_ca_bundle
from infra.project import REPOSITORY

EXIT_INTERRUPTED: Final = 130
# docs/operating.md's `<new-name>` (renaming the uploader), in the sandbox.
NEW_NAME: Final = "voice-ai-uploader"

HELP: Final = """sandbox status            the stacks, their storage's address, up or down
sandbox stop STACK        STACK's storage goes down (connections refused), keeping what it holds
sandbox start STACK       ... and comes back at the same address
sandbox handmade          prod starts over on the specification's hand-made storage (the takeover)
sandbox placeholders      the value of each <placeholder> of the docs, here
sandbox placeholder NAME  one of them (e.g. "$(sandbox placeholder console-access-key)")"""


class Sandbox:
    """What runs under ``root``: the storages, the project and stacks, the ``sandbox`` command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca_bundle = root / "ca.pem"
        admin_secret = secrets.token_urlsafe(24)
        self.storages = {
            stack: Storage(stack, admin_secret, self.ca_bundle) for stack in (DEPLOYED, READY)
        }
        self.stacks: SandboxStacks | None = None
        self.control: ControlServer | None = None

    def start(self, engine_dir: Path) -> None:
        """Storages up, ``prod`` made, ``dev`` deployed, ``env.sh``, the command, the socket."""
        for storage in self.storages.values():
            storage.launch()
        write_ca_bundle(self.ca_bundle, self.storages.values())
        self.stacks = SandboxStacks(engine_dir, self.root, self.storages)
        self.stacks.prepare()
        admin = self.storages[DEPLOYED].admin
        variables = shell.exports(self.root, self.stacks.workspace, admin)
        write_private(
            self.root / shell.ENV_FILE, shell.script(self.stacks.workspace.project, variables)
        )
        command = self.root / shell.BIN / "sandbox"
        command.parent.mkdir(mode=0o700)
        write_private(command, client_script(Path(sys.executable), REPOSITORY, self.socket))
        command.chmod(0o700)
        self.control = ControlServer(self.socket, self.command).start()

    @property
    def socket(self) -> Path:
        """The control socket's path."""
        return self.root / SOCKET

    def close(self) -> None:
        """Stop everything it started; safe to call twice."""
        if self.control is not None:
            self.control.close()
        for storage in self.storages.values():
            storage.close()

    def banner(self) -> str:
        """What ``make sandbox`` prints once ready (no secret in it)."""
        dev, prod = self.storages[DEPLOYED], self.storages[READY]
        bridge = minio_plugin.required_version(minio_plugin.BRIDGE_MODULE)
        blocks = ", ".join(BLOCKS.values())
        return "\n".join(
            [
                f"Sandbox ready in {self.root} (pulumi {pulumi_cli.pinned_version()}; minio "
                f"{MINIO_PLUGIN_VERSION} over pulumi-terraform-bridge {bridge}):",
                f"  {DEPLOYED:5} deployed on {dev.endpoint_url} (TLS, a throwaway CA)",
                f"  {READY:5} made, not deployed, on {prod.endpoint_url} "
                f'(docs/operating.md, "Deploying")',
                "In another shell, paste:",
                "",
                f"  . {self.root / shell.ENV_FILE}",
                "",
                "It cds into the sandbox's project directory and exports PATH (pulumi, "
                "voice-recordings, sandbox), PYTHONPATH, the backend and passphrase, the admin's "
                "MINIO_USER/MINIO_PASSWORD, MINIO_CA_BUNDLE, MINIO_SPOOL_DIR and SANDBOX.",
                f"{DEPLOYED}'s .env blocks (0600): $SANDBOX/blocks/{DEPLOYED}/{{{blocks}}}.",
                "`sandbox help` there: an outage, the hand-made storage, the docs' placeholders.",
                "The tour: docs/try-it-locally.md. Ctrl-C here stops everything.",
            ]
        )

    # -- the `sandbox` command ----------------------------------------------------------------

    def command(self, argv: list[str]) -> tuple[int, str]:
        """Run ``sandbox ARGV``: (exit status, what to print)."""
        match argv:
            case [] | ["help"] | ["--help"] | ["-h"]:
                return 0, HELP
            case ["status"]:
                return 0, self.status()
            case ["stop" | "start" as verb, stack] if stack in self.storages:
                storage = self.storages[stack]
                if verb == "stop":
                    storage.stop()
                else:
                    storage.start()
                return 0, f"{stack}: {storage.endpoint_url} {'up' if storage.up else 'down'}"
            case ["handmade"]:
                return 0, self.handmade()
            case ["placeholders"]:
                return 0, "\n".join(f"<{k}> {v}" for k, v in self.placeholders().items())
            case ["placeholder", name]:
                found = self.placeholders().get(name)
                if found is None:
                    return 1, self._unknown_placeholder(name)
                return 0, found
        return 2, f"sandbox: unknown command {' '.join(argv)!r}\n{HELP}"

    def status(self) -> str:
        """One line per stack: its storage's address, up or down."""
        return "\n".join(
            f"{stack:5} {storage.endpoint_url} {'up' if storage.up else 'down'}"
            for stack, storage in self.storages.items()
        )

    def handmade(self) -> str:
        """``prod`` on a new server holding the specification's hand-made storage."""
        assert self.stacks is not None
        prod = self.storages[READY]
        prod.replace(handmade=True)
        write_ca_bundle(self.ca_bundle, self.storages.values())
        self.stacks.restart_prod()
        return (
            f"{READY}: {prod.endpoint_url} now holds the specification's hand-made storage "
            f"(bucket voice-recordings, user voice-ai-service with a chosen password, policy "
            f"voice-ai-policy, the console's service account: `sandbox placeholder "
            f"console-access-key`, old recordings without the kind tag). The {READY} stack "
            f"starts over (its state forgotten, its stack file the clone's again) and is "
            f'selected: docs/operating.md, "Taking over the hand-made storage".'
        )

    def placeholders(self) -> dict[str, str]:
        """``<name>`` of the docs -> its value in the sandbox."""
        admin = self.storages[DEPLOYED].admin
        values = {
            "admin-user": admin.access_key,
            "admin-password": admin.secret_key,
            "new-name": NEW_NAME,
        }
        console = self.storages[READY].console
        if console is not None:
            values["console-access-key"] = console.access_key
        return values

    def _unknown_placeholder(self, name: str) -> str:
        if name == "console-access-key":
            return "sandbox: no hand-made storage yet: run `sandbox handmade` first"
        return f"sandbox: no placeholder <{name}>; known: {', '.join(self.placeholders())}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until interrupted; 130 then, 1 if it could not start."""
    parser = argparse.ArgumentParser(prog="python -m devtools.sandbox", description=__doc__)
    parser.add_argument("--dir", type=Path, default=None, help=f"default: {default_dir()}")
    args = parser.parse_args(argv)
    place = Place(args.dir or default_dir())
    try:
        place.acquire()
    except SandboxBusy as exc:
        print(f"make sandbox: {exc}", file=sys.stderr)
        return 1
    # Ctrl-C stops it even when started where SIGINT is ignored (a shell's background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    sandbox = Sandbox(place.directory)
    try:
        print(f"Starting the sandbox in {place.directory} ...", flush=True)
        engine_dir = pulumi_cli.build()  # `make sandbox` built both: this only finds them
        minio_plugin.build()
        sandbox.start(engine_dir)
        print(sandbox.banner(), flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        sandbox.close()
        place.release()
        print("\nsandbox stopped: its servers are down and its directory removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (pulumi_cli.EngineError, PulumiFailed, OSError, RuntimeError) as exc:
        sandbox.close()
        place.release()
        print(f"make sandbox: could not start: {exc}", file=sys.stderr)
        return 1
    return 0  # not reached: only an interruption ends the wait
