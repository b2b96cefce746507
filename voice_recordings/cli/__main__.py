"""``python -m voice_recordings.cli``: the ``voice-recordings`` command."""

import sys

from voice_recordings.cli import main

if __name__ == "__main__":  # imported (the tests import every module), it runs nothing
    sys.exit(main())
