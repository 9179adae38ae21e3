"""Each kept instruction's highest ROUGE-L F to the pool before it (the Self-Instruct figure).

A gated method's examples carry it in meta (`most_similar`, from the gate itself; which ones
and what it compares: the method's Gate). Otherwise it is computed with the gate's RougeIndex:
exactly
for up to EXACT_MAX kept instructions, else for a seeded sample of SAMPLE of them, each scored
against exactly the pool before it (a full 50K pass would take minutes; 300 Evol instructions
against their pools take about 2 s of CPU at 50K kept, measured)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.engine.gate import Gate
from pipeline.filters.rouge.index import RougeIndex

EXACT_MAX, SAMPLE = 5_000, 300


@dataclass(frozen=True)
class Similarity:
    values: list[float]  # one per instruction scored
    scored: str  # which instructions: "all kept", "core examples", "a sample of ..."
    source: str  # where the numbers come from
    threshold: float | None  # the gate's, or None when the method has no gate


def full_text(example: dict) -> str:
    """An example's instruction, with its input after it when it has one."""
    text = example.get("instruction", "")
    return f"{text}\n{example['input']}" if example.get("input") else text


def from_meta(gated: list[dict], gate: Gate, threshold: float | None) -> Similarity | None:
    """The gate's own scores, when every gated example recorded them."""
    if not gated or any("most_similar" not in (e.get("meta") or {}) for e in gated):
        return None
    values = [_top(e["meta"]["most_similar"]) for e in gated]
    source = "the gate's scores (meta.most_similar)"
    scored = f"{len(values):,} {gate.scored}" if gate.scored else f"all {len(values):,} kept"
    if gate.compares:
        source += f", {gate.compares}"
    return Similarity(values, scored, source, threshold)


def _top(most_similar: list) -> float:
    return float(most_similar[0][1]) if most_similar else 0.0


def computed(texts: list[str], pool: list[str], threshold: float | None) -> Similarity:
    """Scores against `pool` plus the texts before each one, in order."""
    index = RougeIndex(threshold=1.0)  # 1.0: every text is kept, so each joins the pool
    index.extend(pool)
    base = "the starting pool and " if pool else ""
    source = f"computed here with RougeIndex against {base}the kept instructions before each"
    if not pool:
        source += " (the starting pool is not available)"
    if len(texts) <= EXACT_MAX:
        values = [d.max_score for d in index.gate(texts)]
        return Similarity(values, f"all {len(texts):,} kept", source, threshold)
    chosen = set(random.Random(0).sample(range(len(texts)), SAMPLE))
    values, last = [], max(chosen)
    for i, text in enumerate(texts[: last + 1]):
        if i in chosen:
            values.append(float(index.scores(text).max()) if len(index) else 0.0)
        index.add(text)
    scored = f"a seeded sample of {SAMPLE:,} of {len(texts):,} kept"
    return Similarity(values, scored, source, threshold)
