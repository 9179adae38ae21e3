"""plan -> complete -> parse -> filter -> gate -> keep, always in request order.

Requests are dispatched ahead (up to a window) and answered in any order, but their answers are
processed strictly by slot number. So the kept list depends only on the answers, never on timing:
an interrupted and resumed run replays the cache and ends byte-identical to an uninterrupted one."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.backends.base import Backend
from pipeline.errors import InstructgenError
from pipeline.filters.base import Filter
from pipeline.filters.rouge import RougeIndex
from pipeline.stats import Stats
from pipeline.types import Choice, Completion, Drop, Example, Request

# Stop paying when this many answers in a row yielded nothing: the model ignores the format.
BARREN_LIMIT = 25


class Abandoned(Exception):
    """A queued request that was never sent because the run is ending."""


class Method(Protocol):
    name: str

    @property
    def expected_kept_per_request(self) -> float: ...

    def plan(self, slot: int) -> Request: ...

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]: ...


def split_reason(reason: str) -> tuple[str, str]:
    """Filters say 'category: detail'; stats count the category."""
    category, _, detail = reason.partition(": ")
    return category, detail


@dataclass
class Generation:
    """One method's generation loop, advanced in batches so a flow can make a task of each."""

    method: Method
    backend: Backend
    gate: RougeIndex
    filters: list[Filter]
    target: int
    concurrency: int = 8
    max_requests: int | None = None
    on_progress: Callable[[Generation], None] | None = None
    kept: list[Example] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    stopped: str = ""
    unused: int = 0

    def __post_init__(self) -> None:
        self._pending: dict[int, tuple[Request, asyncio.Task[Completion]]] = {}
        self._next = 0
        self._head = 0
        self._barren = 0
        # The window lets answers behind a slow one keep arriving; the semaphore caps what is
        # actually in flight at `concurrency`.
        self._window = max(4 * self.concurrency, 8)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._closing = False
        self.started = time.monotonic()

    @property
    def done(self) -> bool:
        return bool(self.stopped)

    async def advance(self, max_answers: int) -> bool:
        """Process up to `max_answers` answers in slot order; True once the run is finished."""
        try:
            for _ in range(max_answers):
                if self._check_stop():
                    break
                self._dispatch()
                _, task = self._pending.pop(self._head)
                self._process(self._head, await task)
                self._head += 1
                if self.on_progress:
                    self.on_progress(self)
        except asyncio.CancelledError:
            await self.abandon(grace=0.0)
            raise
        except BaseException:
            await self.abandon()
            raise
        return self._check_stop()

    def _check_stop(self) -> bool:
        if not self.stopped:
            if len(self.kept) >= self.target:
                self.stopped = "target"
            elif self.max_requests is not None and self._head >= self.max_requests:
                self.stopped = "max_requests"
        return bool(self.stopped)

    def _expected_per_request(self) -> float:
        if self._head and self.stats.kept:
            return self.stats.kept / self._head
        return max(self.method.expected_kept_per_request, 0.1)

    def _dispatch(self) -> None:
        """Send ahead while the answers in flight are not yet expected to reach the target."""
        needed = self.target - len(self.kept)
        wanted = math.ceil(1.25 * needed / self._expected_per_request()) + 1
        limit = min(self._window, wanted)
        while len(self._pending) < limit or self._head not in self._pending:
            if self.max_requests is not None and self._next >= self.max_requests:
                break
            request = self.method.plan(self._next)
            task = asyncio.ensure_future(self._call(request))
            self._pending[self._next] = (request, task)
            self._next += 1

    async def _call(self, request: Request) -> Completion:
        async with self._slots:
            if self._closing:
                raise Abandoned(request.slot)
            return await self.backend.complete(request)

    async def abandon(self, grace: float = 10.0) -> int:
        """Send nothing more; give answers already on their way `grace` seconds to land in the
        cache (they are paid for), then cancel the rest. Returns how many landed unused."""
        self._closing = True
        tasks = [t for _, t in self._pending.values()]
        self._pending.clear()
        if not tasks:
            return 0
        if grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        landed = sum(isinstance(r, Completion) for r in results)
        self.unused += landed
        return landed

    def _process(self, slot: int, completion: Completion) -> None:
        self.stats.count_completion(completion)
        items: list[Example | Drop] = []
        for choice in sorted(completion.choices, key=lambda c: c.index):
            items.extend(self.method.parse(slot, choice))
        if not completion.choices:
            items.append(Drop("parse", "empty_response", "no choices", meta={"slot": slot}))
        kept_before = len(self.kept)
        self._settle(items)
        self._barren = 0 if len(self.kept) > kept_before else self._barren + 1
        if self._barren >= BARREN_LIMIT and not self.kept:
            raise InstructgenError(
                f"no task kept from the first {BARREN_LIMIT} answers: the model does not follow "
                "the prompt's format; see removed.jsonl, or try another --model / --api"
            )

    def _settle(self, items: list[Example | Drop]) -> None:
        """Filter, gate and record items in order, stopping exactly at the target."""
        verdicts: list[Drop | None] = [
            item if isinstance(item, Drop) else self._first_failure(item) for item in items
        ]
        survivors = [i for i, v in enumerate(verdicts) if v is None]
        decisions = self.gate.gate(
            [items[i].instruction for i in survivors], limit=self.target - len(self.kept)
        )
        decided = dict(zip(survivors, decisions, strict=False))
        # The gate stops at the target; items after that point are not counted at all, so the
        # same items are judged afresh when a later run raises the target.
        reached = len(self.kept) + sum(d.kept for d in decisions) >= self.target
        end = survivors[len(decisions) - 1] + 1 if reached and decisions else len(items)
        for i in range(end):
            self._record(items[i], verdicts[i], decided.get(i))

    def _first_failure(self, example: Example) -> Drop | None:
        for f in self.filters:
            reason = f.check(example)
            if reason is not None:
                category, detail = split_reason(reason)
                return Drop(f.name, category, detail, example=example)
        return None

    def _record(self, item: Example | Drop, verdict: Drop | None, decision) -> None:
        if verdict is not None:
            self.stats.count_drop(verdict.filter, verdict.reason)
            self.drops.append(verdict)
            return
        assert isinstance(item, Example) and decision is not None
        similar = [[text, round(score, 6)] for text, score in decision.most_similar]
        if not decision.kept:
            top = f"{similar[0][1]} vs {similar[0][0]!r}" if similar else ""
            self.stats.count_drop("rouge", "too_similar")
            self.drops.append(Drop("rouge", "too_similar", top, example=item))
            return
        meta = {**item.meta, "most_similar": similar, "avg_similarity": round(decision.mean_score, 6)}
        self.stats.count_kept()
        self.kept.append(Example(item.instruction, item.input, item.output, item.id, item.method, meta))
