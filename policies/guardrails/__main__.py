"""The CrossGuard policy pack: ``pulumi preview --policy-pack policies/guardrails``.

The pack runs in the repository's virtualenv (PulumiPolicy.yaml) and imports the rules from the
repository itself, so the pack and ``make guard`` can never disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The engine starts the pack with the pack's directory as the working directory: put the
# repository root on the path so `policies`, `infra` and `voice_recordings` import.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.guardrails.pack import (
    PACK_NAME,
    mask_secrets_before_validation,
    policies,
)

mask_secrets_before_validation()

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Recordings stay private, retained and versioned; identities get least privilege.",
)
