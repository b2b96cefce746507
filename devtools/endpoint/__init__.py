"""The embedded S3+IAM endpoint that stands in for MinIO: moto's server, made to answer as MinIO.

:mod:`~devtools.endpoint.embedded_s3` starts it (over :mod:`~devtools.endpoint.moto_server`,
with :mod:`~devtools.endpoint.request_auth` and :mod:`~devtools.endpoint.moto_compat` for what
moto lacks or names otherwise, TLS from :mod:`~devtools.endpoint.tls` and
:mod:`~devtools.endpoint.tls_server`); :mod:`~devtools.endpoint.child_process` runs one in a
process of its own; :mod:`~devtools.endpoint.clients` talks to one without importing moto;
:mod:`~devtools.endpoint.handmade` builds the specification's hand-made state on one.
"""
