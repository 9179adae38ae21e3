"""The runner's pipelining: while the judge works on one batch, the next is being answered."""

from __future__ import annotations

import asyncio

import pytest

from pipeline import methods
from pipeline.backends.cache import RequestCache
from pipeline.backends.cached import CachedBackend
from pipeline.engine.judge import Progress
from pipeline.engine.judge_process import LocalJudge
from pipeline.engine.runner import Generation
from pipeline.methods import make_config
from tests.helpers import CountingBackend


class SlowJudge(LocalJudge):
    """The real judge, after a pause that leaves the event loop free (as the worker process
    does); notes how many answers the backend had given when each batch was judged."""

    def __init__(self, judge, backend: CountingBackend, pause: float):
        super().__init__(judge)
        self.backend, self.pause = backend, pause
        self.ahead: list[int] = []  # answers given past each batch's last one, as it is judged

    async def take(self, answers) -> Progress:
        await asyncio.sleep(self.pause)
        self.ahead.append(self.backend.answered - (answers[-1][0] + 1))
        return await super().take(answers)


@pytest.mark.parametrize("concurrency", [2, 8])
def test_requests_keep_flowing_while_the_judge_works(tmp_path, concurrency):
    cfg = make_config(out=str(tmp_path), backend="stub", target=10**6, concurrency=concurrency)
    spec = methods.get(cfg.method).recipe(cfg).stage(0, [])
    window = 4 * concurrency  # the runner's window: 4x concurrency, at least 8
    inner = CountingBackend()
    judge = SlowJudge(spec.judge_factory(*spec.judge_args), inner, pause=0.1)
    cache = RequestCache(tmp_path / "cache.sqlite")
    generation = Generation(
        spec.method,
        CachedBackend(inner, cache),
        judge,
        target=10**6,
        concurrency=concurrency,
        max_requests=6 * window,
    )

    async def drive() -> None:
        while not await generation.advance(window):
            pass

    try:
        asyncio.run(drive())
    finally:
        cache.close()
    # While a batch is judged the window opens for the next one: a whole window of answers
    # past it is in before it is decided (the first batch may be cut short: the run starts
    # with half its prior's estimate in flight, then takes what has arrived).
    assert all(ahead >= window for ahead in judge.ahead[1:-2]) and len(judge.ahead) >= 4
    assert generation.answered == 6 * window
