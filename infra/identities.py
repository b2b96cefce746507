"""The identities the stack makes, declared once: one row per role.

Each role is a MinIO user with one policy attached and one service account (the keys a client
uses). From :data:`ROLES` follow the stack config's three name keys per role and their checks
(``infra/config.py``), ``RecordingStorage``'s children (``infra/storage.py``), the program's key
outputs (``infra/program.py``) and the guardrails' view of who is who (``StackContext`` in
``policies/guardrails/model.py``). A new identity is a new row (and its policy file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra.policies import OBSERVER_POLICY, READER_POLICY, STEWARD_POLICY, UPLOADER_POLICY
from voice_recordings.permissions import (
    OBSERVER_ACTIONS,
    READER_ACTIONS,
    STEWARD_ACTIONS,
    UPLOADER_ACTIONS,
)

# Each name of an identity: (the attribute of IdentityNames, the suffix of its config key), in
# the order the config keys are listed.
NAME_PARTS: Final = (
    ("user", "User"),
    ("service_account", "ServiceAccount"),
    ("policy", "Policy"),
)


@dataclass(frozen=True)
class IdentityNames:
    """The names one identity has on the server (each a stack config key)."""

    user: str
    service_account: str
    policy: str

    @classmethod
    def of(cls, user: str) -> IdentityNames:
        """The names of a user made by the stack: ``<user>-access`` and ``<user>-policy``."""
        return cls(user, f"{user}-access", f"{user}-policy")


@dataclass(frozen=True)
class Role:
    """One identity the stack makes, and everything that follows from it."""

    # The logical-name prefix of its resources (``uploader-user``) and of its config keys.
    name: str
    policy_file: str  # policies/<policy_file>.json
    actions: tuple[str, ...]  # all it may do (voice_recordings.permissions)
    outputs: str  # the prefix of its key outputs: <outputs>_access_key, <outputs>_secret_key
    defaults: IdentityNames
    # Who it is, in a few words (the reference tables' rows of its keys and outputs).
    description: str
    # The boolean config key that must be true for the stack to make it ("": always made).
    enabled_by: str = ""
    # adoptExisting imports this identity (the one the specification's hand steps made).
    adopted: bool = False

    def key(self, suffix: str) -> str:
        """Its config key for one name: ``uploader`` + ``User`` -> ``uploaderUser``."""
        return f"{self.name}{suffix}"

    def describe(self, part: str) -> str:
        """What its config key for one name (``user``, ``service_account``, ``policy``) is, in
        one line (the docs' table of config keys)."""
        if part == "user":
            only = f"; made only with `{self.enabled_by}`" if self.enabled_by else ""
            return f"the user of {self.description}{only}"
        if part == "service_account":
            return f"its service account (its keys: `{self.access_key_output}`, ...)"
        return f"its policy (`policies/{self.policy_file}.json`)"

    @property
    def access_key_output(self) -> str:
        """The stack output of its service account's access key."""
        return f"{self.outputs}_access_key"

    @property
    def secret_key_output(self) -> str:
        """The stack output of its service account's secret key."""
        return f"{self.outputs}_secret_key"


# The roles, in the order their config keys are listed and their resources are made. Each row:
# name, policy file, actions, its key outputs' prefix, its default names, who it is; then the
# flag that makes it optional, or that adoptExisting imports it.
ROLES: Final = (
    Role("uploader", UPLOADER_POLICY, UPLOADER_ACTIONS, "voice_ai",
         IdentityNames("voice-ai-service", "voice-ai-realtime", "voice-ai-policy"),
         "the Voice AI service", adopted=True),
    Role("reader", READER_POLICY, READER_ACTIONS, "omniplay_reader",
         IdentityNames.of("omniplay-reader"), "OmniPlay's read-only identity",
         enabled_by="omniplayReader"),
    Role("observer", OBSERVER_POLICY, OBSERVER_ACTIONS, "observer",
         IdentityNames.of("pulumi-observer"),
         "the read-only observer of CI's preview and drift jobs"),
    Role("steward", STEWARD_POLICY, STEWARD_ACTIONS, "steward",
         IdentityNames.of("recordings-steward"),
         "the data-protection steward (it erases and exports recordings)"),
)  # fmt: skip
UPLOADER, READER, OBSERVER, STEWARD = ROLES
ROLE_BY_NAME: Final = {role.name: role for role in ROLES}


def always_first(roles: tuple[Role, ...] | list[Role]) -> list[Role]:
    """``roles`` with the ones the stack always makes first (the order the config's messages
    name them in)."""
    return sorted(roles, key=lambda role: bool(role.enabled_by))
