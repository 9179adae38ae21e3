"""Small inline SVG charts drawn by hand: no plotting dependency, no script, prints as drawn."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

import numpy as np

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in grey print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000")
GREY = "#bbbbbb"
WIDTH, ROW, LABEL_MAX = 640, 20, 260


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{escape(s)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> str:
    t = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
        f'fill="{fill}">{t}</rect>'
    )


def clip(s: str, n: int = 36) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def label_width(names) -> int:
    """Room for the longest (clipped) row label at 12px, about 6.8px a character."""
    return int(min(LABEL_MAX, 14 + 6.8 * max((len(clip(n)) for n in names), default=4)))


def hbars(
    rows: Sequence[tuple[str, float]],
    label: str,
    fmt: Callable = "{:,.0f}".format,
    notes: Sequence[str] = (),
    width: int = WIDTH,
) -> str:
    """One horizontal bar per row, its value (and the row's note, if any) written after it."""
    top = max((v for _, v in rows), default=0) or 1
    left = label_width(name for name, _ in rows)
    span = (width - left - 70) if not notes else (width - left) * 0.4
    body = []
    for i, (name, value) in enumerate(rows):
        y, w = i * ROW + 4, span * value / top
        tip = f"{name}: {fmt(value)}"
        body.append(_text(left - 6, y + 12, clip(name), "end"))
        body.append(_rect(left, y, w, ROW - 6, PALETTE[0], tip))
        body.append(_text(left + w + 4, y + 12, fmt(value), cls="v"))
        if i < len(notes):
            body.append(_text(left + span + 44, y + 12, notes[i], cls="s"))
    return _svg(width, len(rows) * ROW + 8, label, body)


def stacked(
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]], label: str, colors: dict[str, str]
) -> str:
    """One bar per row split into named segments; a legend on top maps names to colours."""
    top = max((sum(v for _, v in segs) for _, segs in rows), default=0) or 1
    left = label_width(name for name, _ in rows)
    span, legend = WIDTH - left - 70, _legend(colors)
    body, y0 = [legend[0]], legend[1]
    for i, (name, segs) in enumerate(rows):
        y, x = y0 + i * ROW, float(left)
        body.append(_text(left - 6, y + 12, clip(name), "end"))
        for seg, value in segs:
            w = span * value / top
            body.append(_rect(x, y, w, ROW - 6, colors.get(seg, GREY), f"{name}, {seg}: {value:,}"))
            x += w
        body.append(_text(x + 4, y + 12, f"{sum(v for _, v in segs):,}", cls="v"))
    return _svg(WIDTH, y0 + len(rows) * ROW + 8, label, body)


def _legend(colors: dict[str, str]) -> tuple[str, int]:
    parts, x, y = [], 6.0, 4
    for name, color in colors.items():
        width = 18 + 7 * len(name)
        if x + width > WIDTH:
            x, y = 6.0, y + 18
        parts.append(_rect(x, y, 12, 12, color) + _text(x + 16, y + 11, name, cls="s"))
        x += width + 12
    return "".join(parts), y + 24


def histogram(
    values: Sequence[float] | np.ndarray,
    edges: np.ndarray,
    label: str,
    xlabel: str,
    marker: float | None = None,
    marker_label: str = "",
    size: int = WIDTH,
) -> str:
    """Counts per bin (the last bin also holds everything above it), an optional marker line."""
    arr = np.clip(np.asarray(values, dtype=float), edges[0], edges[-1])
    counts, _ = np.histogram(arr, bins=edges)
    left, bottom, height, width = 50, 170, 150, size - 70
    top = int(counts.max()) if counts.size and counts.max() else 1
    x_of = lambda v: left + width * (v - edges[0]) / (edges[-1] - edges[0])  # noqa: E731
    body = [_axis_y(left, bottom, height, top, size)]
    for i, c in enumerate(counts):
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        h = height * c / top
        tip = f"{_num(edges[i])}–{_num(edges[i + 1])}: {int(c):,}"
        body.append(_rect(x0 + 0.5, bottom - h, x1 - x0 - 1, h, PALETTE[0], tip))
    for v in _ticks(edges[0], edges[-1]):
        body.append(_text(x_of(v), bottom + 14, _num(v), "middle", "s"))
    body.append(_text(left + width / 2, bottom + 30, xlabel, "middle"))
    if marker is not None and edges[0] <= marker <= edges[-1]:
        x = x_of(marker)
        body.append(
            f'<line x1="{x:.1f}" y1="{bottom - height - 8}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke="{PALETTE[3]}" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        body.append(_text(x - 4, bottom - height - 10, marker_label, "end", "m"))
    return _svg(size, bottom + 38, label, body)


def _axis_y(left: float, bottom: float, height: float, top: int, size: int = WIDTH) -> str:
    right = size - 20
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>']
    for v in _ticks(0, top, 3):  # whole counts only: never a "2" tick that means 2.5
        if v != int(v):
            continue
        y = bottom - height * v / top
        parts.append(_text(left - 6, y + 4, f"{v:,.0f}", "end", "s"))
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="g"/>')
    return "".join(parts)


def _ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round values from lo to hi, about `count` steps apart."""
    raw = (hi - lo) / count
    if raw <= 0:
        return [lo]
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if step * m >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}".rstrip("0")


def _line(x1: float, y1: float, x2: float, y2: float, style: str = 'stroke="#444"') -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {style}/>'


def boxes(groups: Sequence[tuple[str, np.ndarray]], label: str, ylabel: str) -> str:
    """Per group: the 10-90% whiskers, the quartile box, the median line and the mean dot."""
    left, bottom, height = 50, 170, 150
    filled = [g for g in groups if g[1].size]
    hi = max((float(np.percentile(v, 90)) for _, v in filled), default=1) or 1
    slot = (WIDTH - left - 20) / max(len(groups), 1)
    y_of = lambda v: bottom - height * min(v, hi) / hi  # noqa: E731
    body = [_axis_y(left, bottom, height, math.ceil(hi))]
    for i, (name, v) in enumerate(groups):
        cx = left + slot * (i + 0.5)
        body.append(_text(cx, bottom + 14, name, "middle", "s"))
        if v.size:
            body.append(_box(cx, name, v, y_of))
    mid = bottom - height / 2
    body.append(f'<g transform="rotate(-90 14 {mid})">{_text(14, mid, ylabel, "middle", "s")}</g>')
    return _svg(WIDTH, bottom + 24, label, body)


def _box(cx: float, name: str, v: np.ndarray, y_of: Callable) -> str:
    p10, q1, med, q3, p90 = np.percentile(v, [10, 25, 50, 75, 90])
    tip = f"{name}: median {med:.0f}, mean {v.mean():.1f}, n={v.size:,}"
    return (
        _line(cx, y_of(p90), cx, y_of(p10))
        + _rect(cx - 18, y_of(q3), 36, y_of(q1) - y_of(q3), PALETTE[5], tip)
        + _line(cx - 18, y_of(med), cx + 18, y_of(med), 'stroke="#000" stroke-width="2"')
        + f'<circle cx="{cx:.1f}" cy="{y_of(v.mean()):.1f}" r="3" fill="{PALETTE[3]}"/>'
    )
