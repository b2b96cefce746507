"""Provision a live S3+IAM endpoint from a stack's render: what `pulumi up` would do, for tests.

Dev-only (the integration tests and ``make demo`` use it). It reads only the render (the dict of
:func:`infra.render.render_stack`, or its JSON file), never ``policies/*.json``: so what the tests
see on the server is exactly what the program asked for, and a change to a policy file reaches the
server only through the program.

One resource of the render is one action on the endpoint, through :data:`HANDLERS` (type token ->
handler). A type without a handler is an error naming the type, and so is an input a handler does
not understand: nothing in the render is skipped silently.

It behaves like the provider (terraform-provider-minio v1.20.1, ``infra/provider_contract.py``)
where that decides what a deploy does to a server that is not empty:

- Check: a render the provider would refuse (``infra.provider_contract.check_render``) fails
  before anything is made.
- Order: each resource after everything in its ``depends_on`` (as the engine orders them), ties
  broken by :data:`APPLY_ORDER` and then render order (:func:`plan`). The first failure stops
  the run, naming the resource; nothing after it is applied.
- ``S3Bucket`` on an existing bucket fails with the provider's own error (``bucket already
  exists!``); ``IamUser`` on an existing user overwrites its secret, and ``IamPolicy`` on an
  existing policy overwrites its document, silently, as the provider does;
  ``IamServiceAccount`` always makes a new key.

How MinIO resources map onto S3+IAM calls (the admin's clients make every call):

- ``S3Bucket`` -> create_bucket; ``S3BucketVersioning`` -> put_bucket_versioning;
  ``IlmPolicy`` -> put_bucket_lifecycle_configuration (:func:`lifecycle_rules` translates MinIO's
  ILM rules); ``S3BucketPolicy`` -> put_bucket_policy;
  ``S3BucketServerSideEncryption`` -> put_bucket_encryption.
- ``IamPolicy`` -> create_policy. A statement of MinIO admin actions (``admin:GetUser`` ...: the
  observer's reads of identities) has no counterpart here, since moto serves no MinIO admin API;
  it is kept aside in :attr:`ProvisionedStack.admin_grants` (policy name -> actions), named, never
  dropped silently. A statement that mixes admin and S3 actions is refused, as MinIO does.
  ``IamUser`` -> create_user (its secret, a locally generated
  password, becomes the user's login profile); ``IamUserPolicyAttachment`` -> attach_user_policy.
- ``IamServiceAccount`` -> create_access_key for the target user: like a MinIO service account,
  an access key inherits exactly the user's policies.
- ``RandomPassword`` -> a password generated here (``secrets``), kept in memory, never printed.
- The provider and the component resource are explicit no-ops: the endpoint is given, and a
  component has nothing on the server.

A resource with ``import`` (the adopting render, ``adoptExisting``) is imported as Pulumi 3.174+
does: the object must exist under the provider's import id (:mod:`infra.adoption`), or the import
fails and nothing after it runs; then it is updated to the render's inputs, except those in its
``ignore_changes`` (:data:`IMPORTERS`). An imported service account's secret is unknown: it is
listed in :attr:`ProvisionedStack.imported_service_accounts`, never in ``service_accounts``.

The parts: :mod:`~devtools.provision.model` (type tokens, errors, result, state),
:mod:`~devtools.provision.create` (:data:`HANDLERS`), :mod:`~devtools.provision.adopt`
(:data:`IMPORTERS`), :mod:`~devtools.provision.lifecycle` (ILM -> S3 lifecycle),
:mod:`~devtools.provision.engine` (order and apply).
"""

from devtools.provision.adopt import IMPORTERS, Importer
from devtools.provision.create import HANDLERS, Handler
from devtools.provision.engine import load_render, plan, provision, provision_embedded, replace
from devtools.provision.lifecycle import lifecycle_rules
from devtools.provision.model import (
    ADMIN_PREFIX,
    APPLY_ORDER,
    ATTACHMENT,
    BUCKET,
    BUCKET_POLICY,
    COMPONENT,
    ENCRYPTION,
    IAM_POLICY,
    IAM_USER,
    LIFECYCLE,
    PROVIDER,
    RANDOM_PASSWORD,
    SECRET,
    SERVICE_ACCOUNT,
    VERSIONING,
    ApplyError,
    ProvisionedStack,
    ProvisionError,
    bucket_exists_error,
)

__all__ = [
    "ADMIN_PREFIX",
    "APPLY_ORDER",
    "ATTACHMENT",
    "BUCKET",
    "BUCKET_POLICY",
    "COMPONENT",
    "ENCRYPTION",
    "HANDLERS",
    "IAM_POLICY",
    "IAM_USER",
    "IMPORTERS",
    "LIFECYCLE",
    "PROVIDER",
    "RANDOM_PASSWORD",
    "SECRET",
    "SERVICE_ACCOUNT",
    "VERSIONING",
    "ApplyError",
    "Handler",
    "Importer",
    "ProvisionError",
    "ProvisionedStack",
    "bucket_exists_error",
    "lifecycle_rules",
    "load_render",
    "plan",
    "provision",
    "provision_embedded",
    "replace",
]
