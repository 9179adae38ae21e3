"""The run directory: run.json, the request cache and the outputs, each replaced atomically."""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from pipeline.errors import ConfigError
from pipeline.secrets import redact_url

RUN_FILE, CACHE_FILE = "run.json", "cache.sqlite"
KEPT, REMOVED, STATS, ALPACA = "kept.jsonl", "removed.jsonl", "stats.json", "alpaca.json"
LOCK_FILE = ".lock"
REPORT = "report.html"  # written by pipeline/report/ once a run is over
# atomic_write's temp files (mkstemp: ".NAME." + 8 random characters + ".tmp").
_TEMP_FILE = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _current_umask()


def atomic_write(path: Path, chunks: Iterable[str]) -> None:
    """Write a temp file beside `path`, fsync, rename: readers see old or new, never half."""

    def write(f: BinaryIO) -> None:
        for chunk in chunks:
            f.write(chunk.encode("utf-8"))

    _replace(path, write)


def atomic_write_bytes(path: Path, *parts: bytes) -> None:
    """atomic_write for binary data (Parquet, a checkpoint), written part after part."""
    _replace(path, lambda f: [f.write(part) for part in parts])


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~UMASK)  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# json.dumps with any option builds a new encoder per call; one shared encoder skips that.
_LINE = json.JSONEncoder(ensure_ascii=False).encode


def jsonl_lines(records: Iterable[dict[str, Any]]) -> Iterable[str]:
    for r in records:
        yield _LINE(r) + "\n"


class Recordable(Protocol):
    """What a run directory records of a config (pipeline/config.py's RunConfig)."""

    def to_dict(self) -> dict[str, Any]: ...

    def identity(self) -> dict[str, Any]: ...


class RunDir:
    """One run's folder. Holds an exclusive lock while a process works in it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock_fd: int | None = None

    def file(self, name: str) -> Path:
        return self.path / name

    def open(self, config: Recordable, fingerprint: str, record: bool = True) -> bool:
        """Create or reopen the folder; returns True when resuming. Refuses an unsafe resume.

        With `record=False` run.json is left as it is until `record()`: the caller checks the
        rest of the folder (the cache) first, so a refused run changes nothing."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {self.path} is a file; pass a directory path")
        run_file = self.file(RUN_FILE)
        # A run killed before its run.json was written leaves only its lock and temp files.
        if self.path.is_dir() and not run_file.exists() and not self._only_leftovers():
            raise ConfigError(
                f"--out {self.path} exists and is not an instructgen run directory "
                f"(no {RUN_FILE}); choose a new or empty --out"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        self._remove_stale_temp_files()
        resuming = run_file.exists()
        if resuming:
            self._check_resume(config, fingerprint)
        if record:
            self.record(config, fingerprint)
        return resuming

    def record(self, config: Recordable, fingerprint: str) -> None:
        """Write run.json: this run's config (no secrets) and fingerprint."""
        self._write_run_file(config, fingerprint)

    def _only_leftovers(self) -> bool:
        return all(p.name == LOCK_FILE or _TEMP_FILE.fullmatch(p.name) for p in self.path.iterdir())

    def _remove_stale_temp_files(self) -> None:
        """Temp files of writes a killed process never finished. Safe only under the lock: no
        other run writes here now (flock is released by the kernel when its holder dies)."""
        for p in self.path.iterdir():
            if _TEMP_FILE.fullmatch(p.name):
                p.unlink(missing_ok=True)

    def _lock(self) -> None:
        fd = os.open(self.file(LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(
                f"another instructgen process is working in {self.path}; wait for it to finish "
                "or use a new --out"
            ) from None
        self._lock_fd = fd

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _check_resume(self, config: Recordable, fingerprint: str) -> None:
        run_file = self.file(RUN_FILE)
        try:
            saved = json.loads(run_file.read_text(encoding="utf-8"))
            old_fingerprint, old_config = saved["fingerprint"], saved["config"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise ConfigError(
                f"{run_file}: unreadable run file; move the folder away or use a new --out"
            ) from None
        if old_fingerprint == fingerprint:
            return
        new = config.identity()
        changed = [
            f"{k}: {old_config.get(k)!r} -> {v!r}" for k, v in new.items() if old_config.get(k) != v
        ] or ["seed data or prompt template contents"]
        raise ConfigError(
            f"{self.path} was made with a different config ({'; '.join(changed[:4])}); re-run "
            "with the original options to resume, or pass a new --out to start a new run"
        )

    def _write_run_file(self, config: Recordable, fingerprint: str) -> None:
        cfg = config.to_dict()
        cfg["base_url"] = redact_url(cfg.get("base_url"))
        doc = {"instructgen_run": 1, "fingerprint": fingerprint, "config": cfg}
        atomic_write(self.file(RUN_FILE), [json.dumps(doc, indent=2, ensure_ascii=False) + "\n"])

    def write_outputs(self, kept: list, removed: list, stats: dict[str, Any]) -> list:
        """Replace every output file atomically; kept/removed hold Example/Drop records.
        Returns `kept`, as written."""
        atomic_write(self.file(KEPT), jsonl_lines(e.to_dict() for e in kept))
        atomic_write(self.file(REMOVED), jsonl_lines(d.to_dict() for d in removed))
        alpaca = [e.to_alpaca() for e in kept]
        atomic_write(self.file(ALPACA), [json.dumps(alpaca, indent=2, ensure_ascii=False) + "\n"])
        self.write_stats(stats)
        return kept

    def write_stats(self, stats: dict[str, Any]) -> None:
        atomic_write(self.file(STATS), [json.dumps(stats, indent=2, ensure_ascii=False) + "\n"])
