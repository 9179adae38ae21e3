"""Conversations <-> examples, shared by ShareGPT and OpenAI chat files.

Reading: each user turn answered by the next assistant turn becomes an example; the turns
before it go to meta["context"] as [{"role", "content"}], a leading system message to
meta["system"], the conversation's id to meta["conversation"] and the example's place in it
to meta["turn"]. Writing regroups examples of one conversation whose contexts continue it, so
a file read and written again gives the same conversations. An example that carries a whole
conversation (Example.messages, as the conversations method writes) is written as it is."""

from __future__ import annotations

from typing import Any

from pipeline.formats.fields import At, Item
from pipeline.types import Example

Turn = dict[str, str]  # {"role": "user" | "assistant" | "system", "content": str}


def user_text(example: Example) -> str:
    """One user message from an example: the instruction, a blank line, the input."""
    return f"{example.instruction}\n\n{example.input}" if example.input else example.instruction


def examples_from_turns(at: At, conv_id: str, turns: list[Turn]) -> list[Item]:
    system = turns[0]["content"] if turns and turns[0]["role"] == "system" else None
    history: list[Turn] = []
    pairs: list[tuple[list[Turn], Turn, Turn]] = []
    rest = turns[1:] if system is not None else turns
    i = 0
    while i < len(rest):
        turn = rest[i]
        answer = rest[i + 1] if i + 1 < len(rest) else None
        if turn["role"] == "user" and answer is not None and answer["role"] == "assistant":
            if turn["content"].strip() and answer["content"].strip():
                pairs.append((list(history), turn, answer))
            history += [turn, answer]
            i += 2
        else:  # an unanswered question or a stray answer: context only
            history.append(turn)
            i += 1
    items = []
    for t, (context, question, answer) in enumerate(pairs):
        meta: dict[str, Any] = {"conversation": conv_id, "turn": t}
        if context:
            meta["context"] = context
        if system is not None:
            meta["system"] = system
        meta["source"] = at.path.name
        ident = conv_id if len(pairs) == 1 else f"{conv_id}_{t}"
        question_text, answer_text = question["content"].strip(), answer["content"].strip()
        example = Example(question_text, "", answer_text, ident, "seed", meta)
        items.append(Item(at, example))
    return items


def _context(meta: dict[str, Any]) -> list[Turn]:
    """meta["context"] when it has our shape; anything else is not ours to rebuild from."""
    ctx = meta.get("context")
    ok = isinstance(ctx, list) and all(
        isinstance(t, dict)
        and set(t) == {"role", "content"}
        and t["role"] in ("user", "assistant", "system")
        and isinstance(t["content"], str)
        for t in ctx
    )
    return list(ctx) if ok else []


def conversations(examples: list[Example]) -> list[tuple[str, str | None, list[Turn]]]:
    """(id, system prompt, turns) per conversation, in order of first appearance."""
    turns: dict[str, list[Turn]] = {}
    systems: dict[str, str | None] = {}
    for n, e in enumerate(examples):
        if e.messages:  # a whole conversation in one example: its own turns, as they are
            head = e.messages[0]
            own = head["content"] if head["role"] == "system" else None
            name = _unique(e.id or f"conv_{n}", turns)
            turns[name], systems[name] = [dict(m) for m in e.messages[own is not None :]], own
            continue
        conv = e.meta.get("conversation")
        context, system = _context(e.meta), e.meta.get("system")
        system = system if isinstance(system, str) else None
        pair = [
            {"role": "user", "content": user_text(e)},
            {"role": "assistant", "content": e.output},
        ]
        so_far = turns.get(conv) if isinstance(conv, str) else None
        if so_far is not None and context[: len(so_far)] == so_far and systems[conv] == system:
            so_far += context[len(so_far) :] + pair
            continue
        base = conv if isinstance(conv, str) and conv else (e.id or f"conv_{n}")
        name = _unique(base, turns)
        turns[name], systems[name] = context + pair, system
    return [(name, systems[name], t) for name, t in turns.items()]


def _unique(base: str, taken: dict[str, Any]) -> str:
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    return name
