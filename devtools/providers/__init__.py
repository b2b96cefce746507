"""The stand-in ``random`` provider plugin for the real Pulumi engine.

Tests and ``make demo`` only, never the production ``Pulumi.yaml``. (The ``minio`` plugin is no
stand-in any more: :mod:`devtools.engine.minio_plugin` builds it from the real bridge.)
pulumi-random 4.21.4 bridges terraform-provider-random's plugin-framework implementation through
the bridge's ``pkg/pf`` (its ``provider/resources.go``: ``pf.ShimProvider``); a framework
provider of our own under ``pkg/pf`` is the way to run the real bridge there too
(docs/developing.md says why it is not done yet). :func:`devtools.providers.plugins.install`
writes the executable the engine looks for; it runs ``python -m devtools.providers <name>``
(``__main__``).

This file imports nothing: the plugin process's ``__main__`` must run before Pulumi's SDK is
imported (:mod:`devtools.providers.sdk_protos`).
"""
