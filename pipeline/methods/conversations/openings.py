"""Where conversations start: the examples of --from (any readable data, a run directory of any
method), each opening one conversation with its instruction (and input), and its output as the
first answer unless --reanswer. The number of user turns each is planned at is drawn by the run's
seed; openings too close to one kept before them (ROUGE-L, as Self-Instruct's gate) are dropped
before any request is sent, so a near-duplicate costs nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import RunConfig
from pipeline.filters.rouge.index import RougeIndex
from pipeline.formats.chat import user_text
from pipeline.methods.conversations.checks import check_answer
from pipeline.seeds import limit_and_sample, load_seeds
from pipeline.types import Drop, Example, Turn

NAME = "conversations"


def is_later_turn(example: Example) -> bool:
    """A chat file's second and later exchanges read as examples with the turns before them;
    a conversation opens with the first exchange only."""
    return bool(example.meta.get("context")) or (example.meta.get("turn") or 0) > 0


def read_source(config: RunConfig) -> tuple[list[Example], int]:
    """The examples that open conversations (after --limit / --sample), and how many later
    turns of chat files were set aside."""
    o = config.options
    examples = load_seeds(None if o.source is None else Path(o.source), o.from_format, o.from_map)
    firsts = [e for e in examples if not is_later_turn(e)]
    skipped = len(examples) - len(firsts)
    where = o.source or "the built-in seeds"
    return limit_and_sample(firsts, o.limit, o.sample, config.seed, where, "openings"), skipped


def planned_turns(config: RunConfig, position: int) -> int:
    low, high = config.options.turn_range
    return random.Random(f"{config.seed}:{NAME}:turns:{position}").randint(low, high)


def opening(config: RunConfig, source: Example, position: int) -> Example:
    """The conversation before any request: the opening user message, the system prompt and,
    unless --reanswer, the example's own output as the first answer."""
    o = config.options
    given = bool(source.output.strip()) and not o.reanswer
    messages: list[Turn] = [{"role": "system", "content": o.system}] if o.system else []
    messages.append({"role": "user", "content": user_text(source)})
    if given:
        messages.append({"role": "assistant", "content": source.output.strip()})
    meta = {
        "source_id": source.id,
        "position": position,
        "planned": planned_turns(config, position),
        "reached": 1 if given else 0,
        "first_answer": "source" if given else "model",
        "models": {
            "user": o.user_model or config.model,
            "assistant": o.assistant_model or config.model,
        },
    }
    output = source.output.strip() if given else ""
    ident = f"conv-{position:06d}"
    return Example(source.instruction, source.input, output, ident, NAME, meta, tuple(messages))


@dataclass
class Openings:
    """Every opening with its gate decision: `kept` go on to their turns, `drops` are the
    near-duplicates (a Drop each, with the kept opening it is too close to)."""

    kept: list[Example]
    drops: list[Drop]  # in no particular order (each carries its position)
    read: int  # examples that opened (or would have opened) a conversation
    skipped: int  # later turns of chat files, set aside


def gate_openings(config: RunConfig, sources: list[Example], skipped: int) -> Openings:
    """The openings that go on, in order: a given first answer must pass the answer checks
    (a source's refusal is no better than a model's: --reanswer answers it instead), then the
    opening must pass the gate."""
    starts, drops = [], []
    for position, source in enumerate(sources):
        start = opening(config, source, position)
        failure = check_answer(start.output) if start.meta["reached"] == 1 else None
        if failure is None:
            starts.append(start)
        else:
            drops.append(Drop(*failure, start, meta={"first_answer": "source"}))
    gate = RougeIndex(threshold=config.options.rouge_threshold)
    kept = []
    for start, decision in zip(starts, gate.gate([s.instruction for s in starts]), strict=True):
        if decision.kept:
            kept.append(start)
        else:
            text, score = decision.most_similar[0]
            drops.append(Drop("rouge", "too_similar", f"{score:.6f} vs {text!r}", start))
    return Openings(kept, drops, len(sources), skipped)
