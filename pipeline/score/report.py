"""The report's score section, for any run with a score stage (stats.json's "score"): the
judge and rubric, the histogram of scores with how many of each were kept, and what share
each --min-score would keep."""

from __future__ import annotations

from typing import Any

from pipeline.report import svg
from pipeline.report.load import RunData
from pipeline.report.page import count, esc, kpis, note, pct, section, table

TITLE = "Scores"


def kept_by_score(run: RunData, rubric: str) -> dict[str, int]:
    """Kept examples per score, read from their meta."""
    out: dict[str, int] = {}
    for example in run.kept:
        entry = ((example.get("meta") or {}).get("scores") or {}).get(rubric)
        if isinstance(entry, dict):
            key = str(entry.get("score"))
            out[key] = out.get(key, 0) + 1
    return out


def score_section(run: RunData, prefix: str) -> str:
    s: dict[str, Any] = run.stats["score"]
    rubric, histogram = s["rubric"], s["histogram"]
    kept = kept_by_score(run, rubric)
    judged = max(s["judged"], 1)
    head = kpis(
        [
            ("rubric", esc(rubric)),
            ("judge", esc(s["model"])),
            ("scored", count(s["scored"])),
            ("mean score", "–" if s["mean"] is None else f"{s['mean']:.2f}"),
            ("unparseable", count(s["unparseable"])),
            ("--min-score", "none" if s["min_score"] is None else f"{s['min_score']:g}"),
        ]
    )
    bars = [(f"score {k}", float(v)) for k, v in histogram.items()]
    notes = [f"{kept.get(k, 0):,} kept ({pct(kept.get(k, 0), v)})" for k, v in histogram.items()]
    chart = svg.hbars(bars, f"{rubric} scores", notes=notes) if bars else ""
    rows = [
        [f"score {esc(k)}", count(v), pct(v, judged), count(kept.get(k, 0)), pct(kept.get(k, 0), v)]
        for k, v in histogram.items()
    ]
    per_score = table(["score", "#examples", "#share", "#kept", "#kept share"], rows)
    thresholds = table(
        ["--min-score", "#would keep"],
        [[f"{float(t):g}", pct(share, 1)] for t, share in s["kept_at_min_score"].items()],
    )
    waiting = f" {count(s['waiting'])} examples still wait for a verdict." if s["waiting"] else ""
    text = note(
        f"{count(s['judged'])} of {count(s['examples'])} examples judged by {esc(s['model'])} "
        f"on the {esc(rubric)} rubric (1-5); unparseable verdicts are removed, never passed."
        + waiting
    )
    return section("score", prefix, TITLE, head + text + chart + per_score + thresholds)
