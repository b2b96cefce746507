"""The stack's outputs, declared once each with what it is: the reference table in
docs/operating.md is written from here (``make docs``), and a test holds it to the exports of
``infra/program.py``.

Each identity's two key outputs follow from its row in ``infra/identities.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra.identities import ROLES, Role


@dataclass(frozen=True)
class StackOutput:
    """One ``pulumi stack output``: its name, whether it is a Pulumi secret, what it is."""

    name: str
    secret: bool
    description: str


# What the program exports besides the identities' keys: the settings first, then the blocks.
_SETTINGS: Final = (
    StackOutput("bucket", False, "the bucket's name (`MINIO_BUCKET`)"),
    StackOutput("endpoint", False, "MinIO's `host[:port]` (`MINIO_ENDPOINT`)"),
    StackOutput("region", False, "the signing region (`MINIO_REGION`)"),
    StackOutput("use_ssl", False, "whether the endpoint serves TLS (`MINIO_USE_SSL`)"),
    StackOutput("public_url", False, "the base of recording URLs (`MINIO_PUBLIC_URL`)"),
    StackOutput(
        "public_recordings",
        False,
        "whether anyone may play a recording without a key (`publicRecordings`)",
    ),
    StackOutput("omniplay_api_url", False, "OmniPlay's API (`OMNIPLAY_API_URL`)"),
)
_BLOCKS: Final = (
    StackOutput("voice_ai_env", True, "the Voice AI server's `.env` block"),
    StackOutput("omniplay_env", True, "the OmniPlay server's `.env` block"),
    StackOutput(
        "steward_env",
        True,
        "the steward's `MINIO_*` block, for `voice-recordings erase` and `export`",
    ),
)


def key_outputs(role: Role) -> tuple[StackOutput, StackOutput]:
    """The two outputs of ``role``'s service account keys (both secret)."""
    only = f"; only with `{role.enabled_by}`" if role.enabled_by else ""
    adopted = " (while `adoptServiceAccount` is set, the adopted console account's)"
    not_adopted = "; not there while `adoptServiceAccount` is set"
    return (
        StackOutput(
            role.access_key_output,
            True,
            f"the access key of {role.description}{adopted if role.adopted else ''}{only}",
        ),
        StackOutput(
            role.secret_key_output,
            True,
            f"its secret key{not_adopted if role.adopted else ''}{only}",
        ),
    )


def stack_outputs() -> tuple[StackOutput, ...]:
    """Every output the program may export (some only under some config), in the table's
    order: the settings, each identity's keys, the ``.env`` blocks."""
    keys = tuple(output for role in ROLES for output in key_outputs(role))
    return (*_SETTINGS, *keys, *_BLOCKS)
