"""One batch's life, driven by the clock and advanced whenever someone looks at it.

Over `seconds` of processing time a batch is validating for the first tenth, in_progress for
the next eight tenths (its lines answered in input order, evenly over that time, each once, as
its time comes), finalizing for the last tenth, then completed; with 0 seconds it is done at
the first look after its creation. A batch still unfinished at `expires` is expired: lines
answered by then are in the output file, the rest get `batch_expired` in the error file.
Cancelling stops answering at once and is cancelled a tenth of `seconds` later, the lines not
run getting `batch_cancelled`. Once a batch ends, request_counts add up: total is completed
plus failed, and every line is in exactly one of the two files."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.stub.batch_input import InputLine
from pipeline.stub.faults import HTTPError
from pipeline.types import content_hash

VALIDATING, FINALIZING = 0.1, 0.1  # shares of the processing time
ENDED = ("failed", "completed", "expired", "cancelled")
NOT_RUN = {
    "batch_expired": "This request could not be executed before the completion window expired.",
    "batch_cancelled": "This request was not executed because the batch was cancelled.",
}
STAMPS = ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")

Run = Callable[[InputLine], tuple[int, dict[str, Any]]]  # a line's status code and body
Save = Callable[[str, bytes], str]  # (filename, content) -> the id of the file written


@dataclass
class Job:
    """A batch: its input, its timeline and the result line of each line run so far."""

    id: str
    endpoint: str
    input_file_id: str
    lines: list[InputLine]
    created: float
    seconds: float
    expires: float
    seed: int = 0
    metadata: dict[str, str] | None = None
    model: str | None = None
    failure: list[dict[str, Any]] = field(default_factory=list)  # reported once validated
    status: str = "validating"
    stamps: dict[str, float] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str | None] = field(default_factory=dict)
    not_run: int = 0  # lines failed without running, once the batch has ended

    def advance(self, now: float, run: Run, save: Save) -> None:
        """Bring the batch up to `now`: validate it, run the lines due, end it when due."""
        if self.status == "cancelling":
            cancelled = self.stamps["cancelling"] + FINALIZING * self.seconds
            if now >= cancelled:
                self._end("cancelled", cancelled, "batch_cancelled", save)
        elif self.status not in ENDED:
            self._progress(now, run, save)

    def _progress(self, now: float, run: Run, save: Save) -> None:
        at = min(now, self.expires)  # nothing runs after the batch expires
        start, finalize, done = self._timeline()
        if self.status == "validating" and at >= start:
            self._validated(start)
            if self.status == "failed":
                return
        if self.status in ("in_progress", "finalizing"):
            self._run(self._due(at), run)
        if self.status == "in_progress" and at >= finalize:
            self.status, self.stamps["finalizing"] = "finalizing", finalize
        if self.status == "finalizing" and at >= done:
            self._end("completed", done, "", save)  # nothing is left
        elif now >= self.expires:
            self._end("expired", self.expires, "batch_expired", save)

    def cancel(self, now: float, run: Run, save: Save) -> None:
        """Stop answering lines; a batch that has ended cannot be cancelled (409)."""
        self.advance(now, run, save)
        if self.status in ENDED:
            raise HTTPError(409, f"Cannot cancel a batch with status '{self.status}'.")
        if self.status != "cancelling":
            self.status, self.stamps["cancelling"] = "cancelling", now

    def _timeline(self) -> tuple[float, float, float]:
        """When validation ends, when finalizing starts, when the batch is done."""
        t = self.seconds
        return self.created + VALIDATING * t, self.created + (1 - FINALIZING) * t, self.created + t

    def _validated(self, at: float) -> None:
        if self.failure:
            self.status, self.stamps["failed"] = "failed", at
        else:
            self.status, self.stamps["in_progress"] = "in_progress", at

    def _due(self, at: float) -> int:
        """How many lines are answered by `at`."""
        start, finalize, _ = self._timeline()
        if at >= finalize:
            return len(self.lines)
        return int(len(self.lines) * (at - start) / (finalize - start))

    def _run(self, due: int, run: Run) -> None:
        for line in self.lines[len(self.results) : due]:
            status, body = run(line)
            response = {"status_code": status, "request_id": self._id("req_", line), "body": body}
            self.results.append(self._result(line, response, None))

    def _result(self, line: InputLine, response: Any, error: Any) -> dict[str, Any]:
        ids = {"id": self._id("batch_req_", line), "custom_id": line.custom_id}
        return {**ids, "response": response, "error": error}

    def _id(self, prefix: str, line: InputLine) -> str:
        return prefix + content_hash([self.seed, self.id, prefix, line.custom_id])[:32]

    def _end(self, status: str, at: float, code: str, save: Save) -> None:
        """End the batch: the lines not run fail with `code`, and the two files are written."""
        self.status, self.stamps[status] = status, at
        left = self.lines[len(self.results) :]
        self.not_run = len(left)
        error = {"code": code, "message": NOT_RUN.get(code)}
        unrun = [self._result(line, None, error) for line in left]
        ok = [r for r in self.results if r["response"]["status_code"] == 200]
        failed = [r for r in self.results if r["response"]["status_code"] != 200] + unrun
        self.files = {
            "output_file_id": self._write(save, "output", ok),
            "error_file_id": self._write(save, "error", failed),
        }

    def _write(self, save: Save, kind: str, results: list[dict[str, Any]]) -> str | None:
        """A file of result lines, in an order of their own (deterministic for the seed)."""
        if not results:
            return None
        shuffled = list(results)
        random.Random(content_hash([self.seed, self.id, kind])).shuffle(shuffled)
        data = "".join(json.dumps(r) + "\n" for r in shuffled).encode()
        return save(f"{self.id}_{kind}.jsonl", data)

    def to_dict(self) -> dict[str, Any]:
        """The Batch object, with every field of the openai SDK's `Batch`."""
        failed = self.status == "failed"
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.failure} if failed else None,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.files.get("output_file_id"),
            "error_file_id": self.files.get("error_file_id"),
            "created_at": int(self.created),
            "expires_at": int(self.expires),
            **{f"{s}_at": _stamp(self.stamps.get(s)) for s in STAMPS},
            "request_counts": self._counts(),
            "usage": self._usage(),
            "metadata": self.metadata,
        }

    def _counts(self) -> dict[str, int]:
        if self.status in ("validating", "failed"):
            return {"total": 0, "completed": 0, "failed": 0}  # unknown until validated
        ok = sum(r["response"]["status_code"] == 200 for r in self.results)
        failed = len(self.results) - ok + self.not_run
        return {"total": len(self.lines), "completed": ok, "failed": failed}

    def _usage(self) -> dict[str, Any]:
        bodies = [r["response"]["body"] for r in self.results]
        usages = [b["usage"] for b in bodies if "usage" in b]
        prompt = sum(u["prompt_tokens"] for u in usages)
        completion = sum(u["completion_tokens"] for u in usages)
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }


def _stamp(at: float | None) -> int | None:
    return None if at is None else int(at)
