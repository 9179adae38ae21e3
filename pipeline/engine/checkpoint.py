"""The judge's state beside the outputs: a re-run continues from it instead of judging every
cached answer again, and a finished run re-run returns at once.

Written with the outputs (at every checkpoint and at the end): one JSON header line, then the
pickled state (the finished stages' results and the current stage's judge: the slot it reached,
the pool, the kept and dropped items, every count). The header says what the state belongs to
(the run's fingerprint, this format and package version), whether the run was over, which
settings ended it, the stats as written and the size and mtime of every output file, so a
finished run can be recognised from the header alone. Anything that does not check out (no
file, a torn or foreign one, another version, a digest that does not match) is no checkpoint:
the run replays its cache from the first answer, as runs did before checkpoints existed."""

from __future__ import annotations

import hashlib
import json
import pickle
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.store import RunDir, atomic_write_bytes

FILE = "checkpoint.pickle"
# Bumped whenever the pickled state changes shape: an older state is then replayed instead.
FORMAT = 1


@cache
def code_version() -> str:
    """The package's version and a digest of its source. A checkpoint restores objects of this
    code whole (filters, the gate), so after any change to it (a `git pull` in a clone keeps
    the version number) a checkpoint is no checkpoint and the run replays."""
    try:
        version = metadata.version("instructgen")
    except metadata.PackageNotFoundError:
        version = "unknown"
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{version}+{digest.hexdigest()[:16]}"


def stamps(run_dir: RunDir, names: tuple[str, ...]) -> dict[str, list[int] | None]:
    """Size and mtime of each output file (None: absent): a finished run is recognised by its
    files as it left them."""
    out: dict[str, list[int] | None] = {}
    for name in names:
        try:
            st = run_dir.file(name).stat()
        except OSError:
            out[name] = None
            continue
        out[name] = [st.st_size, st.st_mtime_ns]
    return out


def save(run_dir: RunDir, header: dict[str, Any], parts: list[bytes]) -> None:
    """Replace the checkpoint atomically: the header (with the parts' sizes and digest), then
    the parts (pickles: the judge's comes from its worker as it is, never copied again)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    header = {
        **header,
        "format": FORMAT,
        "version": code_version(),
        "parts": [len(part) for part in parts],
        "sha256": digest.hexdigest(),
    }
    line = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n"
    atomic_write_bytes(run_dir.file(FILE), line, *parts)


def read_header(run_dir: RunDir, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint's header if it belongs to this run and this version, else None."""
    try:
        with open(run_dir.file(FILE), "rb") as f:
            header = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    ours = (
        isinstance(header, dict)
        and header.get("format") == FORMAT
        and header.get("version") == code_version()
        and header.get("fingerprint") == fingerprint
        and isinstance(header.get("parts"), list)
    )
    return header if ours else None


def read_parts(run_dir: RunDir, header: dict[str, Any]) -> list[bytes] | None:
    """The parts under `header`, or None when the file is torn or does not match its digest."""
    try:
        with open(run_dir.file(FILE), "rb") as f:
            f.readline()
            parts = [f.read(size) for size in header["parts"]]
            extra = f.read(1)
    except (OSError, TypeError, ValueError):
        return None
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    whole = [len(p) for p in parts] == header["parts"] and not extra
    return parts if whole and digest.hexdigest() == header.get("sha256") else None


def unpickle(data: bytes) -> Any | None:
    try:
        return pickle.loads(data)
    except Exception:  # a state our code can no longer read is no checkpoint: replay
        return None


def as_replayed(stats: dict[str, Any]) -> dict[str, Any]:
    """Stats restored from a checkpoint, counted as a replay counts them: every answer judged
    so far came from the cache in this session."""
    out = dict(stats)
    requests = out.get("requests")
    if isinstance(requests, dict) and "total" in requests:
        out["requests"] = {**requests, "from_cache": requests["total"], "sent": 0}
    stages = out.get("stages")
    if isinstance(stages, dict):
        out["stages"] = {name: as_replayed(s) for name, s in stages.items()}
    return out
