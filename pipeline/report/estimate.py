"""The estimate next to the actual, when the run directory has an estimate.json.

`instructgen estimate` records its numbers under the names stats.json uses (requests.total,
tokens.prompt, tokens.completion, cost.usd), each a number or {low, expected, high}; a few
other spellings are accepted, and the whole file is shown as it is below the table."""

from __future__ import annotations

import json
from typing import Any

from pipeline.report.page import count, esc, note, table, usd

# (label, path in stats.json, other paths an estimate may use, format)
METRICS = (
    ("requests", "requests.total", ("requests",), count),
    ("prompt tokens", "tokens.prompt", ("prompt_tokens",), count),
    ("completion tokens", "tokens.completion", ("completion_tokens",), count),
    ("cost (USD)", "cost.usd", ("cost", "usd", "cost_usd"), usd),
    ("wall time (s)", "session.wall_seconds", ("wall_seconds", "seconds"), "{:,.1f}".format),
)


def lookup(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _band(value: Any) -> tuple[float, float, float] | None:
    """(low, expected, high) from a number or a {low, expected, high} object."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), float(value), float(value)
    if isinstance(value, dict) and isinstance(value.get("expected"), int | float):
        mid = float(value["expected"])
        return float(value.get("low", mid)), mid, float(value.get("high", mid))
    return None


def _row(estimate: dict, stats: dict, metric: tuple) -> list[str] | None:
    label, path, others, fmt = metric
    band = next((b for p in (path, *others) if (b := _band(lookup(estimate, p))) is not None), None)
    actual = lookup(stats, path)
    if band is None or not isinstance(actual, int | float):
        return None
    low, mid, high = band
    inside = "yes" if low <= actual <= high else "no"
    ratio = f"{actual / mid:.2f}" if mid else "–"
    return [esc(label), fmt(low), fmt(mid), fmt(high), fmt(actual), ratio, inside]


def estimate_html(estimate: dict | None, stats: dict) -> str:
    if not isinstance(estimate, dict):
        return note("No estimate.json in the run directory: no estimate to compare with.")
    rows = [r for m in METRICS if (r := _row(estimate, stats, m)) is not None]
    head = ["", "#low", "#expected", "#high", "#actual", "#actual / expected", "in band"]
    body = table(head, rows) if rows else note("estimate.json has none of the compared numbers.")
    raw = esc(json.dumps(estimate, indent=2, ensure_ascii=False))
    return (
        '<h3 data-part="estimate">Estimate and actual</h3>'
        + body
        + f"<details><summary>estimate.json</summary><pre>{raw}</pre></details>"
    )
