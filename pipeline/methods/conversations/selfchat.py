"""The self-chat mode (Baize's): one request per opening writes the whole transcript, both
speakers marked ([|Human|], [|AI|]). The transcript is parsed strictly: the turns must
alternate from the one the prompt leaves open, and it is cut at the first turn that is
malformed or fails a check (checks.py), the turns before the cut kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import RunConfig
from pipeline.methods.conversations.checks import Failure, check_answer, check_user
from pipeline.methods.conversations.turns import NAME, with_turn
from pipeline.prompts import PromptTemplate, load_template
from pipeline.types import Choice, Drop, Example, Request

HUMAN, AI = "[|Human|]", "[|AI|]"
RAW = "transcript"  # the meta key a cut transcript's text travels in, never kept
ROLE_OF = {HUMAN: "user", AI: "assistant"}
MARKER_OF = {"user": HUMAN, "assistant": AI}
_MARKERS = re.compile(r"\[\|(?:Human|AI)\|\]")


def self_chat_template() -> PromptTemplate:
    return load_template("conversations/self_chat")


def shown(opening: Example) -> str:
    """The opening as the transcript starts: the human's message, and the first answer if it
    is given, each behind its marker."""
    turns = [m for m in opening.messages if m["role"] != "system"]
    return "\n".join(f"{MARKER_OF[m['role']]} {m['content']}" for m in turns)


def split_turns(text: str, first: str) -> tuple[list[tuple[str, str]], Failure | None]:
    """(role, text) turns of a transcript that should start with `first`'s marker, up to the
    first malformed one, and what was malformed there (None: all of it parsed)."""
    found = list(_MARKERS.finditer(text))
    if not found:
        return [], ("parse", "no_speaker_markers", f"no {HUMAN} or {AI} in the transcript")
    if text[: found[0].start()].strip():
        return [], ("parse", "text_before_first_marker", text[: found[0].start()].strip()[:60])
    turns, expected = [], first
    for k, m in enumerate(found):
        role = ROLE_OF[m[0]]
        end = found[k + 1].start() if k + 1 < len(found) else len(text)
        if role != expected:
            return turns, ("role_leak", "turns_do_not_alternate", f"two {m[0]} turns in a row")
        turns.append((role, text[m.end() : end].strip()))
        expected = "user" if role == "assistant" else "assistant"
    return turns, None


@dataclass
class SelfChat:
    """Stage `chat`: one transcript per opening, planned at the opening's number of turns."""

    openings: list[Example]
    config: RunConfig
    template: PromptTemplate
    name: str = NAME
    expected_kept_per_request: float = 1.0

    @property
    def requests(self) -> int:
        return len(self.openings)

    @staticmethod
    def needs_request(opening: Example) -> bool:
        """An opening with its own answer planned at one turn is already complete."""
        return opening.meta["reached"] < opening.meta["planned"]

    def prompt(self, slot: int) -> str:
        opening = self.openings[slot]
        answered = opening.meta["reached"] == 1
        continued = " and the assistant's first answer" if answered else ""
        turns = opening.meta["planned"]
        system = self.config.options.system
        # The system prompt the conversation will be trained with is the assistant's brief.
        note = f' The assistant has been given this instruction: "{system}"' if system else ""
        # The prompt ends at the marker the model writes next, so the completion starts there.
        tail = HUMAN if answered else AI
        return self.template.render(
            continued=continued,
            turns=turns,
            system_note=note,
            transcript=f"{shown(opening)}\n{tail}",
        )

    def plan(self, slot: int) -> Request:
        c, opening = self.config, self.openings[slot]
        return Request(
            model=c.options.assistant_model or c.model,
            prompts=(self.prompt(slot),),
            api=c.api,  # type: ignore[arg-type]
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=c.options.transcript_max_tokens,
            slot=f"{NAME}:chat:{opening.meta['position']}",
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        """The conversation as far as it parsed and passed the checks; its end in meta
        ("planned", "transcript_ended", or "cut" with the failure in meta["cut"])."""
        opening = self.openings[slot]
        answered = opening.meta["reached"] == 1
        tail = HUMAN if answered else AI
        # Chat models often write the marker the prompt ended with once more: the same turn.
        text = choice.text.lstrip()
        text = text[len(tail) :] if text.startswith(tail) else text
        turns, failure = split_turns(f"{tail} {text}", "user" if answered else "assistant")
        if failure is None and choice.finish_reason == "length" and turns:
            turns, failure = turns[:-1], ("turn", "truncated", "transcript cut at max_tokens")
        conv, planned = opening, opening.meta["planned"]
        for role, text in turns:
            if conv.meta["reached"] >= planned:
                break  # a model that wrote on past the planned turns: the rest is not used
            checked = self._check(conv, role, text)
            if checked is not None:
                failure = checked
                break
            reached = conv.meta["reached"] + (role == "assistant")
            conv = with_turn(conv, role, text, reached=reached)
        if conv.meta["reached"] >= planned:
            failure = None
        elif failure is None:
            failure = ("parse", "transcript_ended", f"ended at turn {conv.meta['reached']}")
        return _ended(conv, failure, choice.text)

    def _check(self, conv: Example, role: str, text: str) -> Failure | None:
        if role == "assistant":
            return check_answer(text)
        earlier = [m["content"] for m in conv.messages if m["role"] == "user"]
        return check_user(text, earlier, self.config.options.repeat_threshold)


def _ended(conv: Example, failure: Failure | None, raw: str) -> list[Example | Drop]:
    """The conversation up to its last answer (a user turn left unanswered is not kept), one
    item per transcript: a cut one carries why in meta["cut"] and the transcript in
    meta[RAW], which the recipe moves to the cut's record in removed.jsonl."""
    messages, meta = conv.messages, dict(conv.meta)
    if messages[-1]["role"] == "user" and meta["reached"] >= 1:
        messages = messages[:-1]
    meta["ended"] = "planned" if failure is None else "cut"
    if failure is not None:
        meta["cut"] = {"filter": failure[0], "reason": failure[1], "detail": failure[2]}
        meta[RAW] = raw
    return [Example(conv.instruction, conv.input, conv.output, conv.id, NAME, meta, messages)]
