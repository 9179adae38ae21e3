"""The Evol-Instruct section: rounds, eliminations by rule and operation, growth, lineage."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

import numpy as np

from pipeline.methods.evol.lineage import (
    Step,
    by_round,
    lineage,
    operations_table,
    sample_lineages,
    starting_pool,
)
from pipeline.report import svg
from pipeline.report.hooks import MethodReport, Pool, Section
from pipeline.report.load import RunData
from pipeline.report.page import count, esc, note, pct, section, stat, table
from pipeline.report.similarity import full_text

_TOKENS = re.compile(r"\S+|\s+")


def evol_section(run: RunData, pool: Pool | None, prefix: str) -> str:
    pool = pool or Pool({}, "")
    body = _rounds(run.stats.get("rounds", {}))
    body += _operations(run)
    body += _growth(run.kept, pool)
    body += _lineages(run.kept, pool)
    return section("evol", prefix, "Evol-Instruct rounds", body)


def _rounds(rounds: dict) -> str:
    rules = sorted({rule for r in rounds.values() for rule in r.get("eliminated", {})})
    colors = {"survived": svg.PALETTE[2]}
    colors.update({rule: svg.PALETTE[(i + 3) % len(svg.PALETTE)] for i, rule in enumerate(rules)})
    bars, rows = [], []
    for number, r in rounds.items():
        gone = r.get("eliminated", {})
        bars.append((f"round {number}", [("survived", r.get("survived", 0)), *gone.items()]))
        key = f"rounds.{number}"
        cells = [
            stat(gone[rule], f"{key}.eliminated.{rule}") if rule in gone else "0" for rule in rules
        ]
        rows.append(
            [
                f"round&nbsp;{esc(number)}",
                stat(r.get("evolved", 0), f"{key}.evolved"),
                *cells,
                stat(r.get("survived", 0), f"{key}.survived"),
                pct(r.get("survived", 0), r.get("evolved", 0)),
            ]
        )
    chart = svg.stacked(bars, "Each round's evolutions: survived or eliminated by rule", colors)
    # Reasons name the rules well enough and keep the columns narrow.
    head = [
        "round",
        "#evolved",
        *(f"#{rule.split(': ')[-1]}" for rule in rules),
        "#survived",
        "#survival",
    ]
    intro = note(
        "Each round evolves every instruction of the pool once; a failed evolution's parent "
        "goes back into the pool. Rules: equality (1, no information gain), sorry (2), "
        "stopwords (3), marker (4)."
    )
    return "<h3>Per round</h3>" + intro + chart + table(head, rows)


def _operations(run: RunData) -> str:
    rows = [
        [esc(op), count(kept), count(gone), pct(kept, kept + gone)]
        for op, kept, gone in operations_table(run)
    ]
    head = ["operation", "#survived", "#eliminated", "#survival"]
    return "<h3>By operation, all rounds</h3>" + table(head, rows)


def _growth(kept: list[dict], pool: Pool) -> str:
    rounds = by_round(kept)
    groups, outputs, rows = [], [], []
    if pool.texts:
        seeds = np.array([len(t.split()) for t in pool.texts.values()])
        groups.append(("seeds", seeds))
    for number, items in rounds.items():
        words = np.array([len(full_text(e).split()) for e in items])
        out = np.array([len((e.get("output") or "").split()) for e in items])
        groups.append((f"round {number}", words))
        outputs.append((f"round {number}", out))
    for name, words in groups:
        rows.append(
            [esc(name), count(words.size), f"{np.median(words):.0f}", f"{words.mean():.1f}"]
        )
    charts = svg.boxes(groups, "Instruction length by round", "instruction words")
    charts += svg.boxes(outputs, "Answer length by round", "answer words")
    intro = note(
        "Complexity proxy: words of the instruction (with its input) and of the answer. "
        "Boxes: quartiles; whiskers: 10th-90th percentile; line: median; dot: mean."
    )
    table_html = table(["", "#instructions", "#median words", "#mean words"], rows)
    return "<h3>Growth by round</h3>" + intro + f'<div class="grid">{charts}</div>' + table_html


def _lineages(kept: list[dict], pool: Pool) -> str:
    chains = sample_lineages(kept, pool)
    if not chains:
        return ""
    items = "".join(f'<ol class="lineage" data-lineage="{len(c)}">{_chain(c)}</ol>' for c in chains)
    why = "Words each step added to its parent are marked."
    return "<h3>Lineage of a few examples</h3>" + note(f"{esc(pool.note)}. {why}") + items


def _chain(steps: list[Step]) -> str:
    out, before = [], None
    for s in steps:
        title = (
            f"seed {s.id}" if s.operation == "seed" else f"round {s.round}, {s.operation}: {s.id}"
        )
        if s.text is None:
            text = '<span class="mute">(text not available)</span>'
        else:
            text = marked(before, s.text) if before is not None else esc(s.text)
        before = s.text
        out.append(f"<li><b>{esc(title)}</b>\n{text}</li>")
    return "".join(out)


def marked(parent: str, child: str) -> str:
    """The child's text with the words it added to its parent's in <ins>."""
    a, b = _TOKENS.findall(parent), _TOKENS.findall(child)
    out = []
    for op, _, _, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        piece = esc("".join(b[j1:j2]))
        out.append(piece if op == "equal" or not piece.strip() else f"<ins>{piece}</ins>")
    return "".join(out)


def sample_lineage(example: dict, by_id: dict[str, dict], pool: Pool | None) -> str | None:
    """Seed -> round 1 -> ... for the sample table, each step with its operation."""
    if "operation" not in (example.get("meta") or {}):
        return None
    steps = lineage(example, by_id, pool or Pool({}, ""))
    return " → ".join(
        esc(s.id) if s.operation == "seed" else f"{esc(s.id)} <i>({esc(s.operation)})</i>"
        for s in steps
    )


def rounds_markdown(stats: dict) -> list[str]:
    """Each round's evolutions, eliminations and survivors, for the run's Markdown summary."""
    rounds = stats.get("rounds", {})
    if not rounds:
        return []
    lines = ["| round | evolved | eliminated | survived |", "| ---: | ---: | ---: | ---: |"]
    for number, r in rounds.items():
        gone = sum(r.get("eliminated", {}).values())
        lines.append(
            f"| {number} | {r.get('evolved', 0):,} | {gone:,} | {r.get('survived', 0):,} |"
        )
    return lines


REPORT = MethodReport(
    pool=starting_pool,
    sections=(Section("evol", "Rounds", evol_section),),
    lineage=sample_lineage,
    drop_fields=("operation",),
    reads=", and the starting pool run.json names (for the seeds' texts)",
    summary=rounds_markdown,
)
