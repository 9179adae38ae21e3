"""A seeded sample of kept examples with their lineage, filtered in the page as one types."""

from __future__ import annotations

import random
from typing import Any

from pipeline.report.hooks import MethodReport, Pool
from pipeline.report.page import clip, esc, note, section, table

SAMPLE_ROWS = 200


def sample_section(kept: list[dict], hooks: MethodReport, pool: Pool | None, prefix: str) -> str:
    picked = sorted(random.Random(0).sample(range(len(kept)), min(SAMPLE_ROWS, len(kept))))
    by_id = {e["id"]: e for e in kept} if hooks.lineage is not None else {}
    rows = [
        [
            str(i + 1),
            f'<code class="id">{esc(kept[i].get("id", ""))}</code>',
            _texts(kept[i]),
            _lineage(kept[i], by_id, pool, hooks),
        ]
        for i in picked
    ]
    tid, cid = f"{prefix}sample-table", f"{prefix}sample-shown"
    search = (
        f'<input class="search" type="search" placeholder="Filter the sample: any word, id, '
        f'operation..." data-target="{tid}" data-count="{cid}" aria-label="filter the sample"> '
        f'<span class="screen"><span id="{cid}">{len(rows):,}</span> shown</span>'
    )
    intro = note(
        f"A seeded sample of {len(rows):,} of {len(kept):,} kept examples, in kept order "
        "(kept.jsonl has them all); the first column is the line in kept.jsonl."
    )
    body = search + table(
        ["#line", "id", "instruction / input / output", "lineage"], rows, "sample", tid
    )
    return section("sample", prefix, "Sample of kept examples", intro + body)


def _texts(e: dict[str, Any]) -> str:
    parts = [f"<b>{esc(e.get('instruction', ''))}</b>"]
    if e.get("input"):
        parts.append(f"<div class='ex'>{esc(e['input'])}</div>")
    output = e.get("output") or ""
    if len(output) > 300:
        parts.append(f"<details><summary>{esc(clip(output, 200))}</summary>{esc(output)}</details>")
    elif output:
        parts.append(f"<div class='mute'>{esc(output)}</div>")
    return "".join(parts)


def _lineage(e: dict[str, Any], by_id: dict, pool: Pool | None, hooks: MethodReport) -> str:
    """The method's own lineage cell if it has one for `e`, else what meta tells."""
    own = hooks.lineage(e, by_id, pool) if hooks.lineage is not None else None
    if own is not None:
        return own
    return "<br>".join(common_lineage(e.get("meta") or {}))


def common_lineage(meta: dict[str, Any]) -> list[str]:
    """The lines every example's meta may give: its demonstrations and its nearest pool text."""
    lines = []
    if meta.get("demos"):
        lines.append("demos: " + ", ".join(esc(d) for d in meta["demos"]))
    if meta.get("most_similar"):
        text, score = meta["most_similar"][0]
        lines.append(f"nearest ({float(score):.2f}): {esc(clip(text, 120))}")
    return lines
