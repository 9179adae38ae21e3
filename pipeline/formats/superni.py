"""Super-NaturalInstructions task files: one JSON object per task with Definition (a list of
strings), Positive and Negative Examples (input, output, explanation) and Instances (id, input,
output as a list of acceptable answers), plus Categories and other descriptions.

Reading: every instance becomes an example (instruction: the definition; output: the first
acceptable answer, all of them in meta["outputs"] when there are several); so does every
positive example (meta["kind"] "positive_example", with its explanation). Negative examples
are checked but never become examples: their outputs are wrong on purpose."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.fields import At, Item
from pipeline.formats.files import replace_dir
from pipeline.formats.records import read_document
from pipeline.store import atomic_write
from pipeline.types import Example

FIX = (
    'a Super-NaturalInstructions task is {"Definition": ["..."], "Positive Examples": '
    '[{"input", "output", "explanation"}], "Instances": [{"id", "input", "output": ["..."]}]}'
)
POSITIVE = "positive_example"


def read_superni(path: Path) -> Iterator[Item]:
    at = At(path)
    doc = at.obj(read_document(path), FIX)
    definition = "\n\n".join(d for d in at.texts(doc, "Definition", FIX) if d)
    if not definition:
        at.fail("'Definition' is empty", FIX)
    base: dict[str, Any] = {"task": path.stem, "source": path.name}
    categories = [c for c in at.items(doc, "Categories", FIX, required=False) if isinstance(c, str)]
    if categories:
        base["categories"] = categories
    for i, rec in enumerate(at.items(doc, "Positive Examples", FIX, required=False)):
        yield _positive(at.inside(f"Positive Examples[{i}]"), rec, definition, base, i)
    for i, rec in enumerate(at.items(doc, "Negative Examples", FIX, required=False)):
        here = at.inside(f"Negative Examples[{i}]")
        here.text(here.obj(rec, FIX), "output", required=True)
    for i, rec in enumerate(at.items(doc, "Instances", FIX)):
        here = at.inside(f"Instances[{i}]")
        rec = here.obj(rec, FIX)
        outputs = here.texts(rec, "output", FIX)
        meta = {**base, "outputs": outputs} if len(outputs) > 1 else dict(base)
        ident = here.ident(rec) or f"{path.stem}-{i}"
        example = Example(definition, here.text(rec, "input"), outputs[0], ident, "seed", meta)
        yield Item(here, example)


def _positive(at: At, rec: Any, definition: str, base: dict[str, Any], i: int) -> Item:
    rec = at.obj(rec, FIX)
    meta = {**base, "kind": POSITIVE}
    explanation = at.text(rec, "explanation")
    if explanation:
        meta["explanation"] = explanation
    out = at.text(rec, "output", required=True)
    ident = f"{base['task']}-pos{i}"
    return Item(at, Example(definition, at.text(rec, "input"), out, ident, "seed", meta))


def task_files(examples: list[Example]) -> dict[str, dict[str, Any]]:
    """Task JSON per file name: one task per (meta task, instruction), named after the task
    (a task name in meta), else after its first example's id."""
    groups: dict[tuple[str, str], list[Example]] = {}
    for e in examples:
        task = e.meta.get("task")
        groups.setdefault((task if isinstance(task, str) else "", e.instruction), []).append(e)
    files: dict[str, dict[str, Any]] = {}
    for (task, instruction), members in groups.items():
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", task or members[0].id).strip("._") or "task"
        name, k = base, 1
        while name in files:
            k += 1
            name = f"{base}-{k}"
        files[name] = _task_json(instruction, members)
    return files


def _task_json(instruction: str, members: list[Example]) -> dict[str, Any]:
    categories = members[0].meta.get("categories")
    positives = [e for e in members if e.meta.get("kind") == POSITIVE]
    doc: dict[str, Any] = {"Definition": [instruction]}
    if isinstance(categories, list):
        doc["Categories"] = categories
    doc["Positive Examples"] = [
        {"input": e.input, "output": e.output, "explanation": e.meta.get("explanation", "")}
        for e in positives
    ]
    doc["Negative Examples"] = []
    doc["Instances"] = [
        {"id": e.id, "input": e.input, "output": _outputs(e)}
        for e in members
        if e.meta.get("kind") != POSITIVE
    ]
    return doc


def _outputs(e: Example) -> list[str]:
    """All acceptable answers when meta has them (first the example's own), else the output."""
    more = e.meta.get("outputs")
    ok = isinstance(more, list) and more and more[0] == e.output
    return list(more) if ok and all(isinstance(m, str) for m in more) else [e.output]


def write_superni(examples: list[Example], path: Path, **_: Any) -> None:
    """A folder of task files, one per task and instruction."""

    def fill(folder: Path) -> None:
        for name, doc in task_files(examples).items():
            text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
            atomic_write(folder / f"{name}.json", [text])

    replace_dir(path, fill)
