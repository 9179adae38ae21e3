"""The judge: parse, filter, gate and record answers, strictly in slot order.

It holds everything a decision depends on (the ROUGE pool, the kept list, the funnel), so it
can run in this process or in a worker process of its own (pipeline/engine/judge_process.py)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.engine.checkpoint import unpickle
from pipeline.engine.stall import Guard
from pipeline.engine.stats import Stats
from pipeline.filters.base import Filter
from pipeline.filters.rouge.index import GateDecision, RougeIndex
from pipeline.store import RunDir
from pipeline.types import Choice, Completion, Drop, Example, Request

Check = Callable[[Example], str | None]

# The decision for every survivor of a stage that has no ROUGE gate.
PASS = GateDecision(True, 0.0, [], 0.0)
# What a decision depends on: a checkpoint (engine/checkpoint.py) holds these, the method and
# the target come from the re-run's own config.
STATE = ("filters", "gate", "kept", "drops", "stats", "guard", "next_slot", "partial")


class Method(Protocol):
    """What a stage asks and how it reads the answers: the one contract of a method's step.

    `plan` and `parse` must be pure functions of the slot (and of what the method was built
    with): a resumed run plans slot i again and must get the very same Request, whose key finds
    the answer in the cache; a replay parses it again and must get the same items."""

    name: str
    """The method's name, for Examples' `method` field."""

    @property
    def expected_kept_per_request(self) -> float:
        """Items a request is expected to keep before any answer is in; the runner paces how
        far ahead it dispatches by it until it has measured the real rate."""
        ...

    def plan(self, slot: int) -> Request:
        """The request of slot `slot` (0, 1, 2, ...), its `slot` field set so that identical
        prompts of two slots are two cache entries. Raises nothing for a valid slot; a map
        stage is asked only for slots below its `requests`."""
        ...

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        """The items one choice of slot's answer holds, in order: an Example to be filtered
        and gated, or a Drop (a parse failure, with its raw text) counted as it is. Never
        raises on what a model wrote: unusable text is a Drop with a reason."""
        ...


@dataclass(frozen=True)
class Progress:
    """What the loop and the progress bar need to know after each batch."""

    used: int = 0
    kept: int = 0
    requests: int = 0
    tokens: int = 0
    stall: dict[str, Any] | None = None  # the guard's report once the stage has stalled


def split_reason(reason: str) -> tuple[str, str]:
    """Filters say 'category: detail'; stats count the category."""
    category, _, detail = reason.partition(": ")
    return category, detail


class Judge:
    def __init__(
        self,
        method: Method,
        filters: list[Filter],
        gate: RougeIndex | None,
        target: int,
        gate_text: Callable[[Example], str] | None = None,
    ):
        self.method, self.filters, self.gate, self.target = method, filters, gate, target
        # What the ROUGE-L gate compares: the instruction, unless the method says otherwise.
        self.gate_text = gate_text or _instruction
        self.kept: list[Example] = []
        self.drops: list[Drop] = []
        self.stats = Stats()
        # Set by the session (engine/stall.py); None: the stage never stalls.
        self.guard: Guard | None = None
        self.next_slot = 0  # the first slot not judged
        # (slot, items read) of the answer the target was reached in: its later items are
        # judged when a re-run raises the target, as in a run that had the higher one.
        self.partial: tuple[int, int] | None = None

    def take(self, answers: list[tuple[int, Completion]]) -> Progress:
        """Judge consecutive answers; `used` says how many were read before the target (or
        the stall guard) stopped the stage.

        With the guard on, answers are judged in runs short enough that a stall can only fall
        on a run's last answer: an answer after the stall is never judged, whatever the
        batches were (the outputs never depend on how answers arrived)."""
        used = 0
        while used < len(answers) and len(self.kept) < self.target and not self._stalled:
            room = len(answers) - used
            if self.guard is not None and self.guard.patience:
                room = min(room, max(self.guard.patience - self.guard.barren, 1))
            chunk = answers[used : used + room]
            took = self._take(chunk)
            used += took
            if took < len(chunk):
                break
        return self.progress(used)

    def _take(self, answers: list[tuple[int, Completion]]) -> int:
        # The answer the target was reached in, taken again for a higher target: the items
        # read before are skipped, its request is already counted and its keep already made.
        again = self.partial is not None and self.partial[0] == answers[0][0]
        skip = self.partial[1] if again else 0
        items: list[Example | Drop] = []
        starts = []
        for slot, completion in answers:
            starts.append(len(items))
            parsed = [
                item
                for choice in sorted(completion.choices, key=lambda c: c.index)
                for item in self.method.parse(slot, choice)
            ]
            if not completion.choices:
                parsed.append(Drop("parse", "empty_response", "no choices", meta={"slot": slot}))
            items.extend(parsed[skip:] if len(starts) == 1 else parsed)
        outcomes, reached = self._settle(items)
        end = len(outcomes)
        # Answers past the point where the target was reached stay unused, as if never read.
        used = sum(start < end for start in starts) if reached else len(answers)
        bounds = [*starts, len(items)]
        for k, (slot, completion) in enumerate(answers[:used]):
            taken_before = again and k == 0
            if not taken_before:
                self.stats.count_completion(completion)
            if self.guard is not None and not reached:
                first, last = bounds[k], bounds[k + 1]
                usable = any(c.text.strip() for c in completion.choices)
                drops = [d for d in outcomes[first:last] if d is not None]
                kept = len(drops) < last - first or taken_before
                self.guard.observe(slot, kept, usable, drops)
        if used:
            last = used - 1
            self.next_slot = answers[last][0] + 1
            read = end - starts[last] + (skip if last == 0 else 0)
            self.partial = (answers[last][0], read) if reached else None
        return used

    def snapshot(self) -> bytes:
        """Everything a decision depends on, pickled, for the run's checkpoint."""
        state = {name: getattr(self, name) for name in STATE}
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, data: bytes, max_requests: int | None = None) -> Progress | None:
        """Continue from a snapshot; None (and nothing changed) when a replay would not come to
        the same state (a lower target, a stall guard that could not have the same count), so
        the caller replays from the first answer.
        `Progress.used` is the slot to go on from."""
        state = unpickle(data)
        if not (isinstance(state, dict) and set(state) == set(STATE)):
            return None
        kept = len(state["kept"])
        # A lower --target: a replay keeps fewer, or judges nothing past its last keep.
        if kept > self.target or (kept == self.target and state["partial"] is None):
            return None
        if max_requests is not None and state["next_slot"] > max_requests:
            return None  # a lower --max-requests: a replay stops before the slot reached
        if not _same_count(state["guard"], self.guard):
            return None
        if state["guard"] is not None and state["guard"].stall is None:
            g = state["guard"]
            self.guard.barren, self.guard.first_slot, self.guard.reasons = (
                g.barren,
                g.first_slot,
                g.reasons,
            )
        state["guard"] = self.guard
        for name, value in state.items():
            setattr(self, name, value)
        self.stats.requests_cached = self.stats.requests  # as a replay counts them
        more = self.partial is not None and len(self.kept) < self.target
        return self.progress(self.partial[0] if more else self.next_slot)

    @property
    def _stalled(self) -> bool:
        return self.guard is not None and self.guard.stall is not None

    def progress(self, used: int = 0) -> Progress:
        s = self.stats
        stall = self.guard.stall if self.guard is not None else None
        tokens = s.prompt_tokens + s.completion_tokens
        return Progress(used, len(self.kept), s.requests, tokens, stall)

    def write(self, run_dir: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Write every output file; returns the stats as written."""
        stats = {**self.stats.to_dict(), **extra}
        RunDir(run_dir).write_outputs(self.kept, self.drops, stats)
        return stats

    def results(self) -> tuple[list[Example], list[Drop], dict[str, Any]]:
        """What a later stage builds on: kept, dropped and the stats so far."""
        return list(self.kept), list(self.drops), self.stats.to_dict()

    def _settle(self, items: list[Example | Drop]) -> tuple[list[Drop | None], bool]:
        """Filter, gate and record items in order, stopping exactly at the target.

        Returns each recorded item's drop (None: kept), and whether the target was reached."""
        checks = [(f.name, f.check) for f in self.filters]
        verdicts: list[Drop | None] = [
            item if isinstance(item, Drop) else _first_failure(checks, item) for item in items
        ]
        survivors = [i for i, v in enumerate(verdicts) if v is None]
        room = self.target - len(self.kept)
        if self.gate is None:
            decisions = [PASS] * min(len(survivors), room)
        else:
            texts = [self.gate_text(items[i]) for i in survivors]
            decisions = self.gate.gate(texts, limit=room)
        # The gate stops at the target; items after that point are not counted at all, so the
        # same items are judged afresh when a later run raises the target.
        reached = len(self.kept) + sum(d.kept for d in decisions) >= self.target
        end = survivors[len(decisions) - 1] + 1 if reached and decisions else len(items)
        # Survivors get the gate's decisions in order; every survivor before `end` has one.
        pending = iter(decisions)
        outcomes = [
            self._record(items[i], verdicts[i], next(pending) if verdicts[i] is None else None)
            for i in range(end)
        ]
        return outcomes, reached

    def _record(self, item: Example | Drop, verdict: Drop | None, decision: Any) -> Drop | None:
        """Count and keep an item's outcome; returns its drop, or None when it is kept."""
        if verdict is not None:
            self.stats.count_drop(verdict.filter, verdict.reason)
            self.drops.append(verdict)
            return verdict
        if decision is PASS:
            self.stats.count_kept()
            self.kept.append(item)
            return None
        if decision.kept:
            self.stats.count_kept()
            self.kept.append(_with_similarity(item, decision))
            return None
        text, score = decision.most_similar[0]
        drop = Drop("rouge", "too_similar", f"{score:.6f} vs {text!r}", item)
        self.stats.count_drop("rouge", "too_similar")
        self.drops.append(drop)
        return drop


def _same_count(saved: Guard | None, guard: Guard | None) -> bool:
    """Whether `guard` (this session's) goes on from `saved` exactly as a replay would: the same
    answers counted (a stall since then is where it starts again) and not already past its
    patience (a lower --patience would have stopped the replay earlier)."""
    if saved is None or guard is None:
        return saved is guard
    if saved.stall is not None:
        return guard.after == saved.stall["slot"]
    return saved.after == guard.after and not (guard.patience and saved.barren >= guard.patience)


def _instruction(example: Example) -> str:
    return example.instruction


def _first_failure(checks: list[tuple[str, Check]], example: Example) -> Drop | None:
    for name, check in checks:
        reason = check(example)
        if reason is not None:
            category, detail = split_reason(reason)
            return Drop(name, category, detail, example=example)
    return None


def _with_similarity(item: Example, decision: GateDecision) -> Example:
    """Alpaca stores each kept task's 10 nearest pool instructions and its mean similarity."""
    similar = [[text, round(score, 6)] for text, score in decision.most_similar]
    meta = {**item.meta, "most_similar": similar, "avg_similarity": round(decision.mean_score, 6)}
    return Example(item.instruction, item.input, item.output, item.id, item.method, meta)
