"""The stub model's answer to Self-Instruct's prompt: continue Alpaca's numbered list of tasks,
with the faults a real model makes (a task under the wrong number, a missing label, a copied
demonstration, prose instead of a list)."""

from __future__ import annotations

import random
import re

from pipeline.stub.ask import Ask, Responder
from pipeline.stub.text import Task, make_task

_NEXT_TASK = re.compile(r"(\d+)\.\s*Instruction:\s*$")
_DEMO = re.compile(
    r"###\n(\d+)\. Instruction: (.*?)\n\1\. Input:\n(.*?)\n\1\. Output:\n(.*?)\n(?=###)", re.S
)
LAST_TASK = 20  # Alpaca asks for 20 tasks; its stop sequences cut the answer at this header


def is_self_instruct(prompt: str) -> bool:
    return _NEXT_TASK.search(prompt[-40:]) is not None


def _block(k: int, task: Task, label: int | None = None, output_label: bool = True) -> str:
    n = k if label is None else label
    instruction, given, output = task
    said = f"{n}. Output:\n" if output_label else ""
    given = given or "<noinput>"
    return f"{n}. Instruction: {instruction}\n{n}. Input:\n{given}\n{said}{output}\n###\n"


def continue_tasks(ask: Ask) -> str:
    r = ask.rng
    first = int(_NEXT_TASK.search(ask.prompt[-40:])[1])  # type: ignore[index]
    last = max(LAST_TASK, first + 1)
    if ask.fault == "malformed" and r.random() < 1 / 3:
        return " " + _prose(r)
    tasks = [make_task(r) for _ in range(first, last)]
    j = r.randrange(len(tasks))
    labels, has_output = [None] * len(tasks), [True] * len(tasks)
    if ask.fault == "malformed" and r.random() < 0.5:
        labels[j] = first + j + 1  # a task written under the wrong number
    elif ask.fault == "malformed":
        has_output[j] = False  # the Output label left out
    elif ask.fault == "duplicate":
        demos = [
            (m[2], "" if m[3] == "<noinput>" else m[3], m[4]) for m in _DEMO.finditer(ask.prompt)
        ]
        if demos and r.random() < 0.5:
            tasks[j] = r.choice(demos)  # a demonstration copied verbatim
        elif len(tasks) > 1:
            j = max(j, 1)
            tasks[j] = tasks[j - 1]  # the same task twice in a row
    body = "".join(_block(first + i, t, labels[i], has_output[i]) for i, t in enumerate(tasks))
    text = body[len(f"{first}. Instruction:") :] + f"{last}. Instruction:"
    if ask.request.api == "chat" and r.random() < 1 / 3:
        text = f"{first}. Instruction:{text}"  # chat models often repeat the header they continue
    return text


def _prose(r: random.Random) -> str:
    instruction, _, output = make_task(r)
    return f"Sure! Here are some ideas. One task could be: {instruction} A good answer: {output}"


RESPONDERS = (Responder("self-instruct", is_self_instruct, continue_tasks),)
