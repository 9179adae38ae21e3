"""The request cache: every answer is committed to SQLite the moment it arrives.

It is the resume mechanism: a re-run asks the cache first and pays only for what is missing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.types import Completion, Request, canonical_json

SCHEMA_VERSION = 1
_TABLES = """
CREATE TABLE IF NOT EXISTS instructgen_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    slot TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, slot TEXT NOT NULL, at REAL NOT NULL);
"""


def key_of(canonical: str) -> str:
    """The cache key of a request from its canonical JSON (what Request.key() computes)."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RequestCache:
    """SQLite in WAL mode: a commit survives kill -9 of the process (not a power cut)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        fix = f"move {self.path} away or start a new run with a new --out"
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "instructgen_meta" not in tables:
                raise ConfigError(f"{self.path}: not an instructgen request cache; {fix}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_TABLES)
            row = db.execute("SELECT value FROM instructgen_meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"{self.path}: unreadable request cache ({e}); {fix}") from None
        if row is None:
            db.execute("INSERT INTO instructgen_meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise ConfigError(
                f"{self.path}: cache schema {row[0]}, expected {SCHEMA_VERSION}; {fix}"
            )
        return db

    def get(self, key: str) -> Completion | None:
        row = self._db.execute("SELECT response FROM responses WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        return Completion.from_dict(json.loads(row[0]), cached=True)

    def put(self, request: Request, completion: Completion, canonical: str | None = None) -> None:
        """Commit one answer at once; a key already present keeps its first answer.

        `canonical` is the request's canonical JSON when the caller has it already. Its sent
        mark, if any, is left for tidy(): one statement per answer is what a commit costs."""
        canonical = canonical or request.canonical()
        self._db.execute(
            "INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key_of(canonical),
                request.slot,
                canonical,
                canonical_json(completion.to_dict()),
                completion.usage.prompt_tokens,
                completion.usage.completion_tokens,
                time.time(),
            ),
        )

    def mark_sent(self, key: str, slot: str) -> None:
        """Commit that a request is about to be sent: a session killed before its answer is
        committed leaves the key here, so the next one knows it was (probably) paid for."""
        self._db.execute("INSERT OR REPLACE INTO sent VALUES (?, ?, ?)", (key, slot, time.time()))

    def unmark(self, key: str) -> None:
        """Forget a mark: the request ended with an answer of sorts (an error), not in flight."""
        self._db.execute("DELETE FROM sent WHERE key=?", (key,))

    def sync(self) -> None:
        """Make every committed answer survive a power cut too (WAL commits are synced only at
        its checkpoints): a run's checkpoint must never hold answers its cache could lose."""
        self._db.execute("PRAGMA wal_checkpoint(FULL)")

    def tidy(self) -> None:
        """Forget the marks whose answer is in (at a session's start and end)."""
        self._db.execute("DELETE FROM sent WHERE key IN (SELECT key FROM responses)")

    def unanswered(self) -> dict[str, float]:
        """The keys sent by earlier sessions that never got an answer committed, with when they
        were sent. Marks whose answer is in are forgotten; the others stay until theirs is."""
        self.tidy()
        return dict(self._db.execute("SELECT key, at FROM sent"))

    def usage_by_model(self) -> dict[str, tuple[int, int]]:
        """Prompt and completion tokens of every answer paid for, by model: the spend of the
        run directory over all its sessions, as each answer recorded it."""
        totals: dict[str, list[int]] = {}
        rows = self._db.execute("SELECT request, prompt_tokens, completion_tokens FROM responses")
        for request, prompt, completion in rows:
            model = json.loads(request).get("model", "")
            pair = totals.setdefault(model, [0, 0])
            pair[0] += prompt
            pair[1] += completion
        return {m: (p, c) for m, (p, c) in totals.items()}

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._db.close()
