"""The run's summary as Markdown and as table rows: what the Prefect UI shows for a flow run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pipeline import methods
from pipeline.report.build import REPORT
from pipeline.store import RUN_FILE


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def funnel_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (stage, filter, reason) drop and one per stage's kept; stage 'all' is the
    run's own funnel, so its rows add up to stats.json's."""
    funnels = [("all", stats.get("funnel", {}))]
    funnels += [(name, s.get("funnel", {})) for name, s in stats.get("stages", {}).items()]
    rows = []
    for stage, f in funnels:
        generated = f.get("generated", 0)
        for filter_name, reasons in f.get("dropped", {}).items():
            for reason, n in reasons.items():
                rows.append(_row(stage, filter_name, reason, n, generated))
        rows.append(_row(stage, "kept", "", f.get("kept", 0), generated))
    return rows


def _row(stage: str, filter_name: str, reason: str, n: int, generated: int) -> dict[str, Any]:
    share = _share(n, generated)
    return {"stage": stage, "filter": filter_name, "reason": reason, "count": n, "share": share}


def markdown(stats: dict[str, Any], run_dir: str | Path) -> str:
    f, req, tok = stats.get("funnel", {}), stats.get("requests", {}), stats.get("tokens", {})
    cost = stats.get("cost", {})
    generated, kept = f.get("generated", 0), f.get("kept", 0)
    method = run_method(run_dir) or "instructgen"
    lines = [
        f"# {method}: {kept:,} kept of {generated:,} generated ({_share(kept, generated)})",
        "",
        f"Stopped: **{stats.get('stopped', '–')}**. Run directory: `{run_dir}`; "
        f"the full report with plots: `{Path(run_dir) / REPORT}`.",
        "",
        "| dropped by | reason | count | share of generated |",
        "| --- | --- | ---: | ---: |",
    ]
    for row in funnel_rows({"funnel": f}):
        if row["filter"] != "kept":
            lines.append(
                f"| {row['filter']} | {row['reason']} | {row['count']:,} | {row['share']} |"
            )
    lines += ["", "| requests | prompt tokens | completion tokens | spent (USD) |"]
    lines += ["| ---: | ---: | ---: | ---: |"]
    usd = cost.get("usd")
    spent = "–" if usd is None else f"{usd:,.4f}"
    lines.append(
        f"| {req.get('total', 0):,} | {tok.get('prompt', 0):,} | {tok.get('completion', 0):,} "
        f"| {spent} |"
    )
    spec = methods.registry().get(method)
    extra = spec.report.summary(stats) if spec is not None and spec.report.summary else []
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"


def run_method(run_dir: str | Path) -> str:
    """The method named in the run directory's run.json, or '' when it cannot be read."""
    try:
        doc = json.loads((Path(run_dir) / RUN_FILE).read_text(encoding="utf-8"))
        return str(doc["config"]["method"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def artifact_key(run_dir: str | Path, kind: str) -> str:
    """Prefect keys are lower-case letters, digits and dashes; one key per run directory, so
    the UI lists every flow run's version of it together."""
    slug = re.sub(r"[^a-z0-9]+", "-", Path(run_dir).resolve().name.lower()).strip("-")
    return f"instructgen-{slug[:60] or 'run'}-{kind}"
