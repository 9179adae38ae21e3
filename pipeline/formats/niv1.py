"""Natural Instructions v1 task files: Title, Prompt, Definition, Things to Avoid, Emphasis &
Caution, Examples (Positive and Negative, each input, output, reason), Instances (input and a
list of outputs). Key names are matched without regard to case, as the released files vary.

The instruction is the definition followed by the things to avoid and the emphasis when the
task has them ("-" means none); instances and positive examples become examples, negative
examples are checked and left out, as in superni.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.fields import At, Item
from pipeline.formats.records import read_document
from pipeline.formats.superni import POSITIVE
from pipeline.types import Example

FIX = (
    'a Natural Instructions v1 task is {"Definition": "...", "Examples": {"Positive Examples": '
    '[{"input", "output", "reason"}]}, "Instances": [{"input", "output": ["..."]}]}'
)
SECTIONS = (("Things to Avoid", "Things to avoid"), ("Emphasis & Caution", "Emphasis & caution"))


def _keyed(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with its keys as this module spells them, whatever their case in the file."""
    canonical = {k.lower(): k for k in ("Title", "Prompt", "Definition", "Examples", "Instances")}
    canonical |= {name.lower(): name for name, _ in SECTIONS}
    canonical |= {f"{k} examples": f"{k.title()} Examples" for k in ("positive", "negative")}
    return {canonical.get(k.lower().strip(), k): v for k, v in doc.items()}


def read_niv1(path: Path) -> Iterator[Item]:
    at = At(path)
    doc = _keyed(at.obj(read_document(path), FIX))
    instruction = _instruction(at, doc)
    meta: dict[str, Any] = {"task": path.stem, "source": path.name}
    title = at.text(doc, "Title")
    if title:
        meta["title"] = title
    examples = _keyed(at.obj(doc.get("Examples", {}), FIX))
    for i, rec in enumerate(at.items(examples, "Positive Examples", FIX, required=False)):
        here = at.inside(f"Examples.Positive Examples[{i}]")
        rec = here.obj(rec, FIX)
        extra = {"kind": POSITIVE}
        reason = here.text(rec, "reason") or here.text(rec, "explanation")
        if reason:
            extra["explanation"] = reason
        out = " ".join(here.texts(rec, "output", FIX))
        ident = f"{path.stem}-pos{i}"
        example = Example(instruction, here.text(rec, "input"), out, ident, "seed", meta | extra)
        yield Item(here, example)
    for i, rec in enumerate(at.items(examples, "Negative Examples", FIX, required=False)):
        here = at.inside(f"Examples.Negative Examples[{i}]")
        here.texts(here.obj(rec, FIX), "output", FIX)
    for i, rec in enumerate(at.items(doc, "Instances", FIX)):
        here = at.inside(f"Instances[{i}]")
        rec = here.obj(rec, FIX)
        outputs = here.texts(rec, "output", FIX)
        more = {"outputs": outputs} if len(outputs) > 1 else {}
        ident = here.ident(rec) or f"{path.stem}-{i}"
        inp = here.text(rec, "input")
        yield Item(here, Example(instruction, inp, outputs[0], ident, "seed", meta | more))


def _instruction(at: At, doc: dict[str, Any]) -> str:
    definition = at.text(doc, "Definition", required=True)
    parts = [definition]
    for key, heading in SECTIONS:
        text = at.text(doc, key)
        if text and text != "-":
            parts.append(f"{heading}: {text}")
    return "\n\n".join(parts)
