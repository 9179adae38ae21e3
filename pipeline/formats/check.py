"""The check of an input's --*-format and --map options, run when a config is built."""

from __future__ import annotations

from pipeline.errors import ConfigError
from pipeline.formats.mapped import parse_mapping
from pipeline.formats.registry import check_format


def check_input_format(fmt: str | None, mapping: str | None, flag: str) -> None:
    """A ConfigError for an unknown format, a bad mapping, or a mapping with another format."""
    if fmt is not None:
        check_format(fmt, flag)
    if mapping is not None:
        parse_mapping(mapping)
        if fmt not in (None, "mapped"):
            raise ConfigError(f"--map reads plain JSONL; drop {flag} {fmt} or --map")
