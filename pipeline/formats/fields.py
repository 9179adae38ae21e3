"""Where a record sits in a file, and typed access to its fields with one-line errors that
name the file, the record (line, or path inside a task file) and the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from pipeline.errors import InputError
from pipeline.types import Example


def kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


class At(NamedTuple):
    """A record's place: its file, its line in a JSONL/list file, its path inside a document.
    (A tuple, not a dataclass: one is made per record, and tuples are cheap to make.)"""

    path: Path
    line: int | None = None
    prefix: str = ""

    def inside(self, name: str) -> At:
        return At(self.path, self.line, f"{self.prefix}{name}.")

    def label(self, key: str) -> str:
        return f"'{self.prefix}{key}'"

    def where(self) -> str:
        """How a second mention of this record names it, e.g. in a duplicate-id error."""
        if self.line is not None:
            return f"line {self.line}"
        return self.prefix.rstrip(".") or "the document"

    def fail(self, problem: str, fix: str) -> NoReturn:
        raise InputError(self.path, self.line, problem, fix)

    def obj(self, value: Any, fix: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if self.prefix:
            self.fail(f"'{self.prefix.rstrip('.')}' is {kind(value)}, not a JSON object", fix)
        self.fail(f"expected a JSON object, got {kind(value)}", fix)

    def text(self, obj: dict[str, Any], key: str, required: bool = False) -> str:
        """A string field, stripped; a missing optional one is ''."""
        value = obj.get(key)
        if type(value) is str and (not required or value.strip()):
            return value.strip()  # the common case, before any message is built
        label = self.label(key)
        fix = (
            f'set "{key}" to a non-empty JSON string' if required else f'make "{key}" a JSON string'
        )
        if value is None and not required:
            return ""
        if value is None:
            self.fail(f"missing {label}", fix)
        if not isinstance(value, str):
            self.fail(f"{label} is {kind(value)}, not a string", fix)
        if required and not value.strip():
            self.fail(f"{label} is empty", fix)
        return value.strip()

    def items(self, obj: dict[str, Any], key: str, fix: str, required: bool = True) -> list[Any]:
        """A list field; a missing optional one is []."""
        value = obj.get(key)
        if value is None and not required:
            return []
        if value is None:
            self.fail(f"missing {self.label(key)}", fix)
        if not isinstance(value, list):
            self.fail(f"{self.label(key)} is {kind(value)}, not a list", fix)
        return value

    def texts(self, obj: dict[str, Any], key: str, fix: str) -> list[str]:
        """A string or a non-empty list of strings (answers, definitions), stripped."""
        value = obj.get(key)
        if value is None:
            self.fail(f"missing {self.label(key)}", fix)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            got = "a list with a non-string item" if isinstance(value, list) else kind(value)
            self.fail(f"{self.label(key)} is {got}, not a list of strings", fix)
        if not value:
            self.fail(f"{self.label(key)} is an empty list", fix)
        return [v.strip() for v in value]

    def ident(self, obj: dict[str, Any], key: str = "id") -> str:
        """A record's own id, '' when it has none (the reader numbers it then)."""
        value = obj.get(key)
        if value is None or value == "":
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            fix = f'make "{key}" a string such as "seed_task_0", or drop it'
            self.fail(f"{self.label(key)} is {kind(value)}, not a string", fix)
        return str(value)


class Item(NamedTuple):
    """One example read from a file, with the place it came from."""

    at: At
    example: Example


def numbered(path: Path, records: Iterator[tuple[int, Any]], fix: str) -> Iterator[tuple[At, dict]]:
    """JSONL/list records as (place, object) pairs; a record that is not an object is an error."""
    for line, rec in records:
        at = At(path, line)
        yield at, at.obj(rec, fix)
