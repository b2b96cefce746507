"""Entry point of ``pulumi up``: the language host runs this file with the working directory infra/.

With ``main: infra/`` in Pulumi.yaml, the host runs infra/__main__.py as a script from inside infra/,
so neither the package ``infra`` nor the runtime package ``voice_recordings`` is importable by default.
Putting the repository root on sys.path makes ``import infra.program`` work exactly as it does for
the tests and the offline render.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main  # noqa: E402 - needs the sys.path entry above

main()
