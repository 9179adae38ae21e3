"""Export: a run directory's kept examples (or any readable data) written in other formats."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.formats import FORMATS, check_format, read_examples, write_examples
from pipeline.formats.registry import RUN_KEPT


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
) -> list[tuple[Path, int]]:
    """Write the examples under `source` in every format; (path, examples) per file written."""
    check_exports(formats, "--format")
    places = targets(source, formats, out)
    if source_format is None and mapping is None and (source / RUN_KEPT).is_file():
        source_format = "jsonl"  # a run's own rows, meta and all (as seeds it reads as Alpaca)
    examples = read_examples(source, source_format, mapping)
    written = []
    for name, path in places:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_examples(examples, name, path, system=system)
        written.append((path, len(examples)))
    return written
