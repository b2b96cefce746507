"""``python -m devtools.providers random [engine address]``: serve a stand-in plugin."""

from __future__ import annotations

import sys

from devtools.providers.sdk_protos import register_bare_parents

if __name__ == "__main__":
    register_bare_parents()  # before anything imports Pulumi's protocol modules
    from devtools.providers.plugins import PLUGINS
    from devtools.providers.server import serve

    if len(sys.argv) < 2 or sys.argv[1] not in PLUGINS:
        sys.exit(f"usage: python -m devtools.providers {{{'|'.join(PLUGINS)}}} [engine address]")
    serve(PLUGINS[sys.argv[1]], sys.argv[2:])
