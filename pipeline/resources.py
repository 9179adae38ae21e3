"""Where the shipped data files (prompts/, seeds/) are, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The top-level `name` folder of a checkout, or its copy packed into the wheel."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"instructgen's {name}/ folder is missing; reinstall instructgen")


def data_file(name: str, filename: str) -> Path:
    return data_dir(name) / filename
