"""Assemble the report: one run, or several side by side, as one self-contained HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline import methods
from pipeline.errors import ConfigError
from pipeline.methods.spec import MethodSpec
from pipeline.report import svg
from pipeline.report.content import (
    REFERENCE,
    Analysis,
    diversity_section,
    lengths_section,
    similarity_section,
)
from pipeline.report.funnel import cost_section, funnel_section
from pipeline.report.hooks import NONE, MethodReport, Pool
from pipeline.report.load import RunData, load_runs
from pipeline.report.page import count, esc, kpis, note, page, pct, section, table, usd
from pipeline.report.sample import sample_section
from pipeline.report.similarity import Similarity, computed, from_meta, full_text
from pipeline.report.textstats import FIELDS, diversity, lengths, share_with_input
from pipeline.report.verbs import verb_noun_counts
from pipeline.score.report import TITLE as SCORE_TITLE
from pipeline.score.report import score_section
from pipeline.store import REPORT, atomic_write
from pipeline.types import Example

SECTIONS = ("summary", "funnel", "similarity", "diversity", "lengths", "cost", "sample")
TITLES = {
    "summary": "Run",
    "funnel": "Funnel",
    "similarity": "Similarity",
    "diversity": "Diversity",
    "lengths": "Lengths",
    "cost": "Cost",
    "sample": "Sample",
}


def _spec(run: RunData) -> MethodSpec | None:
    """The run's method, or None for one this version does not know."""
    return methods.registry().get(run.method)


def _hooks_of(method: str) -> MethodReport:
    spec = methods.registry().get(method)
    return spec.report if spec is not None else NONE


def analyze(run: RunData, pool: Pool | None) -> Analysis:
    kept = run.kept
    instructions = [e.get("instruction", "") for e in kept]
    verbs, nouns = verb_noun_counts(instructions)
    return Analysis(
        similarity=_similarity(run, pool),
        instructions=diversity(instructions),
        outputs=diversity([e.get("output", "") for e in kept]),
        verbs=verbs,
        nouns=nouns,
        lengths={f: lengths(kept, f) for f in FIELDS},
        with_input=share_with_input(kept),
    )


def _similarity(run: RunData, pool: Pool | None) -> Similarity:
    """The gate's own scores when the kept examples carry them, else computed here: against
    the starting pool when the method has one to show (pool), else against the kept ones."""
    spec = _spec(run)
    gate = spec.gate if spec is not None else None
    if gate is None:
        texts = [full_text(e) for e in run.kept]
        return computed(texts, list(pool.texts.values()) if pool else [], None)
    threshold = float(run.config.get("rouge_threshold", REFERENCE))
    gated = [e for e in run.kept if gate.gated(Example.from_dict(e))]
    found = from_meta(gated, gate, threshold)
    if found is not None:
        return found
    texts = [gate.text(Example.from_dict(e)) for e in gated]
    return computed(texts, list(pool.texts.values()) if pool else [], threshold)


def _hooks(run: RunData) -> MethodReport:
    return _hooks_of(run.method)


def _also(run: RunData) -> str:
    return _hooks(run).reads or " only"


def _summary(run: RunData, prefix: str) -> str:
    c, s = run.config, run.stats
    f = s.get("funnel", {})
    head = kpis(
        [
            ("method", esc(run.method or "?")),
            ("kept", count(f.get("kept", 0))),
            ("of generated", count(f.get("generated", 0))),
            ("stopped", esc(s.get("stopped", "–"))),
            ("model", esc(f"{c.get('model', '?')} ({c.get('backend', '?')})")),
        ]
    )
    config = esc(json.dumps(c, indent=2, ensure_ascii=False))
    body = (
        note(f"Run directory: <code>{esc(run.path)}</code>. Built from its files{_also(run)}.")
        + head
        + f"<details><summary>run.json config</summary><pre>{config}</pre></details>"
    )
    return section("summary", prefix, f"Run: {run.name}", body)


def run_article(run: RunData, prefix: str = "") -> tuple[str, Analysis, list[str]]:
    """One run's sections; returns the HTML, its analysis and the section ids in order."""
    hooks = _hooks(run)
    pool = hooks.context(run)
    a = analyze(run, pool)
    parts = {
        "summary": _summary(run, prefix),
        "funnel": funnel_section(run, prefix),
        "similarity": similarity_section(a, prefix),
        "diversity": diversity_section(a, prefix),
        "lengths": lengths_section(a, prefix, hooks.lengths_note),
        "cost": cost_section(run, prefix),
        "sample": sample_section(run.kept, hooks, pool, prefix),
    }
    order = list(SECTIONS)
    for extra in hooks.sections:
        parts[extra.id] = extra.html(run, pool, prefix)
        order.insert(order.index("cost"), extra.id)
    if isinstance(run.stats.get("score"), dict):  # a score stage, after any method
        parts["score"] = score_section(run, prefix)
        order.insert(order.index("cost"), "score")
    html = "".join(parts[k] for k in order)
    article = f'<article class="run" data-run="{esc(run.name)}" id="{prefix}run">{html}</article>'
    return article, a, order


def build_report(run_dirs: list[str | Path]) -> str:
    """The HTML page for one run directory, or for several side by side."""
    runs = load_runs(list(run_dirs), lambda method: _hooks_of(method).drop_fields)
    if len(runs) == 1:
        article, _, order = run_article(runs[0])
        titles = {**TITLES, "score": SCORE_TITLE}
        titles.update({s.id: s.title for s in _hooks(runs[0]).sections})
        nav = [(sid, titles[sid]) for sid in order]
        title = f"instructgen report: {runs[0].name}"
        return page(title, nav, f"<h1>{esc(title)}</h1>{article}")
    articles, analyses = [], []
    for i, run in enumerate(runs):
        html, a, _ = run_article(run, f"r{i + 1}-")
        articles.append(html)
        analyses.append(a)
    nav = [("compare", "Compare")] + [(f"r{i + 1}-run", r.name) for i, r in enumerate(runs)]
    title = f"instructgen report: {len(runs)} runs"
    body = f"<h1>{esc(title)}</h1>" + _compare(runs, analyses) + "".join(articles)
    return page(title, nav, body)


def _compare(runs: list[RunData], analyses: list[Analysis]) -> str:
    rows = [
        [f"<b>{esc(label)}</b>"] + [fn(r, a) for r, a in zip(runs, analyses, strict=True)]
        for label, fn in COMPARE
    ]
    grid = "".join(
        f"<div><b>{esc(r.name)}</b>"
        + svg.histogram(
            a.similarity.values,
            np.linspace(0, 1, 21),
            f"{r.name}: similarity",
            "highest ROUGE-L F to the pool",
            a.similarity.threshold or REFERENCE,
            size=420,
        )
        + "</div>"
        for r, a in zip(runs, analyses, strict=True)
    )
    head = ["", *(f"#{r.name}" for r in runs)]
    body = table(head, rows) + f'<div class="grid">{grid}</div>'
    return section("compare", "", "Side by side", body)


def _f(r: RunData, *path: str):
    doc = r.stats
    for p in path:
        doc = doc.get(p, {}) if isinstance(doc, dict) else {}
    return doc if isinstance(doc, int | float) else 0


def _per_thousand(r: RunData) -> str:
    kept = _f(r, "funnel", "kept")
    return usd(1000 * _f(r, "cost", "usd") / kept) if kept else "–"


COMPARE = (
    ("method", lambda r, a: esc(r.method)),
    ("kept", lambda r, a: count(_f(r, "funnel", "kept"))),
    ("generated", lambda r, a: count(_f(r, "funnel", "generated"))),
    ("kept share", lambda r, a: pct(_f(r, "funnel", "kept"), _f(r, "funnel", "generated"))),
    ("requests", lambda r, a: count(_f(r, "requests", "total"))),
    ("prompt tokens", lambda r, a: count(_f(r, "tokens", "prompt"))),
    ("completion tokens", lambda r, a: count(_f(r, "tokens", "completion"))),
    ("spent", lambda r, a: usd(_f(r, "cost", "usd"))),
    ("spent per 1,000 kept", lambda r, a: _per_thousand(r)),
    (
        "median similarity",
        lambda r, a: f"{np.median(a.similarity.values):.3f}" if a.similarity.values else "–",
    ),
    ("distinct-2 (instructions)", lambda r, a: f"{a.instructions.distinct[2]:.3f}"),
    ("vocabulary (instructions)", lambda r, a: count(a.instructions.vocabulary)),
    ("tasks with an input", lambda r, a: f"{100 * a.with_input:.1f}%"),
    (
        "median instruction words",
        lambda r, a: f"{a.lengths['instruction'].summary()['median']:.0f}",
    ),
    ("median output words", lambda r, a: f"{a.lengths['output'].summary()['median']:.0f}"),
)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the run's report.html (or `out`) atomically; returns its path."""
    path = Path(out) if out is not None else Path(run_dir) / REPORT
    return save(build_report([run_dir]), path)


def save(html: str, path: Path) -> Path:
    if not path.parent.is_dir():
        raise ConfigError(f"--out {path}: folder {path.parent} does not exist; create it first")
    atomic_write(path, [html])
    return path
