"""``python -m devtools.providers minio|random [engine address]``: serve a stand-in plugin."""

from __future__ import annotations

import sys

from devtools.providers import PLUGINS
from devtools.providers.server import serve

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in PLUGINS:
        sys.exit(f"usage: python -m devtools.providers {{{'|'.join(PLUGINS)}}} [engine address]")
    serve(PLUGINS[sys.argv[1]], sys.argv[2:])
