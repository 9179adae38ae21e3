"""plan -> complete -> judge, always in request order.

Requests are dispatched ahead (up to a window) and answered in any order, but their answers are
judged strictly by slot number. So the kept list depends only on the answers, never on timing:
an interrupted and resumed run replays the cache and ends byte-identical to an uninterrupted one."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pipeline.backends.budget import BudgetReached
from pipeline.backends.cached import CachedBackend
from pipeline.engine.judge import Method, Progress
from pipeline.errors import InstructgenError
from pipeline.types import Completion, Drop, Example, Request

# How many recent answers the keep rate that paces dispatching is measured over.
RATE_WINDOW = 32
# Seconds an interrupted run waits for the answers already on their way.
CANCEL_GRACE = 2.0
# Batch mode's first wave: what the prior rate says the target needs, plus this share.
EAGER_MARGIN, LATER_MARGIN = 1.1, 1.25


class Abandoned(Exception):
    """A queued request that was never sent because the run is ending."""


class AsyncJudge(Protocol):
    """A stage's judge, in this process (LocalJudge) or a worker (JudgeProcess): it holds
    every decision's state (the pool, the kept list, the funnel), so calls go one at a time."""

    async def take(self, answers: list[tuple[int, Completion]]) -> Progress:
        """Judge consecutive answers, by slot, strictly in slot order (the runner never skips
        a slot); `Progress.used` says how many were read before the target was reached (the
        rest stay unjudged, as if never read); `Progress.stall` is set once the stage's stall
        guard has stopped it (engine/stall.py)."""
        ...

    async def write(self, run_dir: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Write the stage's outputs into `run_dir` with `extra` added to the stats; returns
        the stats written. A single-stage recipe lets its judge write (nothing crosses the
        worker's pipe)."""
        ...

    async def results(self) -> tuple[list[Example], list[Drop], dict[str, Any]]:
        """Kept examples, drops and stats so far: what a later stage builds on."""
        ...

    async def snapshot(self) -> bytes:
        """Everything the judge's decisions depend on, for the run's checkpoint
        (engine/checkpoint.py)."""
        ...

    async def restore(self, state: bytes, max_requests: int | None) -> Progress | None:
        """Go on from a snapshot of this stage's judge; `Progress.used` is the slot to go on
        from. None (nothing changed) when it cannot go on exactly (e.g. the snapshot is past
        `max_requests`): replay from the start."""
        ...

    async def aclose(self) -> None:
        """Release the judge (end its worker); it is not called again."""
        ...


@dataclass
class Generation:
    """One method's generation loop, advanced in batches so a flow can make a task of each."""

    method: Method
    backend: CachedBackend
    judge: AsyncJudge
    target: int
    concurrency: int = 8
    max_requests: int | None = None
    on_progress: Callable[[Generation], None] | None = None
    name: str = ""
    # Batch mode: a wave takes hours, so the first holds all the prior rate says is needed,
    # with a margin, not half of it.
    eager: bool = False
    progress: Progress = field(default_factory=Progress)
    stopped: str = ""
    unused: int = 0

    def __post_init__(self) -> None:
        self._pending: dict[int, tuple[Request, asyncio.Task[Completion]]] = {}
        self._next = 0
        self._head = 0  # the first slot not yet used
        self._collected = 0  # the first slot not yet sent to the judge
        # The window lets answers behind a slow one keep arriving; the semaphore caps what is
        # actually in flight at `concurrency`.
        self._window = max(4 * self.concurrency, 8)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._closing = False
        self._reached = False
        self._history: list[tuple[int, int]] = [(0, 0)]  # (answers used, kept) after each batch
        self._hits: set[int] = set()  # slots answered from the cache, not yet used
        self._judged: asyncio.Future[None] | None = None  # resolved after each judged batch
        self._judging = 0  # answers handed to the judge, not yet accounted for
        self._last_wave = self._first_wave = 0  # batch mode: the sizes of waves sent
        self.started = time.monotonic()

    def resume(self, progress: Progress) -> None:
        """Go on from a restored judge: `progress.used` is the first slot it has not judged."""
        slot = progress.used
        self._head = self._next = self._collected = slot
        self.progress = replace(progress, used=0)
        # The rate so far paces dispatching until a window of new answers is judged.
        self._history = [(0, 0), (slot, progress.kept)]

    @property
    def answered(self) -> int:
        """Answers judged so far, in slot order."""
        return self._head

    async def advance(self, max_answers: int) -> bool:
        """Judge up to `max_answers` answers in slot order; True once the run is finished.

        Pipelined: while the judge works on one batch (in its own process by default), the
        next batch is collected; it is sent only if the first did not reach the target."""
        judging: asyncio.Task[Progress] | None = None
        sent: list[tuple[int, Completion]] = []
        taken = 0
        try:
            while not self._check_stop():
                room = max_answers - taken - len(sent)
                batch = await self._collect(room) if room > 0 else []
                if judging is not None:
                    taken += self._account(sent, await judging)
                    judging, sent = None, []
                # Past the budget only what is in hand is judged: the rest waits in the cache.
                if not batch or (self._check_stop() and self.stopped != "budget"):
                    break
                judging, sent = asyncio.ensure_future(self._judge(batch)), batch
                self._judging = len(batch)
                self._dispatch()  # the judge holds these: the window opens for the next ones
            if judging is not None:  # the last batch in hand when the budget stopped the run
                self._account(sent, await judging)
        except asyncio.CancelledError:
            # Interrupted: send nothing more, but answers already on their way (one may have
            # arrived this instant) get a moment to land in the cache; they are paid for.
            await _cancel(judging)
            await self.abandon(grace=CANCEL_GRACE)
            raise
        except BaseException:
            await _cancel(judging)
            await self.abandon()
            raise
        # A batch collected but not judged stays pending: the next call starts from the head.
        self._collected = self._head
        return self._check_stop()

    def _account(self, batch: list[tuple[int, Completion]], progress: Progress) -> int:
        """A judged batch's used answers leave the pending set."""
        self.progress = progress
        self._judging = 0
        for slot, _ in batch[: progress.used]:
            del self._pending[slot]
        self._head += progress.used
        self._history.append((self._head, progress.kept))
        if self.on_progress:
            self.on_progress(self)
        return progress.used

    def _check_stop(self) -> bool:
        if not self.stopped:
            if self.progress.stall is not None:
                self.stopped = "stalled"
            elif self.progress.kept >= self.target:
                self.stopped = "target"
            elif self.max_requests is not None and self._head >= self.max_requests:
                self.stopped = "max_requests"
        return bool(self.stopped)

    def _expected_per_request(self) -> float:
        """Kept examples per answer over the recent answers (the rate falls as the ROUGE pool
        fills, so the whole-run average would overestimate it), or the method's prior."""
        if self._head == 0:
            return max(self.method.expected_kept_per_request, 0.1)
        since_head, since_kept = self._history[0]
        for head, kept in reversed(self._history):
            if self._head - head >= RATE_WINDOW:
                since_head, since_kept = head, kept
                break
        rate = (self.progress.kept - since_kept) / max(self._head - since_head, 1)
        return max(rate, 0.01)

    def _next_wave(self, needed: int) -> int:
        """Batch mode: the requests the target still needs at the keep rate of the whole stage
        so far (the method's prior before any answer), plus a margin; never more than twice
        the last wave (a rate measured on few answers may be far too low). A later wave's
        margin is wider and it is at least a twentieth of the first: the keep rate falls as
        the pool fills, and each wave short of the target costs another batch (hours)."""
        if self._head == 0:
            rate = max(self.method.expected_kept_per_request, 0.1)
            wave = math.ceil(needed / rate * EAGER_MARGIN)
            self._first_wave = wave
        else:
            rate = max(self.progress.kept / self._head, 0.01)
            wave = math.ceil(needed / rate * LATER_MARGIN)
            wave = max(wave, math.ceil(self._first_wave / 20))
        if self._last_wave:
            wave = min(wave, 2 * self._last_wave)
        self._last_wave = wave
        return wave

    def _dispatch(self) -> None:
        """Send ahead only what the answers in hand and in flight are not expected to cover:
        a request sent past the target is money spent on nothing (it waits in the cache)."""
        if self._closing or self._reached or self.stopped:
            return
        if self.eager and (self._judging or self._pending):
            # Batch mode: the next wave waits until every answer of the last one is judged
            # (each request sent sooner would be a wave of its own, hours, that the answers
            # being judged may make unneeded).
            return
        needed = self.target - self.progress.kept
        wanted = math.ceil(needed / self._expected_per_request())
        if self.eager:
            wanted = self._next_wave(needed)
        elif self._head == 0:
            # Before any answer is judged the rate is only a prior, and models differ widely:
            # send half, and the rest once real answers say how many are needed.
            wanted = math.ceil(wanted / 2)
        # Answers in the judge's hands no longer hold the window, so requests keep flowing while
        # it works; they still count against `wanted`, so nothing more is sent past the target.
        while (
            len(self._pending) < wanted and len(self._pending) - self._judging < self._window
        ) or self._collected not in self._pending:
            if self.max_requests is not None and self._next >= self.max_requests:
                break
            request = self.method.plan(self._next)
            task = asyncio.ensure_future(self._call(self._next, request))
            self._pending[self._next] = (request, task)
            self._next += 1

    async def _call(self, slot: int, request: Request) -> Completion:
        # One canonical JSON per request: it is the cache key and what the cache stores.
        canonical = request.canonical()
        hit = self.backend.lookup(canonical)
        if hit is not None:
            self._hits.add(slot)
            return hit
        # Pay for a new answer only once the cached answers before it have been judged: they
        # may already reach the target, and a resumed run must not pay past it.
        while not (self._closing or self._reached) and any(h < slot for h in self._hits):
            if self._judged is None:
                self._judged = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._judged)
        async with self._slots:
            if self._closing or self._reached:
                raise Abandoned(request.slot)
            try:
                return await self.backend.pay(request, canonical)
            except InstructgenError as e:
                # A bad key, an unknown model, retries used up: every other request would fail
                # the same way, so none is sent (the budget's refusal closes it by itself).
                if not isinstance(e, BudgetReached):
                    self._closing = True
                raise
            finally:
                # Refill the freed place at once, not when the loop next collects: while the
                # judge works on a batch, requests must keep flowing.
                asyncio.get_running_loop().call_soon(self._dispatch)

    async def abandon(self, grace: float = 10.0) -> int:
        """Send nothing more; give answers already on their way `grace` seconds to land in the
        cache (they are paid for), then cancel the rest. Returns how many landed unused."""
        self._closing = True
        self._wake()
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

    async def _judge(self, batch: list[tuple[int, Completion]]) -> Progress:
        progress = await self.judge.take(batch)
        # Wake requests waiting on these cached answers here, not in advance(): advance may be
        # waiting for one of those very requests.
        self._hits.difference_update(slot for slot, _ in batch)
        self._reached = progress.kept >= self.target
        self._wake()
        return progress

    def _wake(self) -> None:
        if self._judged is not None:
            self._judged.set_result(None)
            self._judged = None

    async def _collect(self, most: int) -> list[tuple[int, Completion]]:
        """The next answer not yet sent to the judge (waiting for it), plus the answers right
        behind it that are already in: one batch lets the gate score them in one native call."""
        self._dispatch()
        answers: list[tuple[int, Completion]] = []
        slot = self._collected
        while len(answers) < most and slot in self._pending:
            _, task = self._pending[slot]
            if answers and not task.done():
                break
            try:
                answers.append((slot, await task))
            except Abandoned:  # the target was reached meanwhile: the judge says so next
                break
            except BudgetReached:
                # Not sent: nothing more is, and the run ends after the answers before it.
                self.stopped, self._closing = "budget", True
                break
            slot += 1
        self._collected = slot
        return answers


async def _cancel(task: asyncio.Task | None) -> None:
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
