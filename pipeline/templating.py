"""Instruction templates for labelled tasks, Flan/P3 style: data files in prompts/templates/
(one JSON file per task type, about ten templates each), rendered zero-shot or few-shot, with
Flan's OPTIONS suffix listing the answer choices of a classification task.

A template has an `instruction` and an `input` layout, filled with $definition (the task's own
instruction) and $input (the instance's input); $input appears exactly once. An empty `input`
puts everything in the instruction, as Flan's single-string templates do. `answer` is the cue
before each answer in a few-shot prompt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from string import Template as _Text

from pipeline.errors import InputError
from pipeline.resources import data_dir
from pipeline.types import Example

TYPES = ("classification", "extraction", "qa", "summarization", "rewriting")
VARIABLES = frozenset({"definition", "input"})
FIX = (
    'write {"type": "classification", "templates": [{"id": "...", "instruction": "...", '
    '"input": "$input", "answer": "Answer:"}]} using only $definition and $input'
)


@dataclass(frozen=True)
class Template:
    id: str
    type: str
    instruction: str
    input: str = "$input"
    answer: str = "Answer:"

    @property
    def needs_definition(self) -> bool:
        return "definition" in _variables(self.instruction + "\n" + self.input)

    def layout(self, instance: Example) -> tuple[str, str]:
        """(instruction, input) for one instance, without options."""
        values = {"definition": instance.instruction, "input": instance.input}
        instruction = _Text(self.instruction).substitute(values).strip()
        return instruction, _Text(self.input).substitute(values).strip()


def _variables(text: str) -> set[str]:
    return set(_Text(text).get_identifiers())


def options_suffix(labels: list[str]) -> str:
    """Flan's suffix for classification inputs: the allowed answers, one a line."""
    return "\n\nOPTIONS:\n" + "\n".join(f"- {label}" for label in labels)


def render(
    template: Template, instance: Example, labels: list[str], demos: list[Example]
) -> tuple[str, str]:
    """(instruction, input) of one example: zero-shot without demos, else few-shot, where
    each demonstration is laid out like the query and followed by the answer cue and answer.
    Few-shot is for tasks whose instances share one definition: demos then fit the query's."""
    suffix = options_suffix(labels) if labels else ""
    separate = bool(template.input.strip())  # else the instruction holds the whole text

    def body(example: Example) -> str:
        instruction, text = template.layout(example)
        return text if separate else instruction

    instruction = template.layout(instance)[0]
    if demos:
        cue = template.answer or "Answer:"
        blocks = [f"{body(d)}{suffix}\n{cue} {d.output}" for d in demos]
        text = "\n\n".join([*blocks, f"{body(instance)}{suffix}\n{cue}"])
    else:
        text = body(instance) + suffix
    if separate and instruction:
        return instruction, text
    return text, ""


def load_templates(folder: Path | None = None) -> dict[str, list[Template]]:
    """Templates by task type from every *.json in `folder` (ours: prompts/templates)."""
    folder = data_dir("prompts") / "templates" if folder is None else Path(folder)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise InputError(folder, None, "has no template files (*.json)", FIX)
    by_type: dict[str, list[Template]] = {}
    seen: set[str] = set()
    for path in files:
        for template in _read_file(path):
            if template.id in seen:
                raise InputError(path, None, f"template id {template.id!r} is used twice", FIX)
            seen.add(template.id)
            by_type.setdefault(template.type, []).append(template)
    return by_type


def _read_file(path: Path) -> list[Template]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"not valid JSON ({e})".split("\n")[0], FIX) from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind not in TYPES:
        raise InputError(path, None, f"'type' is {kind!r}, not one of {', '.join(TYPES)}", FIX)
    rows = doc.get("templates")
    if not isinstance(rows, list) or not rows:
        raise InputError(path, None, "'templates' is not a non-empty list", FIX)
    return [_template(path, kind, i, row) for i, row in enumerate(rows)]


def _template(path: Path, kind: str, i: int, row: object) -> Template:
    fields = ("id", "instruction", "input", "answer")
    if not isinstance(row, dict) or not all(isinstance(row.get(f, ""), str) for f in fields):
        raise InputError(path, None, f"'templates[{i}]' is not an object of strings", FIX)
    if not row.get("id"):
        raise InputError(path, None, f"'templates[{i}].id' is missing", FIX)
    template = Template(
        row["id"], kind, row.get("instruction", ""), row.get("input", ""), row.get("answer", "")
    )
    text = template.instruction + "\n" + template.input
    where = f"template {template.id!r}"
    try:
        unknown = _variables(text) - VARIABLES
        count = sum(1 for m in _Text.pattern.finditer(text) if "input" in m.groups())
    except ValueError:
        raise InputError(path, None, f"{where}: a '$' that starts no variable", FIX) from None
    if unknown:
        raise InputError(path, None, f"{where}: unknown ${sorted(unknown)[0]}", FIX)
    if count != 1:
        raise InputError(path, None, f"{where}: $input appears {count} times, not once", FIX)
    return template
