"""The ``sandbox`` command: what only the running sandbox can do, asked from another shell.

The sandbox listens on a UNIX socket in its directory (0700, so only its user reaches it);
``<dir>/bin/sandbox`` (on the sandbox shell's ``PATH``) sends its arguments there as one JSON
line and prints the answer: ``{"code": exit status, "text": what to print}`` (on stdout when
the status is 0, else on stderr). The commands themselves are the sandbox's
(:meth:`devtools.sandbox.run.Sandbox.command`); this module only carries them, and imports
nothing heavy, so the command starts at once.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

SOCKET: Final = "control.sock"
Handler = Callable[[list[str]], tuple[int, str]]


class ControlServer:
    """Answers ``sandbox`` commands on ``path`` with ``handler`` (one at a time)."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        lock = threading.Lock()  # one command at a time: each may change the sandbox

        class Request(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    argv = [str(a) for a in json.loads(self.rfile.readline() or b"[]")]
                    with lock:
                        code, text = handler(argv)
                except Exception as exc:
                    code, text = 1, f"sandbox: {type(exc).__name__}: {exc}"
                self.wfile.write(json.dumps({"code": code, "text": text}).encode() + b"\n")

        self._server = socketserver.ThreadingUnixStreamServer(str(path), Request)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> ControlServer:
        """Serve in a thread of its own; self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and remove the socket; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


def client(argv: Sequence[str], path: Path) -> int:
    """Send ``argv`` to the sandbox at ``path``, print its answer; its exit status."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(path))
            connection.sendall(json.dumps(list(argv)).encode() + b"\n")
            answer = json.loads(connection.makefile("rb").readline() or b"{}")
    except (OSError, ValueError):
        print(
            f"sandbox: no sandbox is running at {path.parent}: start one with `make sandbox`",
            file=sys.stderr,
        )
        return 1
    code, text = int(answer.get("code", 1)), str(answer.get("text", ""))
    if text:
        print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def client_script(python: Path, repository: Path, path: Path) -> str:
    """The ``sandbox`` executable: this module's :func:`client`, for the socket at ``path``."""
    return (
        f"#!{python}\n"
        f'"""The sandbox\'s command (make sandbox): `sandbox help`."""\n'
        "import sys\n"
        f"sys.path.insert(0, {str(repository)!r})\n"
        "from pathlib import Path\n"
        "from devtools.sandbox.control import client\n"
        f"sys.exit(client(sys.argv[1:], Path({str(path)!r})))\n"
    )
