"""What a method is, as the rest of instructgen sees it: one MethodSpec, in its folder's
__init__.py, listed by the registry (pipeline/methods/__init__.py). The commands, the session,
the estimate, merge, the report and the stub model ask for it; none of them names a method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.gate import Gate
from pipeline.engine.stages import Recipe
from pipeline.estimate.models import CostModel
from pipeline.options import MethodOptions
from pipeline.report.hooks import NONE, MethodReport
from pipeline.stub.ask import Responder
from pipeline.types import Example

# The option groups every method's commands take (pipeline/cli/options.py).
COMMON_GROUPS = ("model", "score", "runtime")


@dataclass(frozen=True)
class Outputs:
    """Files a method writes beside kept.jsonl and the rest, from the kept examples, in order.

    `write(folder, kept)` writes every file named in `files` (atomically). The method's recipe
    calls it with the rest of its outputs, at each checkpoint (Recipe.write); merge calls it for
    the merged examples; the run's summary lists `files`."""

    files: tuple[str, ...]
    write: Callable[[Path, list[Example]], None]


@dataclass(frozen=True)
class Merge:
    """How shards of the method merge (pipeline/engine/merge.py): the gate decides on units of
    examples, an example for which `follows(example)` holds joining the one before it (Unnatural's
    reformulations follow their core example); `id_fields` are meta fields naming another
    example of the same run, renamed with the shard's prefix as its id is."""

    follows: Callable[[Example], bool] = lambda example: False
    id_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec:
    """A method: its name and options, its recipe of stages, and what each part of instructgen
    needs of it.

    - `name`: the command (`instructgen run NAME`) and the config's `method`; `summary`: the
      command's help, one sentence.
    - `options`: its own settings (a MethodOptions dataclass); `groups`: the shared option
      groups its commands take, beyond the model and runtime ones every method takes.
    - `recipe(config)`: its stages (pipeline/engine/stages.py's Recipe).
    - `cost`: its cost model for `instructgen estimate`.
    - `responders`: the stub model's answers to its prompts.
    - `out`: the default --out; `target`: the help of --target, or None for a method that maps
      over its input and has no target.
    - `gate`: its ROUGE-L gate, if it has one; `merge`: how its shards merge (None: merge is
      refused; a merge needs the gate, by which it decides); `outputs`: the extra files it
      writes; `report`: what it adds to the report.
    - `example`: the settings of a run of a second or two on the stub, with a few dozen
      requests (the contract tests, the crash trials and the docs use it).
    - `description`: a paragraph on what the method does, for the run's dataset card
      (pipeline/card.py; default: `summary`); `paper`: the work it follows, one line
      ("Wang et al. 2023, Self-Instruct (ACL)"); `cite`: BibTeX entries for it. All optional:
      a card without them says that the method names no paper."""

    name: str
    summary: str
    options: type[MethodOptions]
    recipe: Callable[[RunConfig], Recipe]
    cost: CostModel
    responders: tuple[Responder, ...]
    out: str
    target: str | None = None
    groups: tuple[str, ...] = ()
    gate: Gate | None = None
    merge: Merge | None = None
    outputs: Outputs | None = None
    report: MethodReport = NONE
    example: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    paper: str = ""
    cite: str = ""

    def __post_init__(self) -> None:
        if self.merge is not None and self.gate is None:
            raise TypeError(f"{self.name}: shards merge by the ROUGE-L gate; give the spec a gate")

    def example_flags(self) -> list[str]:
        """`example` as command-line flags, e.g. ['--limit', '16', '--rounds', '1']."""
        flags = []
        for name, value in self.example.items():
            shared = "--" + name.replace("_", "-")
            flag = self.options.flag(name) if name in self.option_names else shared
            if isinstance(value, bool):
                flags.append(flag if value else "--no-" + flag.removeprefix("--"))
            else:
                flags += [flag, str(value)]
        return flags

    @property
    def option_names(self) -> set[str]:
        return {f.name for f in self.options.specs()}

    @property
    def option_groups(self) -> tuple[str, ...]:
        return (*COMMON_GROUPS[:1], *self.groups, *COMMON_GROUPS[1:])
