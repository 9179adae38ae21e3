"""Reading JSON data files: JSONL or one JSON list (streamed item by item), or one JSON document
(a task file). Every problem is an InputError naming the file and the line."""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import InputError

MAX_LINE_BYTES = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
JSON_FIX = (
    "make each line one complete JSON object (JSONL), or the whole file one JSON list of objects"
)
DOCUMENT_FIX = "a task file is one JSON object; check the brackets and commas around that line"


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
            raise InputError(path, number, problem, JSON_FIX) from None


def read_document(path: Path) -> Any:
    """The whole file as one JSON value (Super-NaturalInstructions and NI v1 task files)."""
    text = "\n".join(t for _, t in _lines(path, max_bytes=None))
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        problem = f"malformed JSON ({e.msg}, column {e.colno})"
        raise InputError(path, e.lineno, problem, DOCUMENT_FIX) from None


def first_record(path: Path) -> tuple[int, Any] | None:
    """The first record of a JSONL or JSON-list file, or None when the file has no text.

    A file whose first line is a lone '{' is a pretty-printed document: its record is the
    whole document."""
    lines = _lines(path)
    first = next(((n, t) for n, t in lines if t.strip()), None)
    if first is None:
        return None
    text = first[1].lstrip()
    if text.startswith("["):
        return next(read_records(path), None)
    if text.rstrip() == "{":
        return first[0], read_document(path)
    return next(read_records(path), None)


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
            raise InputError(path, first + e.lineno - 1, problem, JSON_FIX) from None
        yield line_at(pos), item
        pos = _WS.match(text, end).end()
        if text.startswith(",", pos):
            pos = _WS.match(text, pos + 1).end()
        elif not text.startswith("]", pos):
            raise InputError(path, line_at(pos), "expected ',' or ']' after a list item", JSON_FIX)
    tail = _WS.match(text, pos + 1).end()
    if tail < len(text):
        raise InputError(path, line_at(tail), "extra text after the closing ']'", JSON_FIX)


def _lines(path: Path, max_bytes: int | None = MAX_LINE_BYTES) -> Iterator[tuple[int, str]]:
    """Decoded lines, numbered from 1, read one at a time so a huge line is never held whole."""
    with path.open("rb") as f:
        for number in itertools.count(1):
            raw = f.readline() if max_bytes is None else f.readline(max_bytes + 2)
            if not raw:
                return
            body = raw.rstrip(b"\r\n")
            if max_bytes is not None and len(body) > max_bytes:
                fix = "shorten or split this record (seed tasks are a few hundred bytes)"
                raise InputError(path, number, "line is longer than 1 MB", fix)
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as e:
                problem = f"not UTF-8 (byte {body[e.start]:#04x} at column {e.start + 1})"
                raise InputError(path, number, problem, "re-save the file as UTF-8") from None
            yield number, text.removeprefix("\ufeff") if number == 1 else text
