"""The stand-in ``minio`` provider plugin (pulumi-minio 0.17.1), for tests and the demo only.

It behaves as terraform-provider-minio v1.20.1 (which pulumi-minio bridges, and which may not be
built here: AGPL) where that decides what a deploy does, from one definition: the provider
contract (``infra/provider_contract.py``: attributes, defaults, validators, force-new,
Sensitive, equivalent policies) for Check and Diff, and :mod:`devtools.provision.actions` for
what each operation does on the server. What each Read reads back, and when it says "gone", is
the provider's own (the comments name the function); so is Update's swallowed lifecycle error.

The server is the embedded S3+IAM endpoint (:mod:`devtools.embedded_s3`), reached with the
provider's own config and its ``MINIO_*`` environment fallbacks. Never in the production
``Pulumi.yaml``: tests and ``make demo`` put it on the engine's PATH
(:func:`devtools.providers.install`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

import devtools.provision.actions as actions
from devtools.clients import Credentials, plain_client
from devtools.providers.schema import Operations, SchemaResource, canonical_policy
from devtools.providers.server import Failure, Plugin, Properties, ResourceBehaviour
from devtools.provision.lifecycle import lifecycle_rules
from devtools.provision.model import ProvisionError
from infra import provider_contract as contract
from infra.adoption import split_attachment_id

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client

NAME: Final = "minio"
VERSION: Final = "0.17.1"  # pulumi_minio's pulumi-plugin.json
DEFAULT_REGION: Final = "us-east-1"  # provider.go: minio_region's Default


@dataclass(frozen=True)
class MinioClient:
    """The configured provider: admin S3 and IAM clients of one endpoint."""

    s3: S3Client
    iam: IAMClient
    region: str
    endpoint_url: str


def _config_value(config: Mapping[str, Any], name: str) -> Any:
    value = config.get(name)
    if value in (None, ""):
        variable = contract.CONTRACTS[contract.PROVIDER_TYPE].attributes[name].env
        value = os.environ.get(variable) if variable else None
    return value


def _flag(value: Any) -> bool:
    return value in (True, "true", "True", "1")


def check_config(news: Properties) -> tuple[Properties, list[Failure]]:
    """CheckConfig: the provider's validators (minio/provider.go); MINIO_* fill what is unset."""
    attributes = contract.CONTRACTS[contract.PROVIDER_TYPE].attributes
    failures = [
        Failure(name, problem)
        for name, attribute in attributes.items()
        if attribute.validate is not None
        and news.get(name) not in (None, "")
        and (problem := attribute.validate(news[name]))
    ]
    if not _config_value(news, "minioServer"):
        failures.append(Failure("minioServer", "is required (or MINIO_ENDPOINT)"))
    return news, failures


def configure(config: Properties) -> MinioClient:
    """Configure (minio/check_config.go NewConfig, new_client.go): the admin's clients."""
    server = _config_value(config, "minioServer")
    user = _config_value(config, "minioUser") or _config_value(config, "minioAccessKey")
    password = _config_value(config, "minioPassword") or _config_value(config, "minioSecretKey")
    if not server or not user or not password:
        raise ValueError(
            "the MinIO provider needs minioServer, minioUser and minioPassword (or MINIO_ENDPOINT, "
            "MINIO_USER, MINIO_PASSWORD)"
        )
    for unsupported in ("minioSessionToken", "minioCertFile", "minioKeyFile"):
        if _config_value(config, unsupported):
            raise ValueError(f"{unsupported} is not supported by the stand-in provider")
    ssl = _flag(_config_value(config, "minioSsl"))
    region = str(config.get("minioRegion") or DEFAULT_REGION)
    url = f"{'https' if ssl else 'http'}://{server}"
    ca_bundle: Any = _config_value(config, "minioCacertFile") or None
    if _flag(_config_value(config, "minioInsecure")):
        ca_bundle = False  # tls.Config.InsecureSkipVerify
    credentials = Credentials(str(user), str(password))
    return MinioClient(
        s3=_client("s3", url, region, credentials, ca_bundle),
        iam=_client("iam", url, region, credentials, ca_bundle),
        region=region,
        endpoint_url=url,
    )


def _client(service: str, url: str, region: str, creds: Credentials, ca_bundle: Any) -> Any:
    client = plain_client(service, url, region, creds, ca_bundle or None)
    if ca_bundle is False:
        client._endpoint.http_session._verify = False  # minio_insecure: no TLS verification
    return client


def _not_found(exc: ClientError) -> bool:
    return actions.error_code(exc) in actions.NOT_FOUND_CODES or actions.error_code(exc) in (
        "NoSuchLifecycleConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
    )


# -- S3Bucket (resource_minio_s3_bucket.go) ---------------------------------------------------


def _bucket_outputs(client: MinioClient, bucket: str, state: Properties) -> Properties:
    # minioReadBucket: bucket, arn, bucket_domain_name; the rest stays as the state had it.
    return {
        **state,
        "bucket": state.get("bucket") or bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{client.endpoint_url}/minio/{bucket}",
    }


def _bucket_create(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    bucket = str(inputs["bucket"])
    actions.create_bucket(client.s3, client.region, bucket)
    return bucket, _bucket_outputs(client, bucket, inputs)


def _bucket_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    try:
        found = actions.bucket_exists(client.s3, id_)
    except (ClientError, BotoCoreError):
        # minioReadBucket reads `found, err := BucketExists(...)` and only logs err: any error
        # (a 403, the network) is "not found" (minio-go v7.0.63 api-stat.go returns false
        # with it), and the engine then drops the bucket from the state, protected or not.
        found = False
    if not found:
        return None  # minioReadBucket: SetId("")
    # An import reads an empty state: the schema's defaults stand for the inputs.
    defaults = {"acl": "private", "forceDestroy": False, "objectLocking": False}
    return _bucket_outputs(client, id_, {**defaults, **state})


def _bucket_update(client: MinioClient, id_: str, olds: Properties, news: Properties) -> Properties:
    return _bucket_outputs(client, id_, news)  # acl is checked private-only; nothing to put


def _bucket_delete(client: MinioClient, id_: str, state: Properties) -> None:
    try:
        client.s3.delete_bucket(Bucket=id_)
    except ClientError as exc:
        if actions.error_code(exc) != "BucketNotEmpty" or not state.get("forceDestroy"):
            raise ProvisionError(f"unable to remove bucket {id_}: {exc}") from exc
        # force_destroy: every version and delete marker goes, then the bucket.
        paginator = client.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=id_):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                client.s3.delete_object(Bucket=id_, Key=entry["Key"], VersionId=entry["VersionId"])
        client.s3.delete_bucket(Bucket=id_)


# -- S3BucketVersioning (resource_minio_s3_bucket_versioning.go) ------------------------------


def _versioning_put(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    bucket = str(inputs["bucket"])
    actions.put_versioning(client.s3, bucket, inputs["versioningConfiguration"].get("status"))
    return bucket, dict(inputs)


def _versioning_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    # minioReadBucketVersioning: an error (no bucket) fails the read; it never says "gone".
    found = client.s3.get_bucket_versioning(Bucket=id_)
    configuration: dict[str, Any] = {"excludedPrefixes": [], "excludeFolders": False}
    if found.get("Status"):
        configuration["status"] = found["Status"]
    return {"bucket": id_, "versioningConfiguration": configuration}


def _versioning_delete(client: MinioClient, id_: str, state: Properties) -> None:
    # minioDeleteBucketVersioning: suspends versioning (nothing when it is suspended).
    if (state.get("versioningConfiguration") or {}).get("status") != "Suspended":
        actions.put_versioning(client.s3, id_, "Suspended")


# -- S3BucketServerSideEncryption ----------------------------------------------------------------


def _encryption_put(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    bucket = str(inputs["bucket"])
    actions.put_encryption(client.s3, bucket, inputs["encryptionType"], inputs.get("kmsKeyId"))
    return bucket, dict(inputs)


def _encryption_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    try:
        found = client.s3.get_bucket_encryption(Bucket=id_)
    except ClientError:
        return None  # minioReadBucketServerSideEncryption: any error is "gone"
    rule = found["ServerSideEncryptionConfiguration"]["Rules"][0]
    apply = rule["ApplyServerSideEncryptionByDefault"]
    return {
        "bucket": id_,
        "encryptionType": apply["SSEAlgorithm"],
        "kmsKeyId": apply.get("KMSMasterKeyID", ""),
    }


def _encryption_delete(client: MinioClient, id_: str, state: Properties) -> None:
    client.s3.delete_bucket_encryption(Bucket=id_)


# -- IlmPolicy (resource_minio_ilm_policy.go) ---------------------------------------------------


def _ilm_put(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    bucket = str(inputs["bucket"])
    actions.put_lifecycle(client.s3, bucket, lifecycle_rules(inputs["rules"]))
    return bucket, _ilm_read(client, bucket, inputs) or dict(inputs)


def _ilm_rule(rule: Mapping[str, Any]) -> Properties:
    # minioReadILMPolicy: how each rule reads back (zero values included).
    expiration = rule.get("Expiration") or {}
    if expiration.get("ExpiredObjectDeleteMarker"):
        text = contract.DELETE_MARKER
    elif expiration.get("Days"):
        text = f"{expiration['Days']}d"
    elif expiration.get("Date"):
        text = expiration["Date"].strftime("%Y-%m-%d")
    else:
        text = ""
    filter_ = rule.get("Filter") or {}
    tags: dict[str, str] = {}
    if "And" in filter_:
        prefix = filter_["And"].get("Prefix", "")
        tags = {t["Key"]: t["Value"] for t in filter_["And"].get("Tags", [])}
    elif "Tag" in filter_:
        # MinIO returns a one-tag filter as And with one tag; the provider reads the tags.
        prefix, tags = "", {filter_["Tag"]["Key"]: filter_["Tag"]["Value"]}
    else:
        prefix = filter_.get("Prefix", "")
    noncurrent = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays") or 0
    return {
        "id": rule["ID"],
        "expiration": text,
        "noncurrentVersionExpirationDays": noncurrent,
        "status": rule["Status"],
        "filter": prefix,
        "tags": tags,
    }


def _ilm_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    try:
        found = client.s3.get_bucket_lifecycle_configuration(Bucket=id_)
    except ClientError:
        return None  # minioReadILMPolicy: any error is "gone" (its own TODO says so)
    return {"bucket": id_, "rules": [_ilm_rule(r) for r in found.get("Rules", [])]}


def _ilm_update(client: MinioClient, id_: str, olds: Properties, news: Properties) -> Properties:
    # minioUpdateILMPolicy discards minioCreateILMPolicy's diagnostics: a put MinIO refuses is
    # not an error of the update; the state is what the server holds afterwards.
    with contextlib.suppress(ClientError, ProvisionError):
        actions.put_lifecycle(client.s3, id_, lifecycle_rules(news["rules"]))
    return _ilm_read(client, id_, news) or dict(olds)


def _ilm_delete(client: MinioClient, id_: str, state: Properties) -> None:
    # minioDeleteILMPolicy sets an empty configuration: no lifecycle at all.
    client.s3.delete_bucket_lifecycle(Bucket=id_)


# -- S3BucketPolicy (resource_minio_s3_bucket_policy.go) ----------------------------------------


def _policy_document(value: Any) -> dict[str, Any]:
    document = json.loads(value) if isinstance(value, str) else value
    if not isinstance(document, dict):
        raise ProvisionError("the policy must be a JSON object")
    return document


def _bucket_policy_put(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    bucket = str(inputs["bucket"])
    actions.put_bucket_policy(client.s3, bucket, _policy_document(inputs["policy"]))
    return bucket, dict(inputs)


def _bucket_policy_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    # minioReadBucketPolicy: an error fails the read; the stored text is kept when equivalent.
    text = client.s3.get_bucket_policy(Bucket=id_)["Policy"]
    stored = state.get("policy")
    return {"bucket": id_, "policy": stored if _same_policy(stored, text) else text}


def _same_policy(left: Any, right: Any) -> bool:
    return left is not None and canonical_policy(left) == canonical_policy(right)


def _bucket_policy_delete(client: MinioClient, id_: str, state: Properties) -> None:
    client.s3.delete_bucket_policy(Bucket=id_)


# -- IamPolicy (resource_minio_iam_policy.go) ---------------------------------------------------


def _iam_policy_put(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    name = str(inputs["name"])
    actions.put_policy(client.iam, name, _policy_document(inputs["policy"]))
    return name, _iam_policy_read(client, name, inputs) or dict(inputs)


def _iam_policy_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    document = actions.read_policy(client.iam, id_)
    if document is None:
        # minioReadPolicy: InfoCannedPolicy's error fails the read; it never says "gone".
        raise ProvisionError(f"unable to read policy {id_}: no such policy")
    return {"name": id_, "policy": json.dumps(document)}


def _iam_policy_update(
    client: MinioClient, id_: str, olds: Properties, news: Properties
) -> Properties:
    return _iam_policy_put(client, {**news, "name": id_})[1]


def _iam_policy_delete(client: MinioClient, id_: str, state: Properties) -> None:
    actions.delete_policy(client.iam, id_)


# -- IamUser (resource_minio_iam_user.go) -------------------------------------------------------


def _user_create(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    name = str(inputs["name"])
    # generateSecretAccessKey when the program gives no secret.
    secret = inputs.get("secret") or secrets.token_urlsafe(30)
    actions.put_user(client.iam, name, secret)
    return name, {**inputs, "secret": secret, "status": "enabled"}


def _user_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    if not actions.user_exists(client.iam, id_):
        return None  # minioReadUser: XMinioAdminNoSuchUser is "gone"
    defaults = {"forceDestroy": False, "disableUser": False, "updateSecret": False}
    return {**defaults, **state, "name": state.get("name") or id_, "status": "enabled"}


def _user_update(client: MinioClient, id_: str, olds: Properties, news: Properties) -> Properties:
    secret = news.get("secret") or olds.get("secret")
    if secret != olds.get("secret"):
        actions.put_user(client.iam, id_, str(secret))  # SetUser with the new secret
    return {**news, "secret": secret, "status": "enabled"}


def _user_delete(client: MinioClient, id_: str, state: Properties) -> None:
    actions.delete_user(client.iam, id_)


# -- IamUserPolicyAttachment (resource_minio_iam_user_policy_attachment.go) ---------------------


def _attachment_create(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    user, policy = str(inputs["userName"]), str(inputs["policyName"])
    actions.attach(client.iam, user, policy)
    # id.PrefixedUniqueId("<user>-"): the id says nothing the inputs do not.
    return f"{user}-{time.time_ns()}", dict(inputs)


def _attachment_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    new_id = id_
    if "/" in id_ and not state.get("userName"):
        # minioImportUserPolicyAttachment: "<user>/<policy>" becomes inputs and a new id.
        user, policy = split_attachment_id(id_)
        new_id = f"{user}-{time.time_ns()}"
    else:
        user, policy = str(state.get("userName")), str(state.get("policyName"))
    if not actions.user_exists(client.iam, user):
        # minioReadUserPolicies: a missing (non-LDAP) user fails the read.
        raise ProvisionError(f"failed to load user Infos {user}: no such user")
    if policy not in actions.user_policies(client.iam, user):
        return None  # "No such policy by name ... found, removing from state"
    return {"__id": new_id, "userName": user, "policyName": policy}


def _attachment_delete(client: MinioClient, id_: str, state: Properties) -> None:
    actions.detach(client.iam, str(state["userName"]), str(state["policyName"]))


def _no_update(client: MinioClient, id_: str, olds: Properties, news: Properties) -> Properties:
    return {**olds, **news}  # every input is force-new: an update changes nothing on the server


# -- IamServiceAccount (resource_minio_service_account.go) --------------------------------------


def _account_outputs(
    client: MinioClient, access_key: str, user: str, state: Properties
) -> Properties:
    # minioReadServiceAccount: status, disable_user, target_user and the policy
    # InfoServiceAccount reports: for an account without its own, its parent's.
    return {
        "disableUser": False,
        "updateSecret": False,
        **state,
        "accessKey": access_key,
        "status": "on",
        "targetUser": user,
        "policy": json.dumps(actions.implied_policy(client.iam, user)),
    }


def _account_create(client: MinioClient, inputs: Properties) -> tuple[str, Properties]:
    user = str(inputs["targetUser"])
    keys = actions.create_service_account(client.iam, user)
    outputs = _account_outputs(client, keys.access_key, user, inputs)
    return keys.access_key, {**outputs, "secretKey": keys.secret_key}


def _account_read(client: MinioClient, id_: str, state: Properties) -> Properties | None:
    user = actions.service_account_user(client.iam, id_)
    if user is None:
        # InfoServiceAccount's error fails the read: a deleted account is not "gone".
        raise ProvisionError(f"error reading service account {id_}: no such account")
    return _account_outputs(client, id_, user, state)


def _account_update(
    client: MinioClient, id_: str, olds: Properties, news: Properties
) -> Properties:
    return _account_outputs(client, id_, str(olds["targetUser"]), {**olds, **news})


def _account_delete(client: MinioClient, id_: str, state: Properties) -> None:
    user = actions.service_account_user(client.iam, id_)
    if user is None:
        raise ProvisionError(f"error deleting service account {id_}: no such account")
    client.iam.delete_access_key(UserName=user, AccessKeyId=id_)


def _resource(type_: str, operations: Operations, **unsupported: str) -> SchemaResource:
    return SchemaResource(type_, contract.CONTRACTS[type_].attributes, operations, unsupported)


_STAND_IN: Final = "the stand-in provider (the embedded endpoint) cannot do this"

RESOURCES: Final[Mapping[str, ResourceBehaviour]] = {
    r.type: r
    for r in (
        _resource(
            contract.BUCKET_TYPE,
            Operations(_bucket_create, _bucket_read, _bucket_update, _bucket_delete),
            bucketPrefix=_STAND_IN,
            quota=_STAND_IN,
        ),
        _resource(
            contract.VERSIONING_TYPE,
            Operations(
                _versioning_put,
                _versioning_read,
                lambda c, i, o, n: _versioning_put(c, n)[1],
                _versioning_delete,
            ),
        ),
        _resource(
            contract.ENCRYPTION_TYPE,
            Operations(
                _encryption_put,
                _encryption_read,
                lambda c, i, o, n: _encryption_put(c, n)[1],
                _encryption_delete,
            ),
        ),
        _resource(
            contract.LIFECYCLE_TYPE,
            Operations(_ilm_put, _ilm_read, _ilm_update, _ilm_delete),
        ),
        _resource(
            contract.BUCKET_POLICY_TYPE,
            Operations(
                _bucket_policy_put,
                _bucket_policy_read,
                lambda c, i, o, n: _bucket_policy_put(c, n)[1],
                _bucket_policy_delete,
            ),
        ),
        _resource(
            contract.IAM_POLICY_TYPE,
            Operations(_iam_policy_put, _iam_policy_read, _iam_policy_update, _iam_policy_delete),
            namePrefix=_STAND_IN,
        ),
        _resource(
            contract.IAM_USER_TYPE,
            Operations(_user_create, _user_read, _user_update, _user_delete),
            disableUser=_STAND_IN,
            updateSecret=_STAND_IN,
        ),
        _resource(
            contract.ATTACHMENT_TYPE,
            Operations(_attachment_create, _attachment_read, _no_update, _attachment_delete),
        ),
        _resource(
            contract.SERVICE_ACCOUNT_TYPE,
            Operations(_account_create, _account_read, _account_update, _account_delete),
            disableUser=_STAND_IN,
            updateSecret=_STAND_IN,
        ),
    )
}

PLUGIN: Final = Plugin(
    name=NAME,
    version=VERSION,
    resources=RESOURCES,
    check_config=check_config,
    configure=configure,
    sensitive_config=frozenset({"minioUser", "minioPassword", "minioSecretKey"}),
)
