"""``RecordingStorage``: the bucket, its lifecycle and the identities that use it, as one component.

This replaces the specification's hand steps (``mc mb``, ``mc admin user add``,
``mc admin policy add/set``, the console's service account) with resources of the MinIO provider.
Every child is parented to the component and managed through one explicit ``minio.Provider``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_minio as minio
import pulumi_random as random

from infra import render_format
from infra.adoption import IMPORTED_IGNORE_CHANGES, Imports
from infra.config import StackConfig
from infra.identities import UPLOADER, Role
from infra.policies import PUBLIC_RECORDINGS_POLICY, policy_json
from infra.provider_contract import ignored_changes
from infra.render_format import IAM_USER, SERVICE_ACCOUNT

COMPONENT_TYPE: Final = render_format.COMPONENT


@dataclass(frozen=True)
class RecordingStorageArgs:
    """What the component needs: the validated stack config. The MinIO admin's credentials are
    not among them: the provider reads MINIO_USER / MINIO_PASSWORD from the environment of the job
    that runs it (infra/program.py PROVIDER_ARGS_FROM_ENVIRONMENT)."""

    config: StackConfig


@dataclass(frozen=True)
class Identity:
    """A MinIO user with one policy attached and one service account (the keys a client uses)."""

    user: minio.IamUser
    policy: minio.IamPolicy
    attachment: minio.IamUserPolicyAttachment
    service_account: minio.IamServiceAccount


class RecordingStorage(pulumi.ComponentResource):
    """The recordings bucket (protected), versioning, lifecycle, policies and identities."""

    config: StackConfig
    admin_provider: minio.Provider  # explicit: every MinIO child uses it, never a default provider
    bucket: minio.S3Bucket
    # Role name -> its identity, for each role the stack makes (infra/identities.py).
    identities: dict[str, Identity]
    service_token: pulumi.Output[str]  # VOICE_AI_SERVICE_TOKEN, shared by Voice AI and OmniPlay

    def __init__(
        self,
        name: str,
        args: RecordingStorageArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        config = args.config
        self.config = config
        # adoptExisting: the hand-made bucket and uploader identity are imported, never created.
        imports = Imports.of(config)
        self.admin_provider = minio.Provider(
            "minio-admin",
            minio_server=config.endpoint,
            minio_ssl=config.ssl,
            minio_region=config.region,
            # Set explicitly, never left to the provider: it fills an unset argument from
            # MINIO_INSECURE / MINIO_CACERT_FILE in the deploying shell (minio/provider.go).
            minio_insecure=False,
            minio_cacert_file=config.ca_bundle or None,
            # No minio_user / minio_password: the provider takes them from MINIO_USER and
            # MINIO_PASSWORD (minio/provider.go), so the state never holds them and the drift
            # job's read-only keys are not a change of the provider.
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket = minio.S3Bucket(
            "recordings-bucket",
            bucket=config.bucket,
            acl="private",
            force_destroy=False,
            # Only when the stack says the bucket has it (the takeover's decision): the import
            # reads it, and an unset value would plan true -> false (infra/adoption.py).
            object_locking=True if config.acknowledge_object_lock else None,
            # Recordings outlive the stack: `pulumi destroy` must never delete them.
            opts=self._child(protect=True, retain_on_delete=True, import_=imports.bucket),
        )
        versioning = minio.S3BucketVersioning(
            "recordings-versioning",
            bucket=self.bucket.bucket,
            versioning_configuration=minio.S3BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            # Delete suspends versioning: a refactor (create new, delete old) or `pulumi
            # destroy` must not. Renaming or reparenting it needs an alias (docs/operating.md).
            opts=self._child(depends_on=[self.bucket], retain_on_delete=True),
        )
        if config.encryption_key_id:
            minio.S3BucketServerSideEncryption(
                "recordings-encryption",
                bucket=self.bucket.bucket,
                encryption_type="aws:kms",
                kms_key_id=config.encryption_key_id,
                opts=self._child(depends_on=[self.bucket]),
            )
        minio.IlmPolicy(
            "recordings-lifecycle",
            bucket=self.bucket.bucket,
            rules=[
                minio.IlmPolicyRuleArgs(
                    id=rule.id,
                    filter=rule.prefix or None,
                    tags=dict(rule.tags) or None,
                    expiration=rule.expiration,
                    noncurrent_version_expiration_days=rule.noncurrent_days,
                )
                for rule in config.lifecycle_rules()
            ],
            # Delete removes the bucket's whole lifecycle: retained, like versioning.
            opts=self._child(depends_on=[self.bucket, versioning], retain_on_delete=True),
        )
        self.identities = {
            role.name: self._identity(role, imports if role.adopted else Imports())
            for role in config.roles()
        }
        self.service_token = self._service_token(config)
        if config.anonymous_recordings:
            minio.S3BucketPolicy(
                "public-recordings-policy",
                bucket=self.bucket.bucket,
                policy=policy_json(PUBLIC_RECORDINGS_POLICY, config.bucket),
                opts=self._child(depends_on=[self.bucket]),
            )
        self.register_outputs(
            {
                "bucket": self.bucket.bucket,
                "uploader_access_key": self.identity(UPLOADER).service_account.access_key,
                "uploader_secret_key": self.identity(UPLOADER).service_account.secret_key,
            }
        )

    def identity(self, role: Role) -> Identity:
        """The identity of ``role`` (KeyError when the stack does not make it)."""
        return self.identities[role.name]

    def _child(
        self,
        *,
        depends_on: list[pulumi.Resource] | None = None,
        protect: bool = False,
        retain_on_delete: bool = False,
        import_: str = "",
        ignore_changes: list[str] | None = None,
        delete_before_replace: bool = False,
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            provider=self.admin_provider,
            depends_on=depends_on,
            protect=protect,
            retain_on_delete=retain_on_delete,
            import_=import_ or None,
            ignore_changes=ignore_changes or None,
            delete_before_replace=delete_before_replace or None,
        )

    def _service_token(self, config: StackConfig) -> pulumi.Output[str]:
        """The token the Voice AI sends and OmniPlay checks: adopted from config, or generated."""
        if config.service_token:
            # Adopting a running integration: keep its token, so neither side changes at once.
            return pulumi.Output.secret(config.service_token)
        token = random.RandomPassword(
            "voice-ai-service-token",
            length=48,
            special=False,  # letters and digits: safe in a dotenv line and an HTTP header
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(token.result)

    def _identity_child(
        self,
        *depends_on: pulumi.Resource,
        ignore_changes: list[str] | None = None,
        import_: str = "",
        retain_on_delete: bool = False,
        named: bool = False,
    ) -> pulumi.ResourceOptions:
        # Every identity waits for the bucket: the engine runs independent resources in
        # parallel, and user/policy Create silently overwrite what exists, so a failed bucket
        # create (it fails when the bucket exists) must stop before any identity is touched.
        return self._child(
            depends_on=[self.bucket, *depends_on],
            ignore_changes=ignore_changes,
            import_=import_,
            retain_on_delete=retain_on_delete,
            # A user or policy is its name on the server. The bridge plans delete-before-create
            # only for a replacement its Diff asks for (a rename: nameRequiresDeleteBeforeReplace,
            # pkg/tfbridge/schema.go), never for `pulumi up --replace`: that one would create
            # the same name again (Create overwrites it) and then Delete it, leaving the server
            # without the user and its keys while the state holds them (docs/operating.md).
            delete_before_replace=named,
        )

    def _identity(self, role: Role, imports: Imports) -> Identity:
        """``mc admin user add`` + ``mc admin policy add/set`` + the console's service account.

        With ``imports`` set (adoptExisting), each one that exists is imported under the
        provider's id instead of created; what the provider cannot read back is ignored.
        """
        names = self.config.identity(role)
        password = random.RandomPassword(
            f"{role.name}-user-secret",
            length=40,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        iam_user = minio.IamUser(
            f"{role.name}-user",
            name=names.user,
            secret=password.result,
            opts=self._identity_child(
                password,
                named=True,
                import_=imports.user,
                # An imported user keeps the password someone chose (see infra/adoption.py).
                ignore_changes=list(IMPORTED_IGNORE_CHANGES[IAM_USER]) if imports.user else None,
            ),
        )
        iam_policy = minio.IamPolicy(
            f"{role.name}-policy",
            name=names.policy,
            policy=policy_json(role.policy_file, self.config.bucket),
            opts=self._identity_child(named=True, import_=imports.policy),
        )
        attachment = minio.IamUserPolicyAttachment(
            f"{role.name}-policy-attachment",
            user_name=iam_user.name,
            policy_name=iam_policy.name,
            opts=self._identity_child(iam_user, iam_policy, import_=imports.attachment),
        )
        # pulumi_minio 0.17.1's IamServiceAccount has no description argument, so the
        # specification's description (e.g. "voice-ai-realtime") is the logical name.
        account = minio.IamServiceAccount(
            names.service_account,
            target_user=iam_user.name,
            # Read reports the parent's policy as the account's and never returns the secret:
            # without this every `pulumi up` would plan an update (infra/provider_contract.py).
            # An imported account also ignores what it was never told (infra/adoption.py).
            opts=self._identity_child(
                iam_user,
                attachment,
                ignore_changes=sorted(
                    {
                        *ignored_changes(SERVICE_ACCOUNT),
                        *(
                            IMPORTED_IGNORE_CHANGES.get(SERVICE_ACCOUNT, ())
                            if imports.service_account
                            else ()
                        ),
                    }
                ),
                import_=imports.service_account,
                # The console made it, so the stack never deletes it by itself: at the handover
                # (`pulumi up --replace`) it keeps working until the Voice AI runs on the new
                # keys and an operator deletes it (`mc admin user svcacct rm`).
                retain_on_delete=bool(imports.service_account),
            ),
        )
        return Identity(iam_user, iam_policy, attachment, account)
