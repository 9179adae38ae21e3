"""Atomic replacement of whole folders (files: pipeline/store.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from pipeline.store import UMASK, atomic_write_bytes

__all__ = ["atomic_write_bytes", "replace_dir"]


def replace_dir(path: Path, fill: Callable[[Path], None]) -> None:
    """Fill a fresh folder beside `path`, then swap it in: no reader sees half an export.
    (Two renames: for a moment `path` may be missing, never partly written.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    old = path.parent / f".{path.name}.old"
    try:
        fill(fresh)
        os.chmod(fresh, 0o777 & ~UMASK)
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(fresh, path)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
