"""The committed renders are the review surface: each must be exactly what the engine registers.

For every stack and variant, the offline render (``python -m infra.render``: resources, inputs
with secrets masked, ``protect``, ``retain_on_delete``, ``ignore_changes``, ``depends_on``,
``aliases``, ``import``) is compared with the new states of ``pulumi preview --json`` by the real
engine. A difference names the resource and the field. The engine's inputs are what the
provider's Check returned: the schema defaults it fills in (infra/provider_contract.py) are
allowed beyond what the render shows, nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.endpoint.embedded_s3 import EmbeddedS3
from devtools.endpoint.handmade import build_handmade
from devtools.engine.workspace import EngineWorkspace, embedded_stack_config
from devtools.providers import random_provider
from infra import provider_contract as contract
from infra import render_format
from infra.adoption import ADOPT_OVERRIDES
from infra.config import full_key
from infra.render import VARIANTS, render_stack
from tests.engine.stacks import registered_differences
from tests.support import PUBLIC_OVERRIDES

# The schema defaults Check fills in, by type (the random provider's: its own module).
DEFAULTS: dict[str, dict[str, Any]] = {
    **{type_: contract.check_defaults(type_) for type_ in contract.CONTRACTS},
    render_format.RANDOM_PASSWORD: dict(random_provider.DEFAULTS),
}


@pytest.fixture(scope="module")
def console_key(endpoint: EmbeddedS3) -> str:
    """The hand-made state on the endpoint (what the adopting stack imports): the console
    account's access key."""
    return build_handmade(endpoint, recordings=2).console_keys.access_key


def _variant(name: str, console_key: str) -> tuple[str, dict[str, str]]:
    if name == "prod-adopt":
        return "prod", {**ADOPT_OVERRIDES, full_key("adoptServiceAccount"): console_key}
    if name == "dev-public":
        return "dev", dict(PUBLIC_OVERRIDES)
    if name in VARIANTS:
        stack, overrides = VARIANTS[name]
        return stack, dict(overrides)
    return name, {}


@pytest.mark.parametrize(
    "variant", ["dev", "prod", "prod-adopt", "dev-public", "prod-company-retention"]
)
def test_the_render_equals_what_the_engine_registers(
    workspace: EngineWorkspace, endpoint: EmbeddedS3, console_key: str, variant: str
) -> None:
    stack, overrides = _variant(variant, console_key)
    config = {**embedded_stack_config(endpoint), **overrides}
    # A stack of its own per variant, from the stack file's config (copied under its name).
    name = f"{variant}-check"
    (workspace.project / f"Pulumi.{name}.yaml").write_text(
        (workspace.project / f"Pulumi.{stack}.yaml").read_text()
    )
    workspace.init_stack(name, config)
    preview = workspace.run("preview", "-s", name, "--json").json()
    assert registered_differences(render_stack(stack, config), preview, DEFAULTS) == []
