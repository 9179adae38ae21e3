"""Evol-Instruct's views: each round's survivors and eliminations, growth, and lineage."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.config import RunConfig
from pipeline.errors import InstructgenError
from pipeline.methods.evol.options import EvolOptions
from pipeline.methods.evol.recipe import EvolRecipe
from pipeline.report.hooks import Pool
from pipeline.report.load import RunData
from pipeline.report.similarity import full_text

LINEAGES = 5
CANDIDATES = 50  # full lineages looked at to pick the LINEAGES shown


def starting_pool(run: RunData) -> Pool:
    """The pool the run started from, only if its content hash still matches run.json's
    fingerprint: a seed file edited since would show the wrong texts."""
    try:
        config = RunConfig.from_dict(run.config, EvolOptions)
        recipe = EvolRecipe(config)
        fingerprint = config.fingerprint(**recipe.fingerprint_parts())
    except (InstructgenError, OSError, TypeError, ValueError) as e:
        return Pool({}, f"starting pool not readable ({e}): seeds shown by id")
    if fingerprint != run.fingerprint:
        return Pool({}, "starting pool changed since the run: seeds shown by id")
    where = config.options.source or "the built-in seed tasks"
    return Pool({e.id: full_text(e.to_dict()) for e in recipe.pool}, f"seed texts from {where}")


def by_round(kept: list[dict]) -> dict[int, list[dict]]:
    rounds: dict[int, list[dict]] = defaultdict(list)
    for e in kept:
        rounds[int((e.get("meta") or {}).get("round", 0))].append(e)
    return dict(sorted(rounds.items()))


def operations_table(run: RunData) -> list[tuple[str, int, int]]:
    """Per operation: evolutions that survived, and those eliminated (any rule, any round)."""
    survived = Counter(str((e.get("meta") or {}).get("operation", "?")) for e in run.kept)
    eliminated = Counter(run.drop_meta.get("operation", []))
    ops = sorted(set(survived) | set(eliminated))
    return [(op, survived[op], eliminated[op]) for op in ops]


@dataclass(frozen=True)
class Step:
    id: str
    text: str | None  # None: a seed whose text is not available
    round: int
    operation: str


def lineage(example: dict, by_id: dict[str, dict], pool: Pool) -> list[Step]:
    """Seed -> round 1 -> ... -> this example, following parent_id through the kept examples."""
    steps: list[Step] = []
    node: dict | None = example
    seen: set[str] = set()
    while node is not None and node.get("id") not in seen:
        seen.add(node["id"])
        meta = node.get("meta") or {}
        steps.append(
            Step(node["id"], full_text(node), int(meta.get("round", 0)), meta["operation"])
        )
        parent = str(meta.get("parent_id", ""))
        node = by_id.get(parent)
        if node is None:
            steps.append(Step(parent, pool.texts.get(parent), 0, "seed"))
    return steps[::-1]


def sample_lineages(kept: list[dict], pool: Pool, count: int = LINEAGES) -> list[list[Step]]:
    """`count` full lineages (seed -> every round) of the last round's examples, those with the
    most different operations first; shorter ones only when there are not enough full ones."""
    by_id = {e["id"]: e for e in kept if "operation" in (e.get("meta") or {})}
    rounds = by_round(list(by_id.values()))
    if not rounds:
        return []
    last = max(rounds)
    chains: list[list[Step]] = []
    full = 0
    for example in rounds[last]:
        chains.append(lineage(example, by_id, pool))
        full += len(chains[-1]) == last + 1
        if full >= CANDIDATES:
            break  # enough full ones to choose from: a 50K run has thousands
    chains.sort(key=lambda c: (-len(c), -len({s.operation for s in c})))  # stable: kept order
    return chains[:count]
