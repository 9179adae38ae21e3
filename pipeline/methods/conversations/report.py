"""The conversations section of the report: turns planned and reached, how conversations ended,
what each turn dropped or cut and why, each turn's lengths, and where the openings came from.

All of it is read from stats.json's `conversations` block (stats.py); a run in progress has a
partial block and a run of an older version none, and both render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.report import svg
from pipeline.report.hooks import MethodReport, Pool, Section, meta_of
from pipeline.report.load import RunData
from pipeline.report.page import count, esc, kpis, note, pct, section, stat, table

KEY = "conversations"
TITLE = "Conversations"
ENDED = "ended by the simulator"
# stats.json's `ended` keys, as the report words them.
ENDINGS = {
    "planned": "reached the planned turns",
    "user_ended": ENDED,
    "cut": "cut at a failed turn",
    "dropped": "dropped",
}
KINDS = ("dropped", "cut")
BREAK = "_\u200b"  # an underscore a header may break after
COLORS = {
    "planned": svg.PALETTE[0],
    "reached": svg.PALETTE[1],
    "dropped": svg.PALETTE[3],
    "cut": svg.PALETTE[1],
    ENDED: svg.PALETTE[5],
    "user": svg.PALETTE[2],
    "assistant": svg.PALETTE[0],
}
SIDES = (("user simulator", "user"), ("assistant", "assistant"))
MODES = {
    "simulate": "Each opening is continued turn by turn: a user simulator asks and the "
    "assistant answers (UltraChat), every turn checked before the next is asked.",
    "self-chat": "Each opening is continued by one request that writes the whole transcript "
    "(Baize's self-chat), parsed and checked turn by turn.",
}
ABSENT = (
    "This run's stats.json has no conversations block (a run of an older instructgen, or one "
    "not started yet); the other sections still describe it."
)


def block(stats: dict[str, Any]) -> dict[str, Any]:
    """stats.json's `conversations` block, empty when the run has none."""
    return _part(stats, KEY)


def _part(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return _dict(doc.get(name))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _turn_order(keys) -> list[str]:
    # Turns are digit strings: shorter first is numeric order ("9" before "10").
    return sorted(keys, key=lambda t: (len(str(t)), str(t)))


def _n(counts: dict[str, Any], name: str, key: str, fmt: Callable = count) -> str:
    """A count of the block, tagged with its stats.json path; 0 when the block has none."""
    return stat(counts[name], key, fmt) if name in counts else "0"


def _turns(n: Any) -> str:
    return f"{n} turn" if str(n) == "1" else f"{n} turns"


def _words(value: float) -> str:
    return f"{value:.1f}"


def _endings(b: dict[str, Any]) -> list[str]:
    """The endings to show: a self-chat transcript has no simulator to end it."""
    ended = _part(b, "ended")
    shown = [k for k in ENDINGS if k in ended or b.get("mode") != "self-chat"]
    return shown + [k for k in ended if k not in ENDINGS]


# --- the section ------------------------------------------------------------------------------


def conversations_section(run: RunData, pool: Pool | None, prefix: str) -> str:
    b = block(run.stats)
    if not b:
        return section(KEY, prefix, TITLE, note(ABSENT))
    body = _head(b, _part(run.stats, "funnel"))
    body += _openings(b) + _reached(b) + _ended(b) + _per_turn(b) + _lengths(b)
    return section(KEY, prefix, TITLE, body)


def _head(b: dict[str, Any], funnel: dict[str, Any]) -> str:
    head = kpis(
        [
            ("mode", esc(b.get("mode", "?"))),
            *_models(b),
            ("conversations settled", stat(b.get("settled"), f"{KEY}.settled")),
            ("turns cut from kept ones", stat(funnel.get("cut_total"), "funnel.cut_total")),
        ]
    )
    rule = (
        "A conversation is kept once it reaches its planned turns, once the simulator ends it, "
        "or once a turn fails with at least --min-turns turns answered before it (that turn is "
        "cut); with fewer it is dropped. Cut turns and dropped conversations are both in "
        "removed.jsonl, with meta.turn and meta.conversation."
    )
    return head + note(f"{esc(MODES.get(b.get('mode'), ''))} {rule}") + _stages(b)


def _models(b: dict[str, Any]) -> list[tuple[str, str]]:
    models = _part(b, "models")
    if b.get("mode") == "self-chat":  # the assistant's model writes both sides
        return [("transcript model", esc(models.get("assistant", "?")))]
    return [(role, esc(models.get(key, "?"))) for role, key in SIDES]


def _stages(b: dict[str, Any]) -> str:
    stages = _part(b, "stages")
    if not stages:
        return ""
    parts = ", ".join(f"{esc(s)} {stat(n, f'{KEY}.stages.{s}')}" for s, n in stages.items())
    return note(f"Requests per stage: {parts}.")


def _openings(b: dict[str, Any]) -> str:
    o, key = _part(b, "openings"), f"{KEY}.openings"
    if not o:
        return ""
    read = stat(o.get("read"), f"{key}.read")
    skipped = stat(o.get("later_turns_skipped"), f"{key}.later_turns_skipped")
    gated = stat(o.get("gated"), f"{key}.gated")
    answered = stat(o.get("with_answer"), f"{key}.with_answer")
    failed = stat(o.get("first_answer_failed", 0), f"{key}.first_answer_failed")
    text = (
        f"{read} openings read from --from ({skipped} later turns of chat files set aside); "
        f"{failed} dropped because their own first answer failed the answer checks; "
        f"{gated} gated as near-duplicates of an opening before them (ROUGE-L, before any "
        f"request); {answered} with their own first answer, the rest answered by the assistant."
    )
    return "<h3>Openings</h3>" + note(text)


def _reached(b: dict[str, Any]) -> str:
    planned, reached = _part(b, "planned"), _part(b, "reached")
    turns = _turn_order({*planned, *reached})
    head = "<h3>Turns reached</h3>"
    if not turns:
        return head + note("No conversation is settled yet.")
    bars = []
    for t in turns:
        bars.append((f"{_turns(t)} planned", [("planned", planned.get(t, 0))]))
        bars.append((f"{_turns(t)} reached", [("reached", reached.get(t, 0))]))
    colors = {k: COLORS[k] for k in ("planned", "reached")}
    chart = svg.stacked(bars, "Conversations by user turns, planned and reached", colors)
    rows = [
        [
            esc(_turns(t)),
            _n(planned, t, f"{KEY}.planned.{t}"),
            _n(reached, t, f"{KEY}.reached.{t}"),
        ]
        for t in turns
    ]
    why = note(
        "User turns per conversation. Planned: every opening past the gate, drawn from --turns; "
        "reached: the kept conversations only (a dropped one counts as planned, never reached)."
    )
    return head + why + chart + table(["user turns", "#planned", "#reached"], rows)


def _ended(b: dict[str, Any]) -> str:
    ended = _part(b, "ended")
    total = sum(v for v in ended.values() if isinstance(v, int | float))
    keys = _endings(b)
    chart = svg.hbars(
        [(ENDINGS.get(k, k), ended.get(k, 0)) for k in keys], "How conversations ended"
    )
    rows = [
        [esc(ENDINGS.get(k, k)), _n(ended, k, f"{KEY}.ended.{k}"), pct(ended.get(k, 0), total)]
        for k in keys
    ]
    head = ["", "#conversations", "#share"]
    return "<h3>How conversations ended</h3>" + chart + table(head, rows)


def _per_turn(b: dict[str, Any]) -> str:
    turns = _part(b, "turns")
    head = "<h3>Drops per turn</h3>"
    if not turns:
        return head + note("No turn has dropped, cut or ended a conversation yet.")
    order = _turn_order(turns)
    reasons = sorted({r for t in turns.values() for k in KINDS for r in _part(_dict(t), k)})
    rows = [row for t in order for row in _turn_rows(t, _dict(turns[t]), reasons)]
    why = note(
        "Dropped: conversations that failed at the turn, gone; cut: a failed turn removed from a "
        "conversation kept with the turns before it. Turn 0 is the openings' gate."
    )
    # Headers may break after an underscore too (a zero-width space), and a table of many
    # reasons scrolls rather than overflow the page.
    columns = ["turn", "", *("#" + r.replace("_", BREAK) for r in reasons), "#total"]
    wide = f'<div style="overflow-x:auto">{table(columns, rows)}</div>'
    return head + why + _turn_chart(order, turns) + wide


def _turn_label(t: str) -> str:
    return "opening (gate)" if t == "0" else f"turn&nbsp;{esc(t)}"


def _turn_rows(t: str, entry: dict[str, Any], reasons: list[str]) -> list[list[str]]:
    rows, key = [], f"{KEY}.turns.{t}"
    for kind in KINDS:
        got = _part(entry, kind)
        if got:
            cells = [_n(got, r, f"{key}.{kind}.{r}") for r in reasons]
            rows.append([_turn_label(t), kind, *cells, count(sum(got.values()))])
    if entry.get("ended"):
        ended = stat(entry["ended"], f"{key}.ended")
        rows.append([_turn_label(t), ENDED, *[""] * len(reasons), ended])
    return rows


def _turn_chart(order: list[str], turns: dict[str, Any]) -> str:
    entries = [_dict(turns[t]) for t in order]
    ended = any(e.get("ended") for e in entries)  # never, in self-chat
    bars = []
    for t, entry in zip(order, entries, strict=True):
        segments = [(kind, sum(_part(entry, kind).values())) for kind in KINDS]
        if ended:
            segments.append((ENDED, entry.get("ended", 0)))
        bars.append(("opening" if t == "0" else f"turn {t}", segments))
    colors = {k: COLORS[k] for k in (*KINDS, *[ENDED] * ended)}
    label = "Each turn: conversations dropped, turns cut, conversations ended"
    return svg.stacked(bars, label, colors)


def _lengths(b: dict[str, Any]) -> str:
    lengths = _part(b, "lengths")
    head = "<h3>Lengths per turn</h3>"
    if not lengths:
        return head + note("No conversation is kept yet.")
    order = _turn_order(lengths)
    bars, rows = [], []
    for t in order:
        roles, key = _dict(lengths[t]), f"{KEY}.lengths.{t}"
        for role in ("user", "assistant"):
            bars.append((f"turn {t} {role}", [(role, roles.get(role, 0))]))
        cells = [_n(roles, role, f"{key}.{role}", _words) for role in ("user", "assistant")]
        rows.append([f"turn&nbsp;{esc(t)}", *cells])
    colors = {k: COLORS[k] for k in ("user", "assistant")}
    chart = svg.stacked(bars, "Mean words per message, by turn", colors)
    why = note(
        "Mean words (whitespace split) of each turn's user message and answer, over the kept "
        "conversations that reached the turn; turn 1 is the opening."
    )
    return head + why + chart + table(["", "#user words", "#assistant words"], rows)


# --- the sample's lineage and the Markdown summary -------------------------------------------


def lineage(example: dict, by_id: dict[str, dict], pool: Pool | None) -> str | None:
    """'2 of 4 planned turns, cut at turn 3: refusal (sorry); from seed_12'."""
    meta = meta_of(example)
    if "planned" not in meta:
        return None
    turns = "turn" if str(meta["planned"]) == "1" else "turns"
    reached, planned = esc(meta.get("reached", "?")), esc(meta["planned"])
    parts = [f"{reached} of {planned} planned {turns}{_how(meta)}"]
    if meta.get("first_answer") == "model":
        parts.append("first answer by the assistant")
    if meta.get("source_id"):
        parts.append(f"from {esc(meta['source_id'])}")
    return "; ".join(parts)


def _how(meta: dict[str, Any]) -> str:
    if meta.get("ended") == "user_ended":
        return f", {ENDED}"
    if meta.get("ended") != "cut":
        return ""
    cut = _dict(meta.get("cut"))
    why = f"{esc(cut.get('filter', '?'))} ({esc(cut.get('reason', '?'))})"
    return f", cut at turn {esc(cut.get('turn', '?'))}: {why}"


def summary(stats: dict[str, Any]) -> list[str]:
    """How the conversations ended, their openings, and turns planned and reached (Markdown)."""
    b = block(stats)
    if not b:
        return []
    ended, o = _part(b, "ended"), _part(b, "openings")
    endings = ", ".join(f"{ended.get(k, 0):,} {ENDINGS.get(k, k)}" for k in _endings(b))
    lines = [
        f"**Conversations** ({b.get('mode', '?')}): {endings}.",
        "",
        f"Openings: {o.get('read', 0):,} read, {o.get('gated', 0):,} gated as near-duplicates, "
        f"{o.get('with_answer', 0):,} with their own first answer.",
    ]
    return lines + _turns_markdown(_part(b, "planned"), _part(b, "reached"))


def _turns_markdown(planned: dict[str, Any], reached: dict[str, Any]) -> list[str]:
    turns = _turn_order({*planned, *reached})
    if not turns:
        return []
    lines = ["", "| user turns | planned | reached |", "| ---: | ---: | ---: |"]
    lines += [f"| {t} | {planned.get(t, 0):,} | {reached.get(t, 0):,} |" for t in turns]
    return lines


REPORT = MethodReport(
    sections=(Section(KEY, TITLE, conversations_section),),
    lineage=lineage,
    lengths_note="Instruction, input and output are each conversation's first turn; every "
    "turn's lengths are in the Conversations section.",
    summary=summary,
)
