"""What the stand-in ``minio`` plugin (:mod:`devtools.providers.minio_provider`) does on the
embedded endpoint, until the bridged plugin replaces it (issue 25): nothing else may use it.

- :mod:`~devtools.provision.actions`: each provider operation as S3 and IAM calls;
- :mod:`~devtools.provision.lifecycle`: MinIO's ILM rules as S3 lifecycle rules;
- :mod:`~devtools.provision.model`: the type token, prefix and errors those two share.

Every deploy, in the tests and the demos, is the engine's ``pulumi up``.
"""
