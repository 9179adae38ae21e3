"""Formats by name: what reads each, what writes each, the file name an export gets; and
reading a file or a folder of files into numbered, uniquely identified examples."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, InputError
from pipeline.formats.alpaca import read_alpaca, read_self_instruct, write_alpaca
from pipeline.formats.detect import detect
from pipeline.formats.dolly import read_dolly, write_dolly
from pipeline.formats.fields import At, Item
from pipeline.formats.llama_factory import FORMAT as LLAMA_FACTORY
from pipeline.formats.llama_factory import write_llama_factory
from pipeline.formats.mapped import parse_mapping, read_mapped
from pipeline.formats.niv1 import read_niv1
from pipeline.formats.openai_chat import read_openai, write_openai
from pipeline.formats.parquet import read_parquet, require, write_parquet
from pipeline.formats.sharegpt import read_sharegpt, write_sharegpt
from pipeline.formats.superni import read_superni, write_superni
from pipeline.formats.table import read_jsonl, write_jsonl
from pipeline.formats.unnatural import read_unnatural
from pipeline.types import Example

DATA_SUFFIXES = (".json", ".jsonl", ".parquet")
RUN_KEPT, RUN_FILE = "kept.jsonl", "run.json"


@dataclass(frozen=True)
class Format:
    name: str
    summary: str
    read: Callable[[Path], Iterator[Item]] | None = None
    write: Callable[..., None] | None = None
    filename: str = ""  # what an export into a run directory is called


FORMATS = {
    f.name: f
    for f in (
        Format("self-instruct", "self-instruct seed tasks (instruction, instances)",
               read_self_instruct),
        Format("alpaca", "Alpaca: JSON list or JSONL of instruction, input, output",
               read_alpaca, write_alpaca, "alpaca.json"),
        Format("superni", "Super-NaturalInstructions task files (a folder when written)",
               read_superni, write_superni, "superni"),
        Format("niv1", "Natural Instructions v1 task files", read_niv1),
        Format("sharegpt", "ShareGPT conversations {id, conversations: [{from, value}]}",
               read_sharegpt, write_sharegpt, "sharegpt.json"),
        Format("openai", "OpenAI chat fine-tuning JSONL {messages: [...]}",
               read_openai, write_openai, "openai.jsonl"),
        Format("dolly", "Dolly: instruction, context, response, category",
               read_dolly, write_dolly, "dolly.jsonl"),
        Format("unnatural", "Unnatural Instructions core/full JSONL", read_unnatural),
        Format("jsonl", "flat rows with meta_* columns, for datasets.load_dataset",
               read_jsonl, write_jsonl, "dataset.jsonl"),
        Format("parquet", "the same flat rows as Parquet (needs pyarrow)",
               read_parquet, write_parquet, "dataset.parquet"),
        Format(LLAMA_FACTORY, "LLaMA-Factory: Alpaca (and ShareGPT) files with their "
               "dataset_info.json entries (a folder)", None, write_llama_factory, LLAMA_FACTORY),
        Format("mapped", "plain JSONL or JSON list read through --map"),
    )
}  # fmt: skip
READABLE = tuple(FORMATS)
WRITABLE = tuple(n for n, f in FORMATS.items() if f.write is not None)


def check_format(name: str, option: str, writing: bool = False) -> None:
    """A ConfigError for a name no reader (or writer) has, or a writer missing its library."""
    names = WRITABLE if writing else READABLE
    if name not in names:
        raise ConfigError(f"unknown {option} {name!r}; use one of {', '.join(names)}")
    if name == "parquet":
        require()


def read_file(path: Path, fmt: str | None = None, mapping: str | None = None) -> Iterator[Item]:
    if mapping is not None and fmt not in (None, "mapped"):
        raise ConfigError(f"--map reads plain JSONL (format mapped), not {fmt!r}; drop one")
    if mapping is not None or fmt == "mapped":
        if mapping is None:
            raise ConfigError("the mapped format needs --map, e.g. --map instruction=q,output=a")
        return read_mapped(path, parse_mapping(mapping))
    if fmt is not None:
        check_format(fmt, "format")
    name = fmt or detect(path)
    reader = FORMATS[name].read
    assert reader is not None
    return reader(path)


def data_files(path: Path) -> list[Path]:
    """The files a path stands for: itself; a run directory's kept.jsonl; or a folder's data
    files (.json, .jsonl, .parquet) in name order."""
    if path.is_file():
        return [path]
    if not path.exists():
        fix = "check the path, or omit it to use the built-in seeds"
        raise InputError(path, None, "no such file", fix)
    if (path / RUN_KEPT).is_file():
        return [path / RUN_KEPT]
    if (path / RUN_FILE).exists():
        fix = "let the run finish (or re-run it to write its outputs), or pass a data file"
        raise InputError(path, None, f"is a run directory that has no {RUN_KEPT}", fix)
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DATA_SUFFIXES
    )
    if not files:
        problem = f"is a directory that has no {RUN_KEPT} and no .json, .jsonl or .parquet files"
        seed_file = path / "seed_tasks.jsonl"
        fix = f"pass a seed file such as {seed_file}, a run directory, or a folder of data files"
        raise InputError(path, None, problem, fix)
    return files


def read_items(path: Path, fmt: str | None = None, mapping: str | None = None) -> list[Item]:
    """Every example under `path`; one without an id gets seed_<n> (its place in the whole)."""
    items: list[Item] = []
    first: dict[str, At] = {}
    for file in data_files(path):
        for at, example in read_file(file, fmt, mapping):
            if not example.id:
                e = example  # dataclasses.replace costs a third of reading a large file
                example = Example(
                    e.instruction, e.input, e.output, f"seed_{len(items)}", e.method, e.meta
                )
            if example.id in first:
                _duplicate(at, example.id, first[example.id])
            first[example.id] = at
            items.append(Item(at, example))
    return items


def _duplicate(at: At, ident: str, earlier: At) -> None:
    where = earlier.where()
    if earlier.path != at.path:
        where += f" of {earlier.path.name}"
    preposition = "on" if earlier.line is not None else "at"
    problem = f"duplicate id {ident!r} (first used {preposition} {where})"
    if at.line is None:
        problem = f"{at.where()}: {problem}"
    at.fail(problem, "give every seed a unique id, or drop the ids to number them automatically")


def read_examples(path: Path, fmt: str | None = None, mapping: str | None = None) -> list[Example]:
    return [item.example for item in read_items(path, fmt, mapping)]


def write_examples(examples: list[Example], fmt: str, path: Path, **options: Any) -> None:
    """Write with the named format's writer (atomically: a file, or a folder swapped in)."""
    writer = FORMATS[fmt].write
    assert writer is not None
    writer(examples, path, **options)
