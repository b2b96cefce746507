"""The rule catalogue: every guardrail, listed by subject.

Each subject's rules live in a module of their own, each rule declared right beside its check
with ``@RULES.resource(...)`` or ``@RULES.stack(...)``, the first paragraph of the check's
docstring its description (``model.py``):

- ``rules_closed_world.py``: the closed world (every type and input known, its ``KNOWN_INPUTS``),
  credentials as secrets, the provider verifying TLS;
- ``rules_iam.py``: the IAM documents (read as MinIO reads them, through ``documents.py``);
- ``rules_bucket.py``: the bucket, its settings and any anonymous access;
- ``rules_lifecycle.py``: the lifecycle and retention (modelled by ``lifecycle.py``);
- ``rules_identities.py``: the identities (``infra/identities.py``) and their users.

To add a rule: write its check with its declaration in its subject's module, then its failing
case in tests/guardrails/cases.py, then run ``make docs`` (docs/operating.md's rule table is
written from this catalogue). Two runners call the catalogue: the CrossGuard policy pack inside
``pulumi preview`` (``pack.py``) and the offline checker over the committed renders
(``offline.py``). Nothing here imports pulumi or pulumi_policy, so the offline runner works where
the engine does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from policies.guardrails import (
    rules_bucket,
    rules_closed_world,
    rules_iam,
    rules_identities,
    rules_lifecycle,
)
from policies.guardrails.model import (
    Catalogue,
    Level,
    Resource,
    ResourceRule,
    StackContext,
    StackRule,
    Violation,
)

# The modules of rules, in the order the pack serves their rules and the runners report them.
SUBJECTS: Final = (rules_closed_world, rules_iam, rules_bucket, rules_lifecycle, rules_identities)
CATALOGUE: Final = Catalogue.joined(*(subject.RULES for subject in SUBJECTS))

RESOURCE_RULES: Final[tuple[ResourceRule, ...]] = tuple(CATALOGUE.resource_rules)
STACK_RULES: Final[tuple[StackRule, ...]] = tuple(CATALOGUE.stack_rules)
# Every rule's name -> its level, in the order the pack serves them.
RULE_LEVELS: Final[dict[str, Level]] = CATALOGUE.levels()
ALL_RULE_NAMES: Final[tuple[str, ...]] = tuple(RULE_LEVELS)


def check_all(
    resources: Sequence[Resource],
    ctx: StackContext,
    stack_resources: Sequence[Resource] | None = None,
) -> list[Violation]:
    """Every violation of every rule, mandatory first (``stack_resources``: what the stack rules
    see, when not ``resources``; see :meth:`model.Catalogue.check_all`)."""
    return CATALOGUE.check_all(resources, ctx, stack_resources)
