"""The real Pulumi engine, on this machine: its build, the ``minio`` plugin's, and where it runs.

:mod:`~devtools.engine.pulumi_cli` builds the pinned Pulumi CLI and Python language host
(``make engine``, ``python -m devtools.engine``); :mod:`~devtools.engine.minio_plugin` builds the
``minio`` plugin from the real bridge (``make provider``,
``python -m devtools.engine.minio_plugin``); both through :mod:`~devtools.engine.go_build`.
:mod:`~devtools.engine.workspace` is the throwaway project, backend and plugin cache where the
tests, the demos and the sandbox run the engine on this repository's program.
"""
