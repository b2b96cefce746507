"""Entry point of ``pulumi up``: the language host runs this file with the working directory infra/.

With ``main: infra/`` in Pulumi.yaml, the host runs infra/__main__.py as a script from inside
infra/, so neither the package ``infra`` nor the runtime package ``voice_recordings`` is importable
by default. Putting the repository root on sys.path makes ``import infra.program`` work exactly as
it does for the tests and the offline render; dropping infra/ itself from sys.path keeps its
modules (config.py, policies.py ...) from shadowing top-level modules of the same name.
"""

import sys
from pathlib import Path

_INFRA_DIR = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _INFRA_DIR]
sys.path.insert(0, str(_INFRA_DIR.parent))

import pulumi  # noqa: E402

from infra.config import StackConfigError  # noqa: E402 - importable only after the change above
from infra.program import EXIT_AFTER_USER_MESSAGE, main  # noqa: E402

try:
    main()
except StackConfigError as exc:
    # One line naming the key; the exit code keeps the engine from adding a second error.
    pulumi.log.error(str(exc))
    sys.exit(EXIT_AFTER_USER_MESSAGE)
