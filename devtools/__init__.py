"""Development only, never imported by the runtime package or the Pulumi program.

``endpoint/``: the embedded S3+IAM endpoint that stands in for MinIO; ``fake_servers/``: servers
that are not S3 (busy, stalling, impostors, a sink); ``engine/``: the real Pulumi engine's build,
the ``minio`` plugin's, and the throwaway workspace it runs in; ``providers/``: the stand-in
``random`` plugin; ``demos/``: ``make demo`` and ``make takeover-demo``; ``sandbox/``:
``make sandbox``.
"""
