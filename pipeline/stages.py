"""The parts every method's recipe is made of: a stage's spec, a finished stage's result.

A stage is a Method (plan/parse) with its own judge: a first stage may generate until a target,
a later stage maps over what the stages before kept, one request per item (or a few per request).
The session runs the stages in order; every request of every stage goes through the one cache,
so a re-run replays the finished stages for free and continues the unfinished one."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.judge import Judge, Method
from pipeline.runner import AsyncJudge
from pipeline.store import RunDir
from pipeline.types import Drop, Example

# A map stage ends when every item is answered, never on a count of kept examples.
NO_TARGET = sys.maxsize


@dataclass
class StageSpec:
    """What the session needs to run a stage. `judge_factory(*judge_args)` builds its judge,
    in a worker process when `in_process` is False (it must then be picklable)."""

    name: str
    method: Method
    judge_factory: Any
    judge_args: tuple
    target: int = NO_TARGET
    max_requests: int | None = None
    in_process: bool = True


@dataclass
class StageResult:
    name: str
    kept: list[Example]
    drops: list[Drop]
    stats: dict[str, Any]


class Recipe(Protocol):
    stages: tuple[str, ...]

    def fingerprint_parts(self) -> dict[str, str]: ...

    def stage(self, index: int, done: list[StageResult]) -> StageSpec: ...

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]: ...


class Current(Protocol):
    """The stage running now (or the last one, finished)."""

    name: str
    judge: AsyncJudge


def build_map_judge(method: Method, filters: list) -> Judge:
    return Judge(method, filters, None, NO_TARGET)
