"""The simulate mode (UltraChat's): turn t of every conversation still going is two map
stages, `user-t` (the user simulator writes the next user message from the conversation so far)
and `answer-t` (the assistant answers it, the conversation sent as chat messages). The first
turn has only `answer-1`, for openings without an answer of their own.

Every request is planned from the conversation's position and turn, so a re-run plans the same
requests and finds their answers in the cache."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.config import RunConfig
from pipeline.prompts import PromptTemplate, load_template
from pipeline.types import Choice, Drop, Example, Request, Turn

NAME = "conversations"
# What the simulator writes, alone, when the human has nothing more to say.
END_MARKER = "[END OF CONVERSATION]"
SPEAKERS = {"user": "User", "assistant": "Assistant"}
_USER_HEAD = re.compile(r"(?:User|Human)\s*:\s*", re.I)


def user_template() -> PromptTemplate:
    return load_template("conversations/user")


def transcript(messages: tuple[Turn, ...] | list[Turn]) -> str:
    """The turns as 'User: ...' / 'Assistant: ...' paragraphs (the system prompt left out)."""
    return "\n\n".join(
        f"{SPEAKERS[m['role']]}: {m['content']}" for m in messages if m["role"] != "system"
    )


def with_turn(example: Example, role: str, text: str, **meta: object) -> Example:
    """The conversation one message longer (the first answer is also its `output`)."""
    messages = (*example.messages, {"role": role, "content": text})
    output = text if role == "assistant" and not example.output else example.output
    merged = {**example.meta, **meta}
    return Example(example.instruction, example.input, output, example.id, NAME, merged, messages)


@dataclass
class UserTurn:
    """Stage user-t: the next user message of each conversation, or the end marker."""

    conversations: list[Example]
    turn: int
    config: RunConfig
    template: PromptTemplate
    name: str = NAME
    expected_kept_per_request: float = 1.0

    @property
    def requests(self) -> int:
        return len(self.conversations)

    def prompt(self, slot: int) -> str:
        shown = transcript(self.conversations[slot].messages)
        return self.template.render(transcript=shown, end_marker=END_MARKER)

    def plan(self, slot: int) -> Request:
        c, conv = self.config, self.conversations[slot]
        return Request(
            model=c.options.user_model or c.model,
            prompts=(self.prompt(slot),),
            api=c.api,  # type: ignore[arg-type]
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=c.max_tokens,
            slot=f"{NAME}:user:{self.turn}:{conv.meta['position']}",
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        conv = self.conversations[slot]
        text = _unlabelled(choice.text.strip())
        if END_MARKER.lower() in text.lower():
            return [_ended(conv, self.turn)]
        asked = with_turn(conv, "user", text)
        if choice.finish_reason == "length":
            return [Drop("turn", "truncated", f"user turn {self.turn} cut at max_tokens", asked)]
        return [asked]


def _ended(conv: Example, turn: int) -> Example:
    meta = {**conv.meta, "ended": "user_ended", "ended_at": turn}
    return Example(conv.instruction, conv.input, conv.output, conv.id, NAME, meta, conv.messages)


def _unlabelled(text: str) -> str:
    """The message without a leading 'User:' or 'Human:' a model often writes although asked
    not to."""
    m = _USER_HEAD.match(text)
    return text[m.end() :].strip() if m else text


@dataclass
class AssistantTurn:
    """Stage answer-t: each conversation's last user message answered, the turns before it
    sent as chat history (on the completions API: as a transcript to continue)."""

    conversations: list[Example]
    turn: int
    config: RunConfig
    name: str = NAME
    expected_kept_per_request: float = 1.0

    @property
    def requests(self) -> int:
        return len(self.conversations)

    def plan(self, slot: int) -> Request:
        c, conv = self.config, self.conversations[slot]
        o = c.options
        fields = dict(
            model=o.assistant_model or c.model,
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=o.answer_max_tokens,
            slot=f"{NAME}:answer:{self.turn}:{conv.meta['position']}",
        )
        turns = [m for m in conv.messages if m["role"] != "system"]
        if c.api != "chat":
            prompt = f"{o.system}\n\n" if o.system else ""
            prompt += transcript(turns) + "\n\nAssistant:"
            return Request(prompts=(prompt,), api="completions", stop=("\nUser:",), **fields)
        history = tuple((m["role"], m["content"]) for m in turns[:-1])
        return Request(prompts=(turns[-1]["content"],), system=o.system, history=history, **fields)

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        conv = self.conversations[slot]
        answered = with_turn(conv, "assistant", choice.text.strip(), reached=self.turn)
        if choice.finish_reason == "length":
            detail = f"answer {self.turn} cut at max_tokens"
            return [Drop("turn", "truncated", detail, answered)]
        return [answered]
