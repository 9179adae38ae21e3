"""The one registry of methods. A method is a folder here (its MethodSpec in the folder's
__init__.py, see spec.py) and one line in FOLDERS; adding one touches nothing else.

Folders are imported when the registry is first asked, so importing a method's own module
(`pipeline.methods.evol.round`) never loads the others."""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from pipeline.config import RunConfig
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.engine.stages import Recipe
    from pipeline.methods.spec import MethodSpec
    from pipeline.stub.ask import Responder
    from pipeline.stub.model import StubBackend

# One line per method: its folder, whose __init__.py defines SPEC. The order is the order of
# the commands in --help and of the stub's responders.
FOLDERS = (
    "self_instruct",
    "unnatural",
    "evol",
    "conversations",
    "grade",
)


@cache
def registry() -> dict[str, MethodSpec]:
    """Every method by name."""
    specs = [import_module(f"{__name__}.{folder}").SPEC for folder in FOLDERS]
    return {spec.name: spec for spec in specs}


def names() -> tuple[str, ...]:
    return tuple(registry())


def specs() -> tuple[MethodSpec, ...]:
    return tuple(registry().values())


def get(name: str) -> MethodSpec:
    """The method `name`; a ConfigError listing the methods if there is none."""
    try:
        return registry()[name]
    except KeyError:
        raise ConfigError(f"unknown method {name!r}; use one of {', '.join(names())}") from None


def recipe(config: RunConfig) -> Recipe:
    """The run's recipe: its method's stages, then the score stage when a judge is asked for."""
    from pipeline.score.scored import with_score

    return with_score(get(config.method).recipe(config), config)


def default() -> str:
    """The method a config without one is (the first registered: Self-Instruct)."""
    return names()[0]


def make_config(method: str | None = None, **settings: Any) -> RunConfig:
    """A RunConfig from flat settings: the shared ones and the method's own options."""
    method = method or default()
    spec = get(method)
    own = {f.name for f in dataclasses.fields(spec.options)}
    options = spec.options(**{k: v for k, v in settings.items() if k in own})
    shared = {k: v for k, v in settings.items() if k not in own}
    return RunConfig(method=method, options=options, **shared)


def load_config(flat: dict[str, Any]) -> RunConfig:
    """A RunConfig from its flat form (run.json's "config", a flow's parameters); keys that are
    neither shared nor the method's are ignored."""
    method = flat.get("method") or default()
    return RunConfig.from_dict({**flat, "method": method}, get(method).options)


def responders() -> tuple[Responder, ...]:
    """Every method's stub responders, in registry order."""
    return tuple(r for spec in specs() for r in spec.responders)


def stub_model(**options: Any) -> StubBackend:
    """The offline stub model answering every method's prompts (options: StubBackend's)."""
    from pipeline.stub.model import StubBackend

    return StubBackend(responders=responders(), **options)
