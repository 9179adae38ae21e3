"""Export: a run directory's kept examples (or any readable data) written in other formats."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.card import refresh_card
from pipeline.errors import ConfigError
from pipeline.formats import FORMATS, check_format, llama_factory, read_examples, write_examples
from pipeline.formats.registry import RUN_KEPT
from pipeline.types import Example


def check_exports(formats: list[str], option: str = "--export") -> None:
    """Before any work: every name known, every library a writer needs installed."""
    for name in formats:
        check_format(name, option, writing=True)


def targets(source: Path, formats: list[str], out: Path | None) -> list[tuple[str, Path]]:
    """Where each format goes: --out, or its usual name inside a run directory."""
    if out is not None:
        if len(formats) > 1:
            raise ConfigError("--out names one file; export one --format at a time with it")
        return [(formats[0], out)]
    if not (source.is_dir() and (source / RUN_KEPT).is_file()):
        raise ConfigError(
            f"{source} is not a run directory (no {RUN_KEPT}); pass --out PATH for the export"
        )
    return [(name, source / FORMATS[name].filename) for name in formats]


def export(
    source: Path,
    formats: list[str],
    out: Path | None = None,
    system: str | None = None,
    source_format: str | None = None,
    mapping: str | None = None,
    dataset_name: str | None = None,
    chat: str = "auto",
) -> list[tuple[Path, int]]:
    """Write the examples under `source` in every format; (path, examples) per file written.
    An export into a run directory brings its dataset card's configs up to date.

    `dataset_name` (default: the run directory's or file's name) and `chat` are LLaMA-Factory's
    (pipeline/formats/llama_factory.py): its entries' name, and when to add ShareGPT."""
    check_exports(formats, "--format")
    places = targets(source, formats, out)
    name = dataset_name or default_name(source)
    if llama_factory.FORMAT in formats:
        llama_factory.check_options(name, chat)
    examples = _examples(source, source_format, mapping)
    written = []
    for fmt, path in places:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_examples(examples, fmt, path, system=system, name=name, chat=chat)
        written.append((path, len(examples)))
    if out is None:
        refresh_card(source)
    return written


def _examples(source: Path, source_format: str | None, mapping: str | None) -> list[Example]:
    """A run directory's kept examples as the run wrote them (Example.to_dict: meta and a
    conversation's messages and all; as seeds they read as Alpaca), else any readable data."""
    kept = source / RUN_KEPT
    if source_format is None and mapping is None and kept.is_file():
        with kept.open(encoding="utf-8") as f:
            return [Example.from_dict(json.loads(line)) for line in f if line.strip()]
    return read_examples(source, source_format, mapping)


def default_name(source: Path) -> str:
    """What a dataset made of `source` is called: the run directory's name, a file's stem."""
    source = source.resolve()
    return source.name if source.is_dir() else source.stem
