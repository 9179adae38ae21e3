"""What the kept data looks like: ROUGE-L similarity, diversity (verb-noun, distinct-n), lengths."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from pipeline.report import svg
from pipeline.report.page import count, esc, kpis, note, pct, section, table
from pipeline.report.similarity import Similarity
from pipeline.report.textstats import FIELDS, Diversity, Lengths
from pipeline.report.verbs import NO_OBJECT, OTHER_LABEL, QUESTION_LABEL

TOP_VERBS, TOP_NOUNS = 20, 4
REFERENCE = 0.7  # Self-Instruct's threshold, drawn for methods without a gate


@dataclass
class Analysis:
    """Everything the content sections show, computed once per run."""

    similarity: Similarity
    instructions: Diversity
    outputs: Diversity
    verbs: Counter
    nouns: dict[str, Counter]
    lengths: dict[str, Lengths]
    with_input: float


def similarity_section(a: Analysis, prefix: str) -> str:
    s = a.similarity
    values = np.asarray(s.values, dtype=float)
    line = s.threshold if s.threshold is not None else REFERENCE
    if s.threshold is not None:
        label = f"threshold {line:g}"
    else:
        label = f"{line:g} (no gate in this method)"
    above = int((values > line).sum())
    head = kpis(
        [
            ("instructions scored", count(values.size)),
            ("mean", f"{values.mean():.3f}" if values.size else "–"),
            ("median", f"{np.median(values):.3f}" if values.size else "–"),
            ("highest", f"{values.max():.3f}" if values.size else "–"),
            (f"above {line:g}", f'<span data-above="{above}">{above:,}</span>'),
        ]
    )
    chart = svg.histogram(
        values,
        np.linspace(0.0, 1.0, 21),
        "Highest ROUGE-L F of each kept instruction to the pool before it",
        "ROUGE-L F to the most similar earlier instruction",
        line,
        label,
    )
    intro = note(
        f"Scored: {esc(s.scored)}. Source: {esc(s.source)}. The Self-Instruct paper's figure: "
        "how close each new instruction came to the seeds and everything kept before it."
    )
    body = f'<div class="figure" data-scored="{values.size}">{chart}</div>'
    return section("similarity", prefix, "ROUGE-L similarity to the pool", intro + head + body)


def diversity_section(a: Analysis, prefix: str) -> str:
    n = sum(a.verbs.values())
    questions, other = a.verbs.get(QUESTION_LABEL, 0), a.verbs.get(OTHER_LABEL, 0)
    d = a.instructions
    head = kpis(
        [
            ("vocabulary (instructions)", count(d.vocabulary)),
            ("distinct-1", f"{d.distinct[1]:.3f}"),
            ("distinct-2", f"{d.distinct[2]:.3f}"),
            ("distinct-3", f"{d.distinct[3]:.3f}"),
            ("tasks with an input", f"{100 * a.with_input:.1f}%"),
            ("questions", pct(questions, n)),
        ]
    )
    verbs = [(v, c) for v, c in a.verbs.most_common() if v not in (QUESTION_LABEL, OTHER_LABEL)]
    top = verbs[:TOP_VERBS]
    notes = [_nouns(a.nouns[v]) for v, _ in top]
    label = "Most common leading verbs, and each one's most common objects"
    chart = svg.hbars(top, label, notes=notes, width=1000) if top else ""
    dn = [_distinct_row("instructions", a.instructions), _distinct_row("outputs", a.outputs)]
    distinct = table(
        ["texts", "#vocabulary", "#distinct-1", "#distinct-2", "#distinct-3", "#distinct bigrams"],
        dn,
    )
    intro = note(
        "<b>Verb-noun view by a heuristic, not a parser</b> (no parser model can be had offline): "
        "the leading imperative verb of the first clauses and the head of the noun phrase after "
        "it, from word lists (pipeline/report/verbs.py says how); — is no noun object. "
        f"{pct(questions, n)} of instructions are questions and {pct(other, n)} have no verb "
        "found; the chart covers the rest. distinct-n: distinct n-grams over all n-grams "
        "(rouge-score's tokens)."
    )
    return section("diversity", prefix, "Diversity", intro + head + chart + distinct)


def _nouns(nouns: Counter) -> str:
    """Plain text: svg.hbars escapes it."""
    words = [("—" if w == NO_OBJECT else w, c) for w, c in nouns.most_common(TOP_NOUNS)]
    return " · ".join(f"{w} {c:,}" for w, c in words)


def _distinct_row(name: str, d: Diversity) -> list[str]:
    cells = [f"{d.distinct[k]:.3f}" for k in (1, 2, 3)]
    return [name, count(d.vocabulary), *cells, count(d.ngrams[2])]


def length_edges(values: np.ndarray, bins: int = 30) -> np.ndarray:
    """Nice bin edges from 0 to about the 99th percentile (the last bin holds the rest)."""
    hi = float(np.percentile(values, 99)) if values.size else 1.0
    raw = max(hi / bins, 1.0)
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if step * m >= raw)
    top = max(step * math.ceil(hi / step), step)
    return np.arange(0.0, top + step / 2, step)


def lengths_section(a: Analysis, prefix: str, method_note: str = "") -> str:
    rows, charts = [], []
    for name in FIELDS:
        ln = a.lengths[name]
        s = ln.summary()
        rows.append(
            [
                name,
                count(s["n"]),
                count(ln.empty),
                f"{s['mean']:.1f}",
                f"{s['median']:.0f}",
                f"{s['p90']:.0f}",
                f"{s['max']:.0f}",
            ]
        )
        if ln.values.size:
            edges = length_edges(ln.values)
            xlabel = f"{name} words (the last bar holds {edges[-1]:,.0f} and more)"
            charts.append(svg.histogram(ln.values, edges, f"{name} length", xlabel, size=480))
    head = ["field", "#non-empty", "#empty", "#mean", "#median", "#p90", "#max"]
    why = f" {method_note}" if method_note else ""
    intro = note(f"Words by whitespace split; empty fields are counted apart, not as zero.{why}")
    grid = f'<div class="grid">{"".join(charts)}</div>'
    return section("lengths", prefix, "Lengths", intro + table(head, rows) + grid)
