"""The stand-in ``random`` provider plugin (pulumi-random 4.21.4), for tests and the demo only.

pulumi-random bridges HashiCorp's terraform-provider-random (MPL-2.0); its module
(github.com/pulumi/pulumi-random/provider/v4) is not served by the module proxy here, so this
serves the one type the program uses, ``RandomPassword``, as that provider does
(internal/provider/resource_password.go): every input forces a replacement, the result and its
bcrypt hash are Sensitive, ``length`` is at least 1 and at least the sum of the minimums, and the
id is ``none``.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Collection
from typing import Any, Final

import bcrypt

from devtools.providers.server import Diff, Failure, Plugin, Properties, ReadResult
from infra import render_format

NAME: Final = "random"
VERSION: Final = "4.21.4"  # pulumi_random's pulumi-plugin.json
DEFAULT_SPECIAL: Final = "!@#$%&*()-_=+[]{}<>:?"  # resource_password.go's default
# resource_password.go's generateHash: bcrypt.DefaultCost (golang.org/x/crypto/bcrypt: 10) over
# at most the first 72 bytes. Python's bcrypt defaults to 12, four times the work per password.
BCRYPT_COST: Final = 10
BCRYPT_MAX_BYTES: Final = 72
# The schema's defaults (Check fills them in).
DEFAULTS: Final[Properties] = {
    "lower": True,
    "upper": True,
    "numeric": True,
    "number": True,
    "special": True,
    "minLower": 0,
    "minUpper": 0,
    "minNumeric": 0,
    "minSpecial": 0,
}
INPUTS: Final = frozenset({*DEFAULTS, "length", "keepers", "overrideSpecial"})
MINIMUMS: Final = ("minLower", "minUpper", "minNumeric", "minSpecial")


class RandomPassword:
    """``random:index/randomPassword:RandomPassword``."""

    sensitive: frozenset[str] = frozenset({"result", "bcryptHash"})

    def check(self, olds: Properties, news: Properties) -> tuple[Properties, list[Failure]]:
        """Defaults filled in; a length below 1 or below the sum of the minimums refused."""
        inputs = {**DEFAULTS, **news}
        failures = [
            Failure(name, "is not an input of RandomPassword") for name in set(news) - INPUTS
        ]
        length = inputs.get("length")
        if not isinstance(length, int) or length < 1:
            failures.append(Failure("length", f"must be at least 1, got {length!r}"))
        elif length < sum(int(inputs[m]) for m in MINIMUMS):
            failures.append(Failure("length", "must be at least the sum of the minimums"))
        return inputs, failures

    def diff(self, olds: Properties, news: Properties, ignore: Collection[str]) -> Diff:
        """Any input that changed replaces the password (RequiresReplace on every attribute)."""
        changed = tuple(sorted(n for n in INPUTS if n not in ignore and news.get(n) != olds.get(n)))
        return Diff(changed=changed, replaces=changed)

    def create(self, client: Any, inputs: Properties, preview: bool) -> tuple[str, Properties]:
        """A new password from the character sets the inputs allow."""
        if preview:
            return "", dict(inputs)
        result = _generate(inputs)
        digest = bcrypt.hashpw(
            result.encode()[:BCRYPT_MAX_BYTES], bcrypt.gensalt(rounds=BCRYPT_COST)
        ).decode()
        return "none", {**inputs, "result": result, "bcryptHash": digest}

    def read(self, client: Any, id_: str, state: Properties) -> ReadResult | None:
        """Nothing to read: the state is the password."""
        return ReadResult(id_, state, {k: v for k, v in state.items() if k in INPUTS})

    def update(
        self, client: Any, id_: str, olds: Properties, news: Properties, preview: bool
    ) -> Properties:
        """Never called for a change of an input (each replaces); keeps the password."""
        return {**olds, **news}

    def delete(self, client: Any, id_: str, state: Properties) -> None:
        """Nothing exists outside the state."""


def _generate(inputs: Properties) -> str:
    sets = {
        "minLower": string.ascii_lowercase if inputs["lower"] else "",
        "minUpper": string.ascii_uppercase if inputs["upper"] else "",
        "minNumeric": string.digits if inputs["numeric"] and inputs["number"] else "",
        "minSpecial": (inputs.get("overrideSpecial") or DEFAULT_SPECIAL)
        if inputs["special"]
        else "",
    }
    alphabet = "".join(sets.values())
    if not alphabet:
        raise ValueError("RandomPassword: every character set is off")
    chars = [secrets.choice(sets[m]) for m in MINIMUMS for _ in range(int(inputs[m])) if sets[m]]
    chars += [secrets.choice(alphabet) for _ in range(int(inputs["length"]) - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


PLUGIN: Final = Plugin(
    name=NAME,
    version=VERSION,
    resources={render_format.RANDOM_PASSWORD: RandomPassword()},
    check_config=lambda news: (news, []),
    configure=lambda config: None,
)
