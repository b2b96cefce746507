"""``python -m devtools.sandbox`` (``make sandbox``)."""

import sys

from devtools.sandbox.run import main

sys.exit(main())
