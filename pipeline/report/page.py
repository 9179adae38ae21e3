"""The page shell (CSS, the one small script) and the helpers every section writes with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

CSS = """
:root{--fg:#1b1b1b;--mute:#5c5c5c;--line:#d9d9d9;--bg:#fafafa;--accent:#0072B2}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--fg);margin:0;background:#fff}
main{max-width:1120px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:2px solid var(--accent);padding-bottom:3px}h3{font-size:15px;margin:18px 0 6px}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:6px 24px;
z-index:1;font-size:13px}nav a{margin-right:14px;color:var(--accent);text-decoration:none}
.mute,.note{color:var(--mute)}.note{font-size:12.5px;margin:4px 0 10px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:3px 10px 3px 0;text-align:left;
vertical-align:top}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0 4px}
.kpi{border:1px solid var(--line);border-radius:6px;padding:6px 12px;background:var(--bg)}
.kpi b{display:block;font-size:18px}.kpi span.l{font-size:12px;color:var(--mute)}
svg.chart{max-width:100%;height:auto;display:block;margin:6px 0 10px}
svg text{font:12px system-ui,"DejaVu Sans",sans-serif;fill:#222}svg text.s{font-size:11px}
svg text.v{fill:#333}svg text.m{fill:#D55E00;font-weight:600}svg line.g{stroke:#eee}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}
.ex{border-left:3px solid var(--line);padding:2px 10px;margin:6px 0;white-space:pre-wrap;
word-break:break-word;font-size:12.5px}.ex .d{color:var(--mute)}
details>summary{cursor:pointer}pre{white-space:pre-wrap;font-size:12px}
.lineage{margin:8px 0 16px;padding:0;list-style:none}
.lineage li{border-left:3px solid var(--accent);margin:0 0 6px;padding:2px 10px;
white-space:pre-wrap;word-break:break-word;font-size:12.5px}
.lineage li b{font-weight:600;color:var(--accent)}
ins{background:#dff3e4;text-decoration:none}code.id{white-space:nowrap;font-size:12px}
input.search{font:inherit;padding:4px 8px;width:min(420px,100%);margin:4px 0}
table.sample td{font-size:12.5px;white-space:pre-wrap;word-break:break-word}
table.sample td.t{min-width:420px}article.run{margin-top:12px}
@media print{nav,input.search,.screen{display:none}main{max-width:none;padding:0}
h2{break-after:avoid}svg.chart,table,.lineage li{break-inside:avoid}
table.sample tbody tr:nth-child(n+41){display:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

# Filters the sample table as one types, opens every <details> for print, and marks the page
# as scripted so a test can tell the script ran to its end.
JS = """
(function(){
  document.querySelectorAll("input.search").forEach(function(box){
    var table=document.getElementById(box.getAttribute("data-target"));
    var shown=document.getElementById(box.getAttribute("data-count"));
    var rows=Array.prototype.slice.call(table.tBodies[0].rows);
    var texts=rows.map(function(r){return r.textContent.toLowerCase();});
    box.addEventListener("input",function(){
      var q=box.value.toLowerCase().trim(),n=0;
      rows.forEach(function(r,i){var hit=!q||texts[i].indexOf(q)>=0;r.hidden=!hit;if(hit)n++;});
      shown.textContent=n.toLocaleString("en-US");
    });
  });
  window.addEventListener("beforeprint",function(){
    document.querySelectorAll("details").forEach(function(d){d.open=true;});
  });
  document.documentElement.setAttribute("data-js","ready");
})();
"""


def esc(value: Any) -> str:
    return escape(str(value))


def count(n: int | float) -> str:
    return f"{n:,.0f}"


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def usd(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:,.4f}" if value < 100 else f"${value:,.2f}"


def stat(value: Any, key: str, fmt=count) -> str:
    """A number straight from stats.json, tagged with its path there (the tests check them)."""
    shown = "–" if value is None else fmt(value)
    return f'<span class="n" data-key="{esc(key)}">{shown}</span>'


def table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "", tid: str = "") -> str:
    """Cells are HTML already; a header starting with '#' is a right-aligned number column."""
    right = [h.startswith("#") for h in head]
    ths = "".join(
        f'<th class="r">{esc(h[1:])}</th>' if r else f"<th>{esc(h)}</th>"
        for h, r in zip(head, right, strict=True)
    )
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="r">{c}</td>' if r else f"<td>{c}</td>"
            for c, r in zip(row, right, strict=True)
        )
        body.append(f"<tr>{tds}</tr>")
    attrs = (f' class="{cls}"' if cls else "") + (f' id="{tid}"' if tid else "")
    return f"<table{attrs}><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kpis(items: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f'<div class="kpi"><b>{v}</b><span class="l">{esc(k)}</span></div>' for k, v in items
    )
    return f'<div class="kpis">{cells}</div>'


def section(sid: str, prefix: str, title: str, body: str) -> str:
    return f'<section id="{prefix}{sid}" data-section="{sid}"><h2>{esc(title)}</h2>{body}</section>'


def note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def page(title: str, nav: Sequence[tuple[str, str]], body: str) -> str:
    links = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in nav)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<nav>{links}</nav><main>{body}</main><script>{JS}</script></body></html>\n"
    )
