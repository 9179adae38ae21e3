"""Seed tasks: self-instruct JSONL, Alpaca JSON or Alpaca JSONL, read into Examples."""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.resources import data_file
from pipeline.types import Example

MAX_LINE_BYTES = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
_JSON_FIX = (
    "make each line one complete JSON object (JSONL), or the whole file one JSON list of objects"
)
_RECORD_FIX = 'write each seed as {"instruction": "...", "input": "...", "output": "..."}'
_INSTANCES_FIX = (
    'give the task "instances": [{"input": "...", "output": "..."}] '
    '(or top-level "input" and "output" in every record, as Alpaca does)'
)


def load_seeds(path: str | Path | None = None) -> list[Example]:
    """Read seed tasks as Examples; None reads the shipped seeds/seed_tasks.jsonl."""
    path = data_file("seeds", "seed_tasks.jsonl") if path is None else Path(path)
    check_path(path)
    examples: list[Example] = []
    first_line: dict[str, int] = {}
    self_instruct: bool | None = None
    with closing(read_records(path)) as records:
        for index, (line, rec) in enumerate(records):
            if not isinstance(rec, dict):
                raise InputError(
                    path, line, f"expected a JSON object, got {_kind(rec)}", _RECORD_FIX
                )
            if self_instruct is None:
                # The first record fixes the schema, so a later slip is reported, not guessed at;
                # Alpaca records always carry input/output, self-instruct ones never do.
                self_instruct = "instances" in rec or not ("input" in rec or "output" in rec)
            example = _to_example(path, line, index, rec, self_instruct)
            if example.id in first_line:
                raise InputError(
                    path,
                    line,
                    f"duplicate id {example.id!r} (first used on line {first_line[example.id]})",
                    "give every seed a unique id, or drop the ids to number them automatically",
                )
            first_line[example.id] = line
            examples.append(example)
    if not examples:
        raise InputError(
            path, None, "no seed tasks (the file is empty)", _RECORD_FIX + ", one a line"
        )
    return examples


def check_path(path: Path) -> None:
    if path.is_dir():
        fix = f"pass a seed file such as {path / 'seed_tasks.jsonl'}"
        raise InputError(path, None, "is a directory", fix)
    if not path.exists():
        fix = "check the path, or omit it to use the built-in seeds"
        raise InputError(path, None, "no such file", fix)


def _to_example(path: Path, line: int, index: int, rec: dict[str, Any], si: bool) -> Example:
    instruction = _text(path, line, rec, "instruction", required=True)
    if si:
        inp, out = _first_instance(path, line, rec)
    elif "instances" in rec:
        raise InputError(
            path, line, "has 'instances' but the first record is in Alpaca's schema", _RECORD_FIX
        )
    else:
        inp, out = _text(path, line, rec, "input"), _text(path, line, rec, "output")
    meta = {key: rec[key] for key in ("name", "is_classification") if key in rec}
    meta["source"] = path.name
    seed_id = _seed_id(path, line, rec, index)
    return Example(instruction, inp, out, id=seed_id, method="seed", meta=meta)


def _first_instance(path: Path, line: int, rec: dict[str, Any]) -> tuple[str, str]:
    instances = rec.get("instances")
    if instances is None:
        raise InputError(path, line, "missing 'instances'", _INSTANCES_FIX)
    if not isinstance(instances, list):
        raise InputError(
            path, line, f"'instances' is {_kind(instances)}, not a list", _INSTANCES_FIX
        )
    if not instances:
        raise InputError(path, line, "'instances' is empty", _INSTANCES_FIX)
    first = instances[0]
    if not isinstance(first, dict) or "output" not in first:
        problem = f"'instances[0]' is {_kind(first)} without an 'output'"
        raise InputError(path, line, problem, _INSTANCES_FIX)
    where = "instances[0]."
    return _text(path, line, first, "input", where), _text(path, line, first, "output", where)


def _text(
    path: Path, line: int, obj: dict[str, Any], key: str, where: str = "", required: bool = False
) -> str:
    value, label = obj.get(key), f"'{where}{key}'"
    fix = f'set "{key}" to a non-empty JSON string' if required else f'make "{key}" a JSON string'
    if value is None and not required:
        return ""
    if value is None:
        raise InputError(path, line, f"missing {label}", fix)
    if not isinstance(value, str):
        raise InputError(path, line, f"{label} is {_kind(value)}, not a string", fix)
    if required and not value.strip():
        raise InputError(path, line, f"{label} is empty", fix)
    return value.strip()


def _seed_id(path: Path, line: int, rec: dict[str, Any], index: int) -> str:
    value = rec.get("id")
    if value is None or value == "":
        return f"seed_{index}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        fix = 'make "id" a string such as "seed_task_0", or drop it'
        raise InputError(path, line, f"'id' is {_kind(value)}, not a string", fix)
    return str(value)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def read_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, parsed record) pairs; a file whose first text is '[' is one JSON list."""
    lines = _lines(path)
    first = next(((n, t) for n, t in lines if t.strip()), None)
    if first is None:
        return
    rest = itertools.chain([first], lines)
    if first[1].lstrip().startswith("["):
        # The stdlib cannot stream a JSON list, so it is held whole; items still come one by one.
        yield from _list_records(path, first[0], "\n".join(t for _, t in rest))
        return
    for number, text in rest:
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as e:
            problem = f"malformed JSON ({e.msg}, column {e.colno})"
            raise InputError(path, number, problem, _JSON_FIX) from None


def _list_records(path: Path, first: int, text: str) -> Iterator[tuple[int, Any]]:
    """Items of a JSON list one at a time, each with the line it starts on."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(pos: int) -> int:
        return first + bisect.bisect_left(newlines, pos)

    decoder = json.JSONDecoder()
    pos = _WS.match(text, text.index("[") + 1).end()
    while not text.startswith("]", pos):
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            problem = f"malformed JSON ({e.msg}, column {e.colno})"
            raise InputError(path, first + e.lineno - 1, problem, _JSON_FIX) from None
        yield line_at(pos), item
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif not text.startswith("]", pos):
            raise InputError(path, line_at(pos), "expected ',' or ']' after a list item", _JSON_FIX)
    tail = _WS.match(text, pos + 1).end()
    if tail < len(text):
        raise InputError(path, line_at(tail), "extra text after the closing ']'", _JSON_FIX)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Decoded lines, numbered from 1, read one at a time so a huge line is never held whole."""
    with path.open("rb") as f:
        for number in itertools.count(1):
            raw = f.readline(MAX_LINE_BYTES + 2)
            if not raw:
                return
            body = raw.rstrip(b"\r\n")
            if len(body) > MAX_LINE_BYTES:
                fix = "shorten or split this record (seed tasks are a few hundred bytes)"
                raise InputError(path, number, "line is longer than 1 MB", fix)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as e:
                problem = f"not UTF-8 (byte {body[e.start]:#04x} at column {e.start + 1})"
                raise InputError(path, number, problem, "re-save the file as UTF-8") from None
            yield number, text.removeprefix("\ufeff") if number == 1 else text
