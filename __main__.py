"""Entry point of ``pulumi up``: Pulumi.yaml sets no ``main``, so the language host runs this file.

The project directory (the clone, or a project directory of its own made by ``python -m
infra.project``) is then on ``sys.path``, so ``infra`` and ``voice_recordings`` import as they do
for the tests and the offline render.
"""

import sys

import pulumi

from infra.config import StackConfigError
from infra.program import EXIT_AFTER_USER_MESSAGE, main

try:
    main()
except StackConfigError as exc:
    # One line naming the key; the exit code keeps the engine from adding a second error.
    pulumi.log.error(str(exc))
    sys.exit(EXIT_AFTER_USER_MESSAGE)
