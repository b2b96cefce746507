"""The guardrails' model: what a rule sees, what it finds, and how rules are declared and run.

A rule is a plain function over the rules' view of the desired state (:class:`Resource`, or every
resource of the stack, and the stack's :class:`StackContext`) that yields :class:`Finding` s. It is
declared where it is defined, with :meth:`Catalogue.resource` or :meth:`Catalogue.stack`, in its
subject's ``rules_*.py``; the catalogue (``rules.py``) lists them all, and both runners
(``pack.py`` inside ``pulumi preview``, ``offline.py`` over the committed renders) run them
through :func:`run_resource_rule` and :func:`run_stack_rule`. Nothing here imports pulumi or
pulumi_policy.

Inputs use Pulumi's wire names (``forceDestroy``, ``versioningConfiguration``). A secret value is
the string ``"[secret]"`` (:data:`infra.render_format.SECRET_MARKER`); a value that
``pulumi preview`` cannot know yet is :data:`UNKNOWN`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, Literal, NamedTuple, TypeVar

from infra.config import StackConfig, parse_rendered_config
from infra.identities import ROLES, IdentityNames, Role, always_first
from infra.render_format import SERVICE_ACCOUNT
from voice_recordings.keys import KINDS
from voice_recordings.settings import DEFAULT_BUCKET

Level = Literal["mandatory", "advisory"]
MANDATORY: Final[Level] = "mandatory"
ADVISORY: Final[Level] = "advisory"


class _Unknown:
    """A value ``pulumi preview`` cannot know yet (it depends on a resource not created)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


class UnknownInput(Exception):
    """A rule needs an input that is unknown during preview (the pack reports it as such)."""

    def __init__(self, resource: str, path: str) -> None:
        super().__init__(f"{resource}: {path} can't be known during preview")
        self.resource = resource
        self.path = path


@dataclass(frozen=True)
class Resource:
    """One resource of the desired state, as both runners see it."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    protect: bool = False
    # None when the runner cannot see the option (the analyzer protocol does not carry it).
    retain_on_delete: bool | None = None
    # Logical names of the resources it waits for; None when the runner cannot see them.
    depends_on: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """``S3Bucket 'recordings-bucket'``: how messages name the resource."""
        return f"{self.type.rsplit(':', 1)[-1]} '{self.name}'"

    def known(self, key: str, default: Any = None) -> Any:
        """The input ``key`` (``default`` if absent); UnknownInput if preview can't know it."""
        value = self.inputs.get(key, default)
        require_known(value, self.label, key)
        return value


def require_known(value: Any, label: str, path: str, *, deep: bool = True) -> None:
    """Raise :class:`UnknownInput` if ``value`` (at ``path``), or anything in it, is UNKNOWN
    (``deep=False``: only ``value`` itself, for a rule that reads an object's keys, not its
    values)."""
    if value is UNKNOWN:
        raise UnknownInput(label, path)
    if not deep:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            require_known(item, label, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            require_known(item, label, f"{path}[{index}]")


@dataclass(frozen=True)
class StackContext:
    """What the rules need from the stack's config (:meth:`of` a validated ``StackConfig``)."""

    bucket: str = DEFAULT_BUCKET
    public_acknowledged: bool = False
    object_lock_acknowledged: bool = False
    # Each role's names (infra/identities.py), whether the stack makes it or not: they say whose
    # document a policy is. Empty: no document is anyone's.
    identities: Mapping[str, IdentityNames] = field(default_factory=dict)
    # Days each kind must live (the config's retention).
    retention_days: Mapping[str, int] = field(default_factory=dict)
    # Companies with their own retention: id (digits) -> kind -> days (the config's, filled in).
    company_retention: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # The users of the roles the stack makes (defaults included): the only ones it may hold.
    stack_users: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: StackConfig) -> StackContext:
        """The context of a validated stack config."""
        return cls(
            bucket=config.bucket,
            public_acknowledged=config.acknowledge_public_recordings,
            object_lock_acknowledged=config.acknowledge_object_lock,
            identities=dict(config.identities),
            retention_days={kind: config.retention_days(kind) for kind in KINDS},
            company_retention={
                str(company): {str(kind): d for kind, d in days.items()}
                for company, days in config.own_retention().items()
            },
            stack_users=frozenset(config.identity(role).user for role in config.roles()),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StackContext:
        """The context of a render's ``config`` (full keys: ``voice-recordings:bucket`` ...)."""
        return cls.of(parse_rendered_config(config))

    def names(self, role: Role) -> IdentityNames | None:
        """The names of ``role`` in this stack (None: the context does not know them)."""
        return self.identities.get(role.name)

    def owner(self, resource: Resource) -> Role | None:
        """The role whose policy (by name) or service account (by its user) ``resource`` is."""
        if not self.identities:
            return None
        account = resource.type == SERVICE_ACCOUNT
        name = resource.known("targetUser" if account else "name")
        for role in always_first(ROLES):
            names = self.names(role)
            if names is not None and name == (names.user if account else names.policy):
                return role
        return None


def of_type(resources: Sequence[Resource], type_token: str) -> list[Resource]:
    """The resources of one type."""
    return [r for r in resources if r.type == type_token]


def for_bucket(resources: Sequence[Resource], type_token: str, bucket: str) -> list[Resource]:
    """The resources of one type that configure ``bucket``."""
    return [r for r in of_type(resources, type_token) if r.known("bucket") == bucket]


class Finding(NamedTuple):
    """One problem a check found and how to fix it."""

    problem: str
    fix: str
    resource: Resource | None = None  # stack rules name the resource at fault, if any


ResourceCheck = Callable[[Resource, StackContext], Iterable[Finding]]
StackCheck = Callable[[Sequence[Resource], StackContext], Iterable[Finding]]


@dataclass(frozen=True)
class ResourceRule:
    """A rule over one resource of the listed types."""

    name: str
    description: str
    level: Level
    types: frozenset[str] | None  # None: every type
    check: ResourceCheck

    def applies_to(self, resource: Resource) -> bool:
        """True when the rule looks at resources of this type."""
        return self.types is None or resource.type in self.types


@dataclass(frozen=True)
class StackRule:
    """A rule over the whole desired state (something must exist, or resources must agree)."""

    name: str
    description: str
    level: Level
    check: StackCheck


@dataclass(frozen=True)
class Violation:
    """A finding of a rule, ready to print or to report to the engine."""

    rule: str
    level: Level
    message: str

    def line(self) -> str:
        """One line: ``MANDATORY bucket-protected: S3Bucket 'x': ... Fix: ...``."""
        return f"{self.level.upper()} {self.rule}: {self.message}"


def message(rule: str, finding: Finding, default: Resource | None = None) -> str:
    """The violation message: names the resource, the rule and the fix."""
    at = finding.resource or default
    where = at.label if at is not None else "stack"
    return f"{where} breaks '{rule}': {finding.problem} Fix: {finding.fix}"


def run_resource_rule(rule: ResourceRule, resource: Resource, ctx: StackContext) -> list[Violation]:
    """The violations of one resource rule on one resource (none if it does not apply)."""
    if not rule.applies_to(resource):
        return []
    return [
        Violation(rule.name, rule.level, message(rule.name, f, resource))
        for f in rule.check(resource, ctx)
    ]


def run_stack_rule(
    rule: StackRule, resources: Sequence[Resource], ctx: StackContext
) -> list[Violation]:
    """The violations of one stack rule."""
    return [
        Violation(rule.name, rule.level, message(rule.name, f)) for f in rule.check(resources, ctx)
    ]


def cant_run(rule: str, exc: UnknownInput) -> Violation:
    """What a rule that needs a value preview cannot know reports: advisory, as pulumi-policy's
    analyzer reports an UnknownValueError (pulumi_policy/policy.py, Analyze and AnalyzeStack),
    so `make guard` on a recording reaches the pack's verdict. Never a pass, never a finding."""
    return Violation(rule, ADVISORY, f"can't run policy '{rule}' during preview: {exc}")


def unless_unknown(rule: str, run: Callable[[], list[Violation]]) -> list[Violation]:
    """``run()``'s violations, or :func:`cant_run` if the rule needs an unknown value."""
    try:
        return run()
    except UnknownInput as exc:
        return [cant_run(rule, exc)]


def description_of(check: Callable[..., object]) -> str:
    """A rule's description: the first paragraph of its check's docstring, as one line."""
    doc = inspect.getdoc(check)
    if not doc:
        raise ValueError(f"{check.__name__} has no docstring: its first line describes the rule")
    return " ".join(doc.split("\n\n", 1)[0].split())


_ResourceCheckT = TypeVar("_ResourceCheckT", bound=ResourceCheck)
_StackCheckT = TypeVar("_StackCheckT", bound=StackCheck)


class Catalogue:
    """The rules, in the order they are declared (the order the pack serves and runners report).

    Each check registers itself where it is defined; the first paragraph of its docstring is the
    rule's description (what the pack serves), the rest says how it judges::

        @RULES.resource("bucket-acl-private", MANDATORY, (BUCKET,))
        def check_bucket_acl_private(resource, ctx):
            '''The bucket's ACL is private.

            Public access goes only through the bucket policy.'''
    """

    def __init__(self) -> None:
        self.resource_rules: list[ResourceRule] = []
        self.stack_rules: list[StackRule] = []

    @classmethod
    def joined(cls, *parts: Catalogue) -> Catalogue:
        """One catalogue of every rule of ``parts``, in their order (a name twice is refused)."""
        whole = cls()
        for part in parts:
            for rule in part.resource_rules:
                whole._claim(rule.name)
                whole.resource_rules.append(rule)
            for stack_rule in part.stack_rules:
                whole._claim(stack_rule.name)
                whole.stack_rules.append(stack_rule)
        return whole

    def _claim(self, name: str) -> None:
        if name in self.levels():
            raise ValueError(f"two guardrails are named {name!r}: give the new one its own name")

    def resource(
        self, name: str, level: Level, types: Iterable[str] | None
    ) -> Callable[[_ResourceCheckT], _ResourceCheckT]:
        """Declare the decorated function as a rule over each resource of ``types`` (None: all)."""

        def register(check: _ResourceCheckT) -> _ResourceCheckT:
            self._claim(name)
            kinds = None if types is None else frozenset(types)
            rule = ResourceRule(name, description_of(check), level, kinds, check)
            self.resource_rules.append(rule)
            return check

        return register

    def stack(self, name: str, level: Level) -> Callable[[_StackCheckT], _StackCheckT]:
        """Declare the decorated function as a rule over the whole desired state."""

        def register(check: _StackCheckT) -> _StackCheckT:
            self._claim(name)
            self.stack_rules.append(StackRule(name, description_of(check), level, check))
            return check

        return register

    def levels(self) -> dict[str, Level]:
        """Every rule's name -> its level: resource rules, then stack rules, as declared."""
        return {
            **{rule.name: rule.level for rule in self.resource_rules},
            **{rule.name: rule.level for rule in self.stack_rules},
        }

    def check_all(
        self,
        resources: Sequence[Resource],
        ctx: StackContext,
        stack_resources: Sequence[Resource] | None = None,
    ) -> list[Violation]:
        """Every violation of every rule, mandatory first. Stack rules see ``stack_resources``
        when given: the engine hands them each resource's outputs, not its checked inputs."""
        whole = resources if stack_resources is None else stack_resources
        found: list[Violation] = []
        for stack_rule in self.stack_rules:
            run_stack = partial(run_stack_rule, stack_rule, whole, ctx)
            found.extend(unless_unknown(stack_rule.name, run_stack))
        for rule in self.resource_rules:
            for resource in resources:
                run = partial(run_resource_rule, rule, resource, ctx)
                found.extend(unless_unknown(rule.name, run))
        return sorted(found, key=lambda v: v.level != MANDATORY)
