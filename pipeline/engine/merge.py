"""Merge shard runs: the union of their kept examples through one ROUGE-L pass.

Shards of a big run share every setting but `--seed`, and run in parallel (flow runs on
several workers). Each gated its candidates against its own pool only, so near-duplicates
across shards survive it. The merge gates the union again, as one run's gate does: against the
seeds (or demonstrations) and everything merged before, taking the shards' kept examples in a
fixed order (round-robin: the first of each shard, then the second of each, ...), so that a
--target takes evenly from every shard and the same inputs always give the same files.

What is merged, and how, is the method's (its MethodSpec's gate and merge): Unnatural
Instructions gates core examples only, and its reformulations follow their core."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

from pipeline import methods
from pipeline.card import write_card
from pipeline.config import RunConfig
from pipeline.engine.stats import Stats
from pipeline.errors import ConfigError
from pipeline.filters.rouge.index import RougeIndex
from pipeline.methods.spec import Merge, MethodSpec
from pipeline.store import KEPT, RUN_FILE, STATS, RunDir
from pipeline.types import Drop, Example


@dataclass
class Shard:
    path: Path
    config: RunConfig
    kept: list[Example]


def load_shard(path: Path) -> Shard:
    """A finished (or stopped) run directory: its config and kept examples."""
    try:
        doc = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
        lines = (path / KEPT).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        raise ConfigError(
            f"{path}: not a run directory with outputs ({RUN_FILE}, {KEPT}); pass the "
            "--out of each shard run"
        ) from None
    config = methods.load_config(doc["config"])
    return Shard(path, config, [Example.from_dict(json.loads(line)) for line in lines if line])


def check_shards(shards: list[Shard]) -> MethodSpec:
    """Shards must be one run split by --seed; returns their method."""
    first = shards[0]
    spec = methods.get(first.config.method)
    if spec.merge is None:
        mergeable = [s.name for s in methods.specs() if s.merge is not None]
        raise ConfigError(
            f"{first.path}: merge takes {' or '.join(mergeable)} runs; "
            f"{spec.name} has no ROUGE gate, concatenate its kept.jsonl instead"
        )
    seen: set[Path] = set()
    for shard in shards:
        if shard.path.resolve() in seen:
            raise ConfigError(f"{shard.path} is given twice; pass each shard once")
        seen.add(shard.path.resolve())
        a = {k: v for k, v in first.config.identity().items() if k != "seed"}
        b = {k: v for k, v in shard.config.identity().items() if k != "seed"}
        changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        if changed:
            raise ConfigError(
                f"{shard.path} differs from {first.path} in {', '.join(changed[:4])}; shards of "
                "one run share every setting but --seed"
            )
    return spec


def _units(shard: Shard, index: int, merge: Merge) -> list[list[Example]]:
    """What the gate decides on together: an example, and the ones that follow it (a core
    example and its reformulations). Ids get the shard's number, since every shard counts
    from 0."""
    prefix = f"s{index}-"
    units: list[list[Example]] = []
    for e in shard.kept:
        meta = {**e.meta, "shard": str(shard.path), "shard_id": e.id}
        for name in merge.id_fields:
            if name in meta:
                meta[name] = prefix + meta[name]
        renamed = replace(e, id=prefix + e.id, meta=meta)
        if merge.follows(e) and units:
            units[-1].append(renamed)
        else:
            units.append([renamed])
    return units


def _gate(spec: MethodSpec, config: RunConfig) -> RougeIndex:
    """The method's gate as a run of the shards' config starts it."""
    assert spec.gate is not None
    return spec.gate.index(config.options.rouge_threshold, spec.gate.seeds(spec.recipe(config)))


def merge_runs(runs: list[Path], out: Path, target: int | None = None) -> dict[str, Any]:
    """Gate the shards' union once, in round-robin order; write the merged files to `out`."""
    if not runs:
        raise ConfigError("pass the shard run directories to merge")
    if target is not None and target < 1:
        raise ConfigError(f"--target must be at least 1, got {target}")
    shards = [load_shard(Path(r)) for r in runs]
    spec = check_shards(shards)
    if Path(out).resolve() in {s.path.resolve() for s in shards}:
        raise ConfigError(f"--out {out} is one of the shards; pass a new folder")
    assert spec.merge is not None and spec.gate is not None
    per_shard = [_units(s, i, spec.merge) for i, s in enumerate(shards)]
    units = [u for u in chain.from_iterable(zip_longest(*per_shard)) if u is not None]
    gate = _gate(spec, shards[0].config)
    decisions = gate.gate([spec.gate.text(u[0]) for u in units], limit=target)
    stats, kept, drops = Stats(), [], []
    for unit, decision in zip(units, decisions, strict=False):
        head = unit[0]
        if decision.kept:
            similar = [[t, round(s, 6)] for t, s in decision.most_similar]
            meta = {**head.meta, "most_similar": similar}
            meta["avg_similarity"] = round(decision.mean_score, 6)
            kept += [replace(head, meta=meta), *unit[1:]]
            for _ in unit:
                stats.count_kept()
            continue
        text, score = decision.most_similar[0]
        drops.append(Drop("rouge", "too_similar", f"{score:.6f} vs {text!r}", head))
        drops += [Drop("rouge", "core_too_similar", head.id, r) for r in unit[1:]]
        for d in drops[-len(unit) :]:
            stats.count_drop(d.filter, d.reason)
    return _write(Path(out), spec, shards, kept, drops, stats, len(units) - len(decisions))


def _shard_summary(shard: Shard) -> dict[str, Any]:
    """What a shard brought and cost, from its stats.json, so the merged stats add up."""
    try:
        stats = json.loads((shard.path / STATS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stats = {}
    return {
        "run": str(shard.path),
        "seed": shard.config.seed,
        "kept": len(shard.kept),
        "requests": stats.get("requests", {}).get("total"),
        "tokens": stats.get("tokens"),
        "usd": stats.get("cost", {}).get("usd"),
    }


def _write(
    out: Path,
    spec: MethodSpec,
    shards: list[Shard],
    kept: list[Example],
    drops: list[Drop],
    stats: Stats,
    unused: int,
) -> dict[str, Any]:
    if (out / RUN_FILE).exists():
        raise ConfigError(f"--out {out} is a generation run directory; pass a new folder")
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "funnel": stats.to_dict()["funnel"],
        "unjudged_after_target": unused,
        "shards": [_shard_summary(s) for s in shards],
    }
    RunDir(out).write_outputs(kept, drops, result)
    if spec.outputs is not None:
        spec.outputs.write(out, kept)
    write_card(out)
    return result
