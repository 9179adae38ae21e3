"""stats.json's `conversations` block: where openings came from, turns planned and reached, how
conversations ended, what each turn dropped or cut and why, and the lengths of each turn."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.stages import StageResult
from pipeline.methods.conversations.openings import Openings
from pipeline.methods.conversations.outcome import Outcome


def _histogram(values: list[int]) -> dict[str, int]:
    return {str(k): n for k, n in sorted(Counter(values).items())}


def _turn_lengths(kept: list[Any]) -> dict[str, dict[str, float]]:
    """Mean words of the user's and the assistant's message at each turn of kept conversations."""
    words: dict[int, dict[str, list[int]]] = {}
    for conv in kept:
        turn = 0
        for m in conv.messages:
            if m["role"] == "system":
                continue
            turn += m["role"] == "user"
            words.setdefault(turn, {"user": [], "assistant": []})[m["role"]].append(
                len(m["content"].split())
            )
    return {
        str(t): {role: round(statistics.fmean(v), 1) if v else 0.0 for role, v in roles.items()}
        for t, roles in sorted(words.items())
    }


def _per_turn(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """Per turn: conversations dropped and turns cut, by filter and reason (turn 0: the
    opening's gate), and conversations the simulator ended there."""
    turns: dict[int, dict[str, Any]] = {}
    for o in outcomes:
        if o.drop is not None:
            entry = turns.setdefault(o.drop.meta["turn"], {"dropped": {}, "cut": {}, "ended": 0})
            into = entry["dropped" if o.kept is None else "cut"]
            key = f"{o.drop.filter}: {o.drop.reason}"
            into[key] = into.get(key, 0) + 1
        if o.kept is not None and o.kept.meta["ended"] == "user_ended":
            at = o.kept.meta["reached"] + 1
            turns.setdefault(at, {"dropped": {}, "cut": {}, "ended": 0})["ended"] += 1
    return {str(t): turns[t] for t in sorted(turns)}


def conversation_stats(
    c: RunConfig, o: Openings, results: list[StageResult], outcomes: list[Outcome]
) -> dict[str, Any]:
    kept = [x.kept for x in outcomes if x.kept is not None]
    ended = Counter(k.meta["ended"] for k in kept)
    ended["dropped"] = sum(x.kept is None for x in outcomes)
    return {
        "mode": c.options.mode,
        "openings": {
            "read": o.read,
            "later_turns_skipped": o.skipped,
            "gated": sum(d.filter == "rouge" for d in o.drops),
            "first_answer_failed": sum(d.filter != "rouge" for d in o.drops),
            "with_answer": sum(e.meta["first_answer"] == "source" for e in o.kept),
        },
        "settled": len(outcomes),
        "planned": _histogram([e.meta["planned"] for e in o.kept]),
        "reached": _histogram([k.meta["reached"] for k in kept]),
        "ended": dict(sorted(ended.items())),
        "turns": _per_turn(outcomes),
        "lengths": _turn_lengths(kept),
        "models": {
            "user": c.options.user_model or c.model,
            "assistant": c.options.assistant_model or c.model,
        },
        "stages": {r.name: r.stats["requests"]["total"] for r in results},
    }
