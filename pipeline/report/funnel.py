"""The funnel (generated -> dropped per filter and reason -> kept) and the cost sections."""

from __future__ import annotations

from typing import Any

from pipeline.report import svg
from pipeline.report.estimate import estimate_html
from pipeline.report.load import RunData
from pipeline.report.page import clip, esc, kpis, note, pct, section, stat, table, usd


def _reasons(funnel: dict[str, Any]) -> list[tuple[str, str, int]]:
    rows = [
        (f, r, n) for f, reasons in funnel.get("dropped", {}).items() for r, n in reasons.items()
    ]
    return sorted(rows, key=lambda row: -row[2])


def _label(filter_name: str, reason: str) -> str:
    return filter_name if filter_name == reason else f"{filter_name}: {reason}"


def funnel_section(run: RunData, prefix: str) -> str:
    stats = run.stats
    f = stats.get("funnel", {})
    generated, kept, dropped = f.get("generated", 0), f.get("kept", 0), f.get("dropped_total", 0)
    head = kpis(
        [
            ("generated", stat(generated, "funnel.generated")),
            (f"dropped ({pct(dropped, generated)})", stat(dropped, "funnel.dropped_total")),
            (f"kept ({pct(kept, generated)})", stat(kept, "funnel.kept")),
        ]
    )
    reasons = _reasons(f)
    chart = svg.hbars(
        [("kept", kept)] + [(_label(fi, r), n) for fi, r, n in reasons],
        "Where every generated candidate went",
    )
    rows = [
        [
            esc(fi),
            esc(r),
            stat(n, f"funnel.dropped.{fi}.{r}"),
            pct(n, generated),
            _examples(run, fi, r),
        ]
        for fi, r, n in reasons
    ]
    body = head + chart + table(["filter", "reason", "#dropped", "#share", "examples"], rows)
    if "stages" in stats:
        body += _stages(stats["stages"])
    why = (
        "each candidate is counted once, in the stage that dropped it" if "stages" in stats else ""
    )
    intro = note(f"generated = kept + dropped{'; ' + why if why else ''}. Shares are of generated.")
    return section("funnel", prefix, "Funnel", intro + body)


def _examples(run: RunData, filter_name: str, reason: str) -> str:
    drops = run.drop_examples.get((filter_name, reason), [])
    if not drops:
        return '<span class="mute">none in removed.jsonl</span>'
    items = "".join(_drop(d) for d in drops)
    summary = f"{len(drops)} example{'s' * (len(drops) > 1)}"
    key = esc(f"{filter_name}.{reason}")
    return f'<details data-drops="{key}"><summary>{summary}</summary>{items}</details>'


def _drop(drop: dict[str, Any]) -> str:
    example = drop.get("example") or {}
    text = example.get("instruction") or drop.get("raw") or ""
    if example.get("input"):
        text += "\n" + example["input"]
    detail = drop.get("detail", "")
    detail_html = f'<div class="d">{esc(clip(str(detail), 300))}</div>'
    return f'<div class="ex">{esc(clip(text, 400))}{detail_html}</div>'


def _stages(stages: dict[str, Any]) -> str:
    rows = []
    for name, s in stages.items():
        f = s.get("funnel", {})
        key = f"stages.{name}.funnel"
        drops = ", ".join(
            f"{esc(_label(fi, r))} {stat(n, f'{key}.dropped.{fi}.{r}')}" for fi, r, n in _reasons(f)
        )
        rows.append(
            [
                esc(name),
                stat(f.get("generated", 0), f"{key}.generated"),
                stat(f.get("dropped_total", 0), f"{key}.dropped_total"),
                drops or '<span class="mute">none</span>',
                stat(f.get("kept", 0), f"{key}.kept"),
                pct(f.get("kept", 0), f.get("generated", 0)),
            ]
        )
    head = ["stage", "#in", "#dropped", "dropped by reason", "#kept", "#kept share"]
    return "<h3>Per stage</h3>" + table(head, rows)


def cost_section(run: RunData, prefix: str) -> str:
    s = run.stats
    req, tok, cost = s.get("requests", {}), s.get("tokens", {}), s.get("cost", {})
    kept = s.get("funnel", {}).get("kept", 0)
    per_k = usd(1000 * cost["usd"] / kept) if kept and cost.get("usd") is not None else "–"
    head = kpis(
        [
            ("requests", stat(req.get("total"), "requests.total")),
            ("prompt tokens", stat(tok.get("prompt"), "tokens.prompt")),
            ("completion tokens", stat(tok.get("completion"), "tokens.completion")),
            ("spent (all sessions)", stat(cost.get("usd"), "cost.usd", usd)),
            ("per 1,000 kept", per_k),
        ]
    )
    body = head + table(["", "#value"], _cost_rows(s))
    if "stages" in s:
        body += _stage_costs(s["stages"])
    body += estimate_html(run.estimate, s)
    return section("cost", prefix, "Cost and time", body)


def _cost_rows(s: dict[str, Any]) -> list[list[str]]:
    req, cost, sess = s.get("requests", {}), s.get("cost", {}), s.get("session", {})
    price, one = cost.get("price", {}), "{:,.1f}".format
    prices = f"{_price(price.get('input_per_1m'))} / {_price(price.get('output_per_1m'))}"
    return [
        ["requests from the cache", stat(req.get("from_cache"), "requests.from_cache")],
        ["requests sent this session", stat(sess.get("requests_sent"), "session.requests_sent")],
        ["retries this session", stat(sess.get("retries"), "session.retries")],
        ["spent this session", stat(cost.get("usd_this_session"), "cost.usd_this_session", usd)],
        ["budget cap (--max-cost)", stat(cost.get("max_cost"), "cost.max_cost", usd)],
        [
            "price per 1M tokens (in / out)",
            f"{prices} <span class='mute'>({esc(price.get('source', ''))})</span>",
        ],
        [
            "wall time, last session (s)",
            stat(sess.get("wall_seconds"), "session.wall_seconds", one),
        ],
        [
            "answers per second",
            stat(sess.get("answers_per_second"), "session.answers_per_second", one),
        ],
        ["stopped because", esc(s.get("stopped", "–"))],
    ]


def _price(value: float | None) -> str:
    return "–" if value is None else f"${value:,.2f}"


def _stage_costs(stages: dict[str, Any]) -> str:
    rows = [
        [
            esc(name),
            stat(st.get("requests", {}).get("total"), f"stages.{name}.requests.total"),
            stat(st.get("tokens", {}).get("prompt"), f"stages.{name}.tokens.prompt"),
            stat(st.get("tokens", {}).get("completion"), f"stages.{name}.tokens.completion"),
        ]
        for name, st in stages.items()
    ]
    return "<h3>Per stage</h3>" + table(
        ["stage", "#requests", "#prompt tokens", "#completion tokens"], rows
    )
