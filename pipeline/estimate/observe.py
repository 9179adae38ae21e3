"""What a run directory already knows: its cached answers replayed through the method's own
judges, in request order, exactly as a run would judge them; nothing is paid and nothing is
written (pilot.py sends a few real requests first, into the same cache)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.judge import Judge
from pipeline.engine.stages import StageResult, StageSpec
from pipeline.errors import ConfigError
from pipeline.store import CACHE_FILE, RUN_FILE
from pipeline.types import Completion, Example, Request

# Replaying is judging without the network: cheap, but a very long history need not be
# replayed in full to know its rates.
REPLAY_LIMIT = 20_000


@dataclass
class StageObs:
    """One stage as far as the cache answers it, judged in request order."""

    name: str
    model: str = ""
    requests: int = 0
    prompts: int = 0  # prompts in those requests (several per request on the completions API)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completion_per_request: list[int] = field(default_factory=list)
    prompt_per_request: list[int] = field(default_factory=list)
    # Per request, of the items that got past the seeds: kept, and blocked by a generated item.
    kept_per_request: list[int] = field(default_factory=list)
    blocked_per_request: list[int] = field(default_factory=list)
    generated: int = 0
    kept: list[Example] = field(default_factory=list)
    complete: bool = False  # the stage was answered to its end (target or list)
    judge_seconds: float = 0.0


@dataclass
class Observed:
    """Every stage the cache could answer, in order; `latency` holds paid requests' seconds.

    `paid` is every answer in the cache by model (answers, prompt and completion tokens);
    `unused` the part of it no replayed stage used (answered after a target was reached)."""

    stages: dict[str, StageObs] = field(default_factory=dict)
    latency: list[float] = field(default_factory=list)
    pilot: int = 0
    pilot_seconds: float = 0.0  # the pilot session's wall time, opening it aside
    paid: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    unused: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.stages.values())


class ReadOnlyCache:
    """The run's request cache, opened so that nothing is written next to it."""

    def __init__(self, path: Path):
        # With no write-ahead log left over, `immutable` reads without creating one; a log left
        # by a killed run holds answers too, and reading it needs the ordinary read-only mode.
        wal = path.with_name(path.name + "-wal").exists()
        uri = path.resolve().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1")
        try:
            self._db = sqlite3.connect(uri, uri=True)
            self._db.execute("SELECT 1 FROM responses LIMIT 1")
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"{path}: unreadable request cache ({e}); use a new --out") from None

    def get(self, request: Request) -> Completion | None:
        row = self._db.execute(
            "SELECT response FROM responses WHERE key=?", (request.key(),)
        ).fetchone()
        return None if row is None else Completion.from_dict(json.loads(row[0]), cached=True)

    def paid(self) -> dict[str, tuple[int, int, int]]:
        """Answers, prompt and completion tokens of every cached answer, by model."""
        totals: dict[str, tuple[int, int, int]] = {}
        rows = self._db.execute("SELECT request, prompt_tokens, completion_tokens FROM responses")
        for request, prompt, completion in rows:
            n, p, c = totals.get(model := json.loads(request).get("model", ""), (0, 0, 0))
            totals[model] = (n + 1, p + prompt, c + completion)
        return totals

    def close(self) -> None:
        self._db.close()


def history_cache(config: RunConfig, fingerprint: str) -> Path | None:
    """The run directory's cache if it holds answers for this very config; the same refusals
    as a run when it could not be resumed with it."""
    out = Path(config.out)
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return None
    if not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a directory path")
    run_file = out / RUN_FILE
    if not run_file.exists():
        raise ConfigError(
            f"--out {out} exists and is not an instructgen run directory (no {RUN_FILE}); "
            "choose a new or empty --out"
        )
    try:
        saved = json.loads(run_file.read_text(encoding="utf-8"))["fingerprint"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ConfigError(f"{run_file}: unreadable run file; use a new --out") from None
    if saved != fingerprint:
        raise ConfigError(
            f"{out} was made with a different config; estimate with the original options, "
            "or pass a new --out"
        )
    cache = out / CACHE_FILE
    return cache if cache.exists() else None


def replay(recipe: Any, cache_path: Path, seeds: set[str]) -> Observed:
    """Judge the cached answers of each stage in order, as far as the cache goes. `seeds` are
    the texts a ROUGE gate starts with: a drop too similar to one of them is told apart from a
    drop too similar to a generated item."""
    cache = ReadOnlyCache(cache_path)
    observed, done = Observed(paid=cache.paid()), []
    seen = {repr(text) for text in seeds}
    try:
        for index in range(len(recipe.stages)):
            spec = recipe.stage(index, done)
            judge = spec.judge_factory(*spec.judge_args)
            stage = _replay_stage(spec, judge, cache, seen)
            if stage.requests == 0 and not stage.complete:
                break
            observed.stages[spec.name] = stage
            done.append(StageResult(spec.name, *judge.results()))
    finally:
        cache.close()
    observed.unused = _unused(observed)
    return observed


def _unused(observed: Observed) -> dict[str, tuple[int, int, int]]:
    """Cached answers no replayed stage judged: paid for after a target was reached."""
    left = {model: list(paid) for model, paid in observed.paid.items()}
    for stage in observed.stages.values():
        counts = left.setdefault(stage.model, [0, 0, 0])
        counts[0] -= stage.requests
        counts[1] -= stage.prompt_tokens
        counts[2] -= stage.completion_tokens
    return {model: (n, p, c) for model, (n, p, c) in left.items() if n > 0}


def _replay_stage(spec: StageSpec, judge: Judge, cache: ReadOnlyCache, seeds: set[str]) -> StageObs:
    obs = StageObs(spec.name)
    end = min(spec.max_requests if spec.max_requests is not None else REPLAY_LIMIT, REPLAY_LIMIT)
    started = time.process_time()
    for slot in range(end):
        request = spec.method.plan(slot)
        completion = cache.get(request)
        if completion is None:
            break
        kept, drops = len(judge.kept), len(judge.drops)
        progress = judge.take([(slot, completion)])
        _count(obs, request, completion)
        # A ROUGE drop's detail ends with the nearest pool text, as repr (see Judge._record).
        nearest = [
            d.detail.partition(" vs ")[2] for d in judge.drops[drops:] if d.filter == "rouge"
        ]
        obs.kept_per_request.append(progress.kept - kept)
        obs.blocked_per_request.append(sum(text not in seeds for text in nearest))
        if progress.kept >= spec.target:
            break
    else:
        obs.complete = obs.requests == spec.max_requests
    obs.complete = obs.complete or len(judge.kept) >= spec.target
    obs.generated, obs.kept = judge.stats.generated, list(judge.kept)
    obs.judge_seconds = time.process_time() - started
    return obs


def _count(obs: StageObs, request: Request, completion: Completion) -> None:
    obs.model = request.model
    obs.requests += 1
    obs.prompts += len(request.prompts)
    usage = completion.usage
    obs.prompt_tokens += usage.prompt_tokens
    obs.completion_tokens += usage.completion_tokens
    obs.prompt_per_request.append(usage.prompt_tokens)
    obs.completion_per_request.append(usage.completion_tokens)
