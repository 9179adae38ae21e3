"""The waves of a batch run and their answers, in the run's cache database.

Each step of a wave is committed before the next is taken, so a session killed at any moment
leaves enough for the next one to find its batch instead of creating a second one: the intent
(the wave's keys and its input file's hash) before the upload, the file id after it, the batch
id after the create. Downloaded answers are kept line by line until the engine takes them."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_TABLES = """
CREATE TABLE IF NOT EXISTS batch_waves (
    wave INTEGER PRIMARY KEY,
    keys TEXT NOT NULL,
    sha TEXT NOT NULL,
    filename TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    file_id TEXT,
    batch_id TEXT,
    status TEXT NOT NULL,
    counts TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_lines (key TEXT PRIMARY KEY, line TEXT NOT NULL);
"""
# The provider's ends of a batch; a wave is over once its result lines are stored (its status
# then ends in STORED), or when it never reached the provider.
TERMINAL = ("completed", "failed", "expired", "cancelled")
STORED, NOT_SENT = " (stored)", "not sent"


@dataclass
class Wave:
    wave: int
    keys: list[str]
    sha: str
    filename: str
    endpoint: str
    file_id: str | None
    batch_id: str | None
    status: str  # intent | uploaded | <the provider's status> [+ STORED] | NOT_SENT
    counts: dict
    created: float

    @property
    def open(self) -> bool:
        return not self.status.endswith(STORED) and self.status != NOT_SENT


class BatchStore:
    def __init__(self, path: str | Path):
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_TABLES)

    def close(self) -> None:
        self._db.close()

    def waves(self) -> list[Wave]:
        rows = self._db.execute("SELECT * FROM batch_waves ORDER BY wave").fetchall()
        return [_wave(r) for r in rows]

    def intend(self, keys: list[str], sha: str, filename: str, endpoint: str) -> Wave:
        """Commit a wave about to be uploaded (the first step)."""
        (last,) = self._db.execute("SELECT COALESCE(MAX(wave), 0) FROM batch_waves").fetchone()
        row = (last + 1, json.dumps(keys), sha, filename, endpoint, None, None, "intent", "{}")
        self._db.execute(
            "INSERT INTO batch_waves VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, time.time())
        )
        return _wave((*row, time.time()))

    def set(self, wave: Wave, **fields: object) -> None:
        """Commit a wave's next step (file_id, batch_id, status, counts)."""
        for name, value in fields.items():
            setattr(wave, name, value)
            stored = json.dumps(value) if name == "counts" else value
            self._db.execute(f"UPDATE batch_waves SET {name}=? WHERE wave=?", (stored, wave.wave))

    def put_lines(self, lines: dict[str, str], wave: Wave | None = None, status: str = "") -> None:
        """Keep downloaded answer (or error) lines by key and, with `wave`, its new status, in
        one transaction (a kill between the two would download the wave again)."""
        self._db.execute("BEGIN")
        if wave is not None:
            wave.status = status
            self._db.execute("UPDATE batch_waves SET status=? WHERE wave=?", (status, wave.wave))
        self._db.executemany(
            "INSERT OR REPLACE INTO batch_lines VALUES (?, ?)", list(lines.items())
        )
        self._db.execute("COMMIT")

    def line(self, key: str) -> str | None:
        row = self._db.execute("SELECT line FROM batch_lines WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def forget(self, key: str) -> None:
        """An error line once it was acted on: the key goes into a later wave."""
        self._db.execute("DELETE FROM batch_lines WHERE key=?", (key,))


def _wave(row: tuple) -> Wave:
    wave, keys, sha, filename, endpoint, file_id, batch_id, status, counts, created = row
    return Wave(
        wave, json.loads(keys), sha, filename, endpoint, file_id, batch_id, status,
        json.loads(counts) if isinstance(counts, str) else counts, created,
    )  # fmt: skip
