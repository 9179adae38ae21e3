"""The conversations recipe: its stages (simulate: answer-1, then user-t and answer-t per turn;
self-chat: one `chat` stage), and how the stages' results become conversations.

A conversation's fate is settled turn by turn: it is kept once it reaches its planned turns,
once the simulator ends it, or once a turn fails with at least --min-turns user turns answered
before it (the failed turn goes to removed.jsonl as a cut); with fewer, it is dropped with its
turn's reason. Conversations still waiting for a stage are in neither list yet."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.gate import Gate
from pipeline.engine.stages import (
    Current,
    StageResult,
    StageSpec,
    build_map_judge,
    combined_stats,
    results_so_far,
)
from pipeline.formats.openai_chat import write_openai
from pipeline.formats.sharegpt import write_sharegpt
from pipeline.methods.conversations.checks import turn_filters
from pipeline.methods.conversations.openings import Openings, gate_openings, read_source
from pipeline.methods.conversations.outcome import Outcome
from pipeline.methods.conversations.selfchat import RAW, SelfChat, self_chat_template
from pipeline.methods.conversations.stats import conversation_stats
from pipeline.methods.conversations.turns import NAME, AssistantTurn, UserTurn, user_template
from pipeline.store import RunDir
from pipeline.types import Drop, Example, content_hash

SHAREGPT, OPENAI = "sharegpt.json", "openai.jsonl"
# Openings are gated before any request (openings.py); merge and the report gate the kept
# conversations' openings again, against nothing but each other.
GATE = Gate(seeds=lambda recipe: [])


def stage_names(config: RunConfig) -> tuple[str, ...]:
    if config.options.mode == "self-chat":
        return ("chat",)
    high = config.options.turn_range[1]
    return ("answer-1", *(f"{kind}-{t}" for t in range(2, high + 1) for kind in ("user", "answer")))


def write_chats(folder: Path, kept: list[Example]) -> None:
    """Every turn, as Vicuna's ShareGPT JSON and as OpenAI chat fine-tuning JSONL."""
    write_sharegpt(kept, folder / SHAREGPT)
    write_openai(kept, folder / OPENAI)


def _position(item: Example | Drop) -> int:
    example = item if isinstance(item, Example) else item.example
    return example.meta["position"] if example is not None else item.meta["position"]


class ConversationsRecipe:
    def __init__(self, config: RunConfig):
        self.config = config
        # Read now (bad input fails before anything is written); gated when first needed, so
        # a finished run's re-run, which never asks, does not pay the gate's CPU again.
        self.sources, self.skipped = read_source(config)
        self.user = user_template()
        self.self_chat = self_chat_template()
        self.stages = stage_names(config)

    @cached_property
    def openings(self) -> Openings:
        return gate_openings(self.config, self.sources, self.skipped)

    def fingerprint_parts(self) -> dict[str, str]:
        sources = [e.to_dict() for e in self.sources]
        prompts = [self.user.digest, self.self_chat.digest]
        return {"pool": content_hash(sources), "prompt": content_hash(prompts)}

    # --- the stages ---------------------------------------------------------------------------

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        name, c = self.stages[index], self.config
        by_name = {r.name: r for r in done}
        items, method = self.items(name, by_name), None
        if name == "chat":
            method = SelfChat(items, c, self.self_chat)
        elif name.startswith("user-"):
            method = UserTurn(items, int(name.split("-")[1]), c, self.user)
        else:
            method = AssistantTurn(items, int(name.split("-")[1]), c)
        filters = [] if name == "chat" else turn_filters(c.options.repeat_threshold)
        return StageSpec(
            name, method, build_map_judge, (method, filters), max_requests=method.requests
        )

    def complete_after(self, turn: int, by_name: dict[str, StageResult]) -> list[Example]:
        """Conversations with `turn` user turns answered, in opening order."""
        if turn == 1:
            given = [o for o in self.openings.kept if o.meta["reached"] == 1]
            answered = by_name["answer-1"].kept if "answer-1" in by_name else []
            return sorted(given + answered, key=_position)
        return by_name[f"answer-{turn}"].kept

    def asked_at(self, turn: int, by_name: dict[str, StageResult]) -> list[Example]:
        return [c for c in self.complete_after(turn - 1, by_name) if c.meta["planned"] >= turn]

    def items(self, stage: str, by_name: dict[str, StageResult]) -> list[Example]:
        """What stage `stage` maps over, slot by slot."""
        if stage == "chat":
            return [o for o in self.openings.kept if SelfChat.needs_request(o)]
        kind, turn = stage.split("-")[0], int(stage.split("-")[1])
        return self.asked_at(turn, by_name) if kind == "user" else self.answered_at(turn, by_name)

    def answered_at(self, turn: int, by_name: dict[str, StageResult]) -> list[Example]:
        if turn == 1:
            return [o for o in self.openings.kept if o.meta["reached"] == 0]
        asked = by_name[f"user-{turn}"].kept
        return [c for c in asked if c.meta.get("ended") != "user_ended"]

    # --- the outputs --------------------------------------------------------------------------

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        results = await results_so_far(done, current)
        outcomes = self.outcomes(results)
        kept = [o.kept for o in outcomes if o.kept is not None]
        drops = self.removed(outcomes)
        complete = len(results) == len(self.stages)
        stats = combined_stats(results, len(kept), set(), complete)
        stats["funnel"] = self.funnel(outcomes)
        stats["conversations"] = conversation_stats(self.config, self.openings, results, outcomes)
        stats.update(extra)
        write_chats(run_dir.path, run_dir.write_outputs(kept, drops, stats))
        return stats

    def kept(self, done: list[StageResult]) -> list[Example]:
        return [o.kept for o in self.outcomes(done) if o.kept is not None]

    def outcomes(self, results: list[StageResult]) -> list[Outcome]:
        """Every opening's fate settled so far, in opening order (gated ones included)."""
        done = {r.name: r for r in results}
        by_name = {r.name: _by_position(r, self.items(r.name, done)) for r in results}
        # Dropped before any request: turn 0 is the gate, turn 1 a given first answer.
        settled = [
            Outcome(_position(d), None, _tagged(d, "open", int(d.filter != "rouge"), "dropped"))
            for d in self.openings.drops
        ]
        settle = self._settle_chat if self.stages == ("chat",) else self._settle_turns
        for opening in self.openings.kept:
            outcome = settle(opening, by_name)
            if outcome is not None:
                settled.append(outcome)
        return sorted(settled, key=lambda o: o.position)

    def _settle_turns(self, opening: Example, by_name: dict[str, dict]) -> Outcome | None:
        """Walk one conversation through the turn stages; None while it waits for one."""
        conv, planned = opening, opening.meta["planned"]
        for turn in range(1, planned + 1):
            steps = ("answer",) if turn == 1 else ("user", "answer")
            if turn == 1 and opening.meta["reached"] == 1:
                steps = ()
            for kind in steps:
                stage = f"{kind}-{turn}"
                item = by_name.get(stage, {}).get(opening.meta["position"])
                if item is None:
                    return None
                if isinstance(item, Drop):
                    return self._cut(conv, item, stage, turn)
                if item.meta.get("ended") == "user_ended":
                    return self._ended_early(item, turn)
                if kind == "answer":  # `conv` is the conversation as of its last answer
                    conv = item
        return Outcome(opening.meta["position"], _finished(conv, "planned"), None)

    def _settle_chat(self, opening: Example, by_name: dict[str, dict]) -> Outcome | None:
        position = opening.meta["position"]
        if not SelfChat.needs_request(opening):
            return Outcome(position, _finished(opening, "planned"), None)
        item = by_name.get("chat", {}).get(position)
        if item is None:
            return None
        if isinstance(item, Drop):  # nothing to parse (no choices): the opening alone is left
            failed = Drop(item.filter, item.reason, item.detail, opening, item.raw, item.meta)
            return self._cut(opening, failed, "chat", opening.meta["reached"] + 1)
        if "cut" not in item.meta:
            return Outcome(position, item, None)
        meta = {k: v for k, v in item.meta.items() if k != RAW}
        conv = Example(
            item.instruction, item.input, item.output, item.id, NAME, meta, item.messages
        )
        cut = item.meta["cut"]
        failed = Drop(cut["filter"], cut["reason"], cut["detail"], conv, item.meta[RAW])
        return self._cut(conv, failed, "chat", conv.meta["reached"] + 1)

    def _cut(self, conv: Example, failed: Drop, stage: str, turn: int) -> Outcome:
        """A failed turn ends the conversation: kept with the turns before it, if enough."""
        position, reached = conv.meta["position"], conv.meta["reached"]
        if reached >= self.config.options.min_turns:
            cut = {"filter": failed.filter, "reason": failed.reason, "turn": turn}
            kept = _finished(conv, "cut", cut=cut)
            return Outcome(position, kept, _tagged(failed, stage, turn, "kept"))
        return Outcome(position, None, _tagged(failed, stage, turn, "dropped"))

    def _ended_early(self, conv: Example, turn: int) -> Outcome:
        position, reached = conv.meta["position"], conv.meta["reached"]
        least = self.config.options.min_turns
        if reached >= least:
            return Outcome(position, _finished(conv, "user_ended"), None)
        detail = f"the simulator ended it after {reached} user turns (--min-turns {least})"
        drop = Drop("ended", "too_few_turns", detail, conv)
        return Outcome(position, None, _tagged(drop, f"user-{turn}", turn, "dropped"))

    def removed(self, outcomes: list[Outcome]) -> list[Drop]:
        return [o.drop for o in outcomes if o.drop is not None]

    def funnel(self, outcomes: list[Outcome]) -> dict[str, Any]:
        """Conversations: generated = kept + dropped. Turns cut from kept conversations are
        counted apart (`cut`); removed.jsonl holds both."""
        dropped: dict[str, dict[str, int]] = {}
        cut: dict[str, dict[str, int]] = {}
        for o in outcomes:
            if o.drop is not None:
                into = dropped if o.kept is None else cut
                by_reason = into.setdefault(o.drop.filter, {})
                by_reason[o.drop.reason] = by_reason.get(o.drop.reason, 0) + 1
        kept = sum(o.kept is not None for o in outcomes)
        total = sum(sum(r.values()) for r in dropped.values())
        return {
            "generated": kept + total,
            "dropped": {f: dict(sorted(r.items())) for f, r in sorted(dropped.items())},
            "dropped_total": total,
            "kept": kept,
            "cut": {f: dict(sorted(r.items())) for f, r in sorted(cut.items())},
            "cut_total": sum(sum(r.values()) for r in cut.values()),
        }


def _by_position(result: StageResult, items: list[Example]) -> dict[int, Example | Drop]:
    """A stage's outcome per conversation: the conversation as it left the stage, or a Drop."""

    def position(item: Example | Drop) -> int:
        example = item if isinstance(item, Example) else item.example
        if example is not None:
            return example.meta["position"]
        return items[item.meta["slot"]].meta["position"]  # nothing parsed: the judge's slot

    return {position(x): x for x in [*result.kept, *result.drops]}


def _finished(conv: Example, ended: str, **meta: Any) -> Example:
    merged = {**conv.meta, "ended": ended, **meta}
    merged.pop("ended_at", None)
    return Example(
        conv.instruction, conv.input, conv.output, conv.id, conv.method, merged, conv.messages
    )


def _tagged(drop: Drop, stage: str, turn: int, conversation: str) -> Drop:
    meta = {**drop.meta, "stage": stage, "turn": turn, "conversation": conversation}
    return Drop(drop.filter, drop.reason, drop.detail, drop.example, drop.raw, meta)
