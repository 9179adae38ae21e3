"""The judge's prompt per rubric (prompts/score/<rubric>.txt) and how an example is shown in it:
its instruction, input and response, or a conversation turn by turn. The complexity rubric
grades the instruction alone, so it is shown no response."""

from __future__ import annotations

from pipeline.prompts import PromptTemplate, load_template
from pipeline.types import Example

# Every judge request carries it: the stub model knows a verdict is asked by it.
SYSTEM = "You grade instruction-tuning data on a rubric and reply only in the format asked."
SPEAKERS = {"system": "System", "user": "User", "assistant": "Assistant"}


def template(rubric: str) -> PromptTemplate:
    return load_template(f"score/{rubric}")


def show(example: Example, rubric: str) -> str:
    """The example as the judge reads it."""
    if example.messages:
        return _conversation(example, rubric)
    parts = [f"[Instruction]\n{example.instruction.strip()}"]
    if example.input.strip():
        parts.append(f"[Input]\n{example.input.strip()}")
    if rubric == "quality":
        parts.append(f"[Response]\n{example.output.strip()}")
    return "\n\n".join(parts)


def _conversation(example: Example, rubric: str) -> str:
    """A conversation: every turn for quality (the assistant's turns are graded); for
    complexity, the user's requests only."""
    turns = [m for m in example.messages if rubric == "quality" or m["role"] == "user"]
    lines = [f"{SPEAKERS[m['role']]}: {m['content'].strip()}" for m in turns]
    head = "[Conversation]" if rubric == "quality" else "[User requests]"
    return head + "\n" + "\n\n".join(lines)


def render(example: Example, rubric: str, prompt: PromptTemplate | None = None) -> str:
    return (prompt or template(rubric)).render(example=show(example, rubric))
