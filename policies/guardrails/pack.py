"""The guardrails as CrossGuard policies: adapters from pulumi-policy's arguments to ``rules``.

Only this module, ``analyzer.py`` (the wire's constants) and ``__main__.py`` import
pulumi_policy; the rules themselves do not. What the engine really hands the pack is recorded in
``analyzer.py``; the offline runner reads a render in that same shape.

What the pack sees inside ``pulumi preview``, and how it is made to look like the render:

- ``args.props`` are the resource's inputs with wire names; a policy document is a JSON string
  (the rules parse it). pulumi-policy hands them as they came off the wire (its Analyze and
  AnalyzeStack in pulumi_policy/policy.py: ``MessageToDict``, ``deserialize_properties``, then
  ``unknown_checking_proxy``), so a value preview cannot know is still the engine's sentinel
  string and the proxy raises UnknownValueError on reading it. The pack unwraps the proxies and
  reads the props through :func:`analyzer.inputs_of`, as ``make guard`` does: internal ``__`` keys
  dropped at any depth (the bridge's nested ``__defaults``), unknowns as :data:`model.UNKNOWN`,
  except an unknown computed-only value (a new lifecycle rule's ``status``), which is left out so
  the rules judge what the program declared. A rule that needs an unknown raises UnknownInput,
  reported by the SDK as "can't run policy during preview" (advisory).
- The engine sends secret inputs marked as secrets, but pulumi-policy unwraps them to plaintext
  before validation. :func:`mask_secrets_before_validation` keeps the mark instead: every secret
  input reaches the rules as ``"[secret]"``, exactly as in the render, so ``secrets-masked`` can
  tell a secret from plaintext, and no plaintext secret can reach a violation message.
- The stack config (``voice-recordings:*``) comes from the config the engine hands every policy
  pack (PULUMI_CONFIG): the acknowledgement of public recordings is the very same stack key the
  render carries, validated by ``infra.config`` with the same defaults.
- ``retainOnDelete`` is not in the analyzer protocol: inside preview ``bucket-protected`` checks
  ``protect`` and ``forceDestroy``; the offline runner checks ``retain_on_delete`` on the render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import deserialize as policy_deserialize
from pulumi_policy import policy as policy_module
from pulumi_policy import proxy as policy_proxy

from policies.guardrails.analyzer import inputs_of, mask_secret_values, stack_context
from policies.guardrails.model import (
    MANDATORY,
    Level,
    Resource,
    ResourceRule,
    StackContext,
    StackRule,
    UnknownInput,
    Violation,
    run_resource_rule,
    run_stack_rule,
)
from policies.guardrails.rules import RESOURCE_RULES, STACK_RULES

PACK_NAME: Final = "voice-recordings-guardrails"
# The function pulumi-policy's analyzer calls on every request's wire properties.
_HOOK: Final = "deserialize_properties"


def _enforcement(level: Level) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if level == MANDATORY else EnforcementLevel.ADVISORY


# --- secrets: keep the engine's secret mark as "[secret]" --------------------------------------


def mask_secrets_before_validation() -> None:
    """Make pulumi-policy hand the policies ``"[secret]"`` instead of a secret's plaintext.

    pulumi-policy's analyzer calls ``deserialize_properties`` on each request's wire properties;
    wrapping it is the one hook that sees the secret marks (idempotent).
    """
    original = policy_module.__dict__[_HOOK]
    if getattr(original, "masks_secrets", False):
        return

    def deserialize_masking_secrets(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        return original(mask_secret_values(props), proxy_secrets)

    deserialize_masking_secrets.masks_secrets = True  # type: ignore[attr-defined]
    setattr(policy_module, _HOOK, deserialize_masking_secrets)


# --- arguments -> the rules' view ---------------------------------------------------------


def _inputs(type_token: str, props: Mapping[str, Any]) -> dict[str, Any]:
    # serialize_properties unwraps pulumi-policy's unknown-checking proxies (pulumi_policy/
    # deserialize.py) without tripping on the unknowns inside; analyzer.inputs_of does the rest,
    # as it does for `make guard`.
    return inputs_of(type_token, policy_deserialize.serialize_properties(props))


def resource_of(args: ResourceValidationArgs) -> Resource:
    """The rules' view of the resource under validation."""
    return Resource(
        type=args.resource_type,
        name=args.name,
        inputs=_inputs(args.resource_type, args.props),
        protect=bool(args.opts.protect),
        retain_on_delete=None,
    )


def stack_resources(args: StackValidationArgs) -> list[Resource]:
    """The rules' view of every resource of the stack."""
    return [
        Resource(
            r.resource_type,
            r.name,
            _inputs(r.resource_type, r.props),
            bool(r.opts.protect),
            None,
            tuple(d.name for d in r.dependencies),
        )
        for r in args.resources
    ]


ContextSource = Callable[[], StackContext]


def context_from_stack() -> StackContext:
    """The context for this preview, from the stack config the engine passes to the pack."""
    return stack_context(pulumi.runtime.get_config_env())


def _unknown(exc: UnknownInput) -> Exception:
    return policy_proxy.UnknownValueError(policy_proxy.UNKNOWN_STRING_VALUE, exc.path.split("."))


def _report(run: Callable[[], Iterable[Violation]], report_violation: ReportViolation) -> None:
    """Run a rule and report each violation it finds; an input not known yet stops the pack
    with the fix (:func:`_unknown`)."""
    try:
        violations = run()
    except UnknownInput as exc:
        raise _unknown(exc) from None
    for violation in violations:
        report_violation(violation.message, None)


def resource_policy(rule: ResourceRule, context: ContextSource) -> ResourceValidationPolicy:
    """A ResourceValidationPolicy that runs one resource rule."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = resource_of(args)
        if rule.applies_to(resource):
            _report(lambda: run_resource_rule(rule, resource, context()), report_violation)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=_enforcement(rule.level),
    )


def stack_policy(rule: StackRule, context: ContextSource) -> StackValidationPolicy:
    """A StackValidationPolicy that runs one stack rule."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _report(lambda: run_stack_rule(rule, stack_resources(args), context()), report_violation)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=_enforcement(rule.level),
    )


def policies(context: ContextSource = context_from_stack) -> list[Policy]:
    """Every guardrail as a CrossGuard policy, in the rules' order."""
    found: list[Policy] = [resource_policy(rule, context) for rule in RESOURCE_RULES]
    found.extend(stack_policy(rule, context) for rule in STACK_RULES)
    return found
