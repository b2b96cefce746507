"""``python -m devtools.engine`` (``make engine``): build or find the engine; print its place."""

import sys

from devtools.engine.pulumi_cli import main

sys.exit(main())
