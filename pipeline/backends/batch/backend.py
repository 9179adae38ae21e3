"""BatchingBackend: the online backend's place in the stack, with requests sent as batches.

A request the cache cannot answer is queued; once the engine has sent everything it wants
for now (the queue stays still for FLUSH_IDLE seconds) the queue becomes a wave: one input file
per endpoint (split at the provider's limits), one batch each. Each wave is polled to its end,
its result files are stored line by line, and each request waiting on it gets its answer (or,
for an error line, a TransientBackendError: the retry layer above asks again, and the request
joins the next wave; with --batch-fallback online it is asked online instead).

Which requests go in a wave is whatever the engine sends: a map stage sends its whole list, a
stage that generates until a target sends what its rate says is needed, then more if the answers
fall short. A request whose key is in a wave of an earlier session waits for that wave's batch:
no second batch ever holds it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Callable
from typing import Any

from pipeline.backends.batch.api import BatchAPI
from pipeline.backends.batch.store import NOT_SENT, STORED, TERMINAL, BatchStore, Wave
from pipeline.backends.openai.wire import chat_completion, text_completion
from pipeline.errors import BackendError, ConfigError, TransientBackendError
from pipeline.types import Completion, Request

FLUSH_IDLE = 1.0  # seconds without a new request before the queue is sent as a wave
# Requests the engine may have in flight at once in batch mode: a wave's worth.
BATCH_CONCURRENCY = 50_000
MAX_LINES, MAX_BYTES = 50_000, 200 * 1024 * 1024  # the provider's limits per input file
ENDPOINTS = {"chat": "/v1/chat/completions", "completions": "/v1/completions"}
FIRST_POLL = 1.0  # seconds; doubled after each look up to --poll-seconds
# Times a batch refused at validation is created again (waits of up to an hour: about a day)
# before its requests fail as transient errors (the retry layer then decides).
MAX_REVALIDATIONS = 30
# Validation failures that waiting cures (an account's limits); any other is the input's fault.
WAIT_CODES = frozenset({"token_limit_exceeded", "rate_limit_exceeded", "quota_exceeded"})
log = logging.getLogger("instructgen.batch")
# An error line's code that asking again cannot fix (a malformed request): a BackendError.
_PERMANENT = frozenset(range(400, 500)) - {408, 409, 429}

Waiter = tuple[Request, "asyncio.Future[Completion]"]


class BatchingBackend:
    def __init__(
        self,
        online: Any,
        store: BatchStore,
        run: str,
        poll_seconds: float = 30.0,
        fallback_online: bool = False,
        on_status: Callable[[Wave], None] | None = None,
        flush_idle: float = FLUSH_IDLE,
    ):
        self.flush_idle = flush_idle
        self.online, self.api, self.store, self.run = online, BatchAPI(online), store, run
        self.poll_seconds, self.fallback_online = poll_seconds, fallback_online
        self.on_status = on_status
        self.waves = {w.wave: w for w in store.waves()}
        self._wave_of = {k: w.wave for w in self.waves.values() if w.open for k in w.keys}
        self._queue: dict[str, list[Waiter]] = {}
        self._waiting: dict[str, list[Waiter]] = {}
        self._tasks: dict[int, asyncio.Task] = {}
        self._flush: asyncio.TimerHandle | None = None
        self._online_keys: set[str] = set()
        self.created = 0  # batches this session created

    # --- the Backend protocol -----------------------------------------------------------------

    async def complete(self, request: Request) -> Completion:
        key = request.key()
        if key in self._online_keys:
            return await self.online.complete(request)
        line = self.store.line(key)
        if line is not None:
            return self._answer(request, key, line)
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        wave = self._wave_of.get(key)
        if wave is not None:
            self._waiting.setdefault(key, []).append((request, future))
            self._run(self.waves[wave])
        else:
            self._queue.setdefault(key, []).append((request, future))
            self._schedule_flush()
        return await future

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await self.online.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.online, name)

    def status_line(self) -> str:
        """The open waves for a progress bar: 'batch 2 in_progress 1,200/5,000'."""
        parts = []
        for w in self.waves.values():
            if w.open and w.status not in ("intent",):
                c = w.counts or {}
                done = f" {c.get('completed', 0):,}/{c.get('total') or len(w.keys):,}" if c else ""
                parts.append(f"batch {w.wave} {w.status}{done}")
        return ", ".join(parts)

    def summary(self) -> dict[str, Any]:
        """stats.json's `batch`: the waves so far, the batches this session created, the
        requests each held and how each ended."""
        waves = list(self.waves.values())
        return {
            "waves": len(waves),
            "batches_created_now": self.created,
            "requests": sum(len(w.keys) for w in waves),
            "by_wave": [
                {
                    "wave": w.wave,
                    "batch": w.batch_id,
                    "status": w.status,
                    "requests": len(w.keys),
                    "counts": w.counts,
                }
                for w in waves
            ],
        }

    # --- waves ----------------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        self._flush = asyncio.get_running_loop().call_later(self.flush_idle, self._send_queue)

    def _send_queue(self) -> None:
        """The queue as waves: by endpoint, split at the provider's limits."""
        self._flush = None
        queued, self._queue = self._queue, {}
        by_endpoint: dict[str, list[str]] = {}
        for key, waiters in queued.items():
            by_endpoint.setdefault(ENDPOINTS[waiters[0][0].api], []).append(key)
        for endpoint, keys in by_endpoint.items():
            for chunk in self._chunks(keys, queued):
                self._new_wave(endpoint, chunk, queued)

    def _chunks(self, keys: list[str], queued: dict[str, list[Waiter]]) -> list[list[tuple]]:
        chunks: list[list[tuple]] = [[]]
        size = 0
        for key in keys:
            request = queued[key][0][0]
            body = {"custom_id": key, "method": "POST", "url": ENDPOINTS[request.api]}
            line = json.dumps({**body, "body": self.online._body(request)}, ensure_ascii=False)
            data = (line + "\n").encode()
            if chunks[-1] and (len(chunks[-1]) >= MAX_LINES or size + len(data) > MAX_BYTES):
                chunks.append([])
                size = 0
            chunks[-1].append((key, data))
            size += len(data)
        return [c for c in chunks if c]

    def _new_wave(self, endpoint: str, chunk: list[tuple], queued: dict) -> None:
        data = b"".join(d for _, d in chunk)
        sha = hashlib.sha256(data).hexdigest()
        keys = [k for k, _ in chunk]
        wave = self.store.intend(keys, sha, f"instructgen-{self.run}-{sha[:16]}.jsonl", endpoint)
        self.waves[wave.wave] = wave
        for key in keys:
            self._wave_of[key] = wave.wave
            self._waiting.setdefault(key, []).extend(queued[key])
        self._run(wave, data)

    def _run(self, wave: Wave, data: bytes | None = None) -> None:
        task = self._tasks.get(wave.wave)
        if task is None or task.done():
            self._tasks[wave.wave] = asyncio.ensure_future(self._follow(wave, data))

    async def _follow(self, wave: Wave, data: bytes | None) -> None:
        """Submit the wave (or find what an earlier session submitted), poll it to its end,
        store its lines and hand each waiting request its answer."""
        try:
            if await self._submitted(wave, data):
                del data  # up to 200 MB, and a batch may take a day
                batch = await self._poll(wave)
                for attempt in range(1, MAX_REVALIDATIONS + 1):
                    if not _refused(batch):
                        break
                    batch = await self._validate_again(wave, batch, attempt)
                self._store_results(wave, batch, await self._results(wave, batch))
            self._settle(wave)
        except Exception as e:  # every waiter hears why; the retry layer above decides
            self._fail(wave, e)
        except BaseException as e:  # a cancel or an interrupt: the waiters end with it
            self._fail(wave, e)
            raise

    async def _submitted(self, wave: Wave, data: bytes | None) -> bool:
        """Upload and create as needed; False when an earlier session's wave never reached the
        provider (its keys then join a new wave: no batch holds them)."""
        meta = {"instructgen_run": self.run, "instructgen_wave": str(wave.wave),
                "instructgen_file": wave.sha[:32]}  # fmt: skip
        if wave.file_id is None:
            file_id = await self.api.find_file(wave.filename) if data is None else None
            if file_id is None and data is None:
                self.store.set(wave, status=NOT_SENT)
                return False
            if file_id is None:
                file_id = await self.api.upload(wave.filename, data)  # type: ignore[arg-type]
            self.store.set(wave, file_id=file_id, status="uploaded")
        if wave.batch_id is None:
            found = await self.api.find_batch(meta) if data is None else None
            batch = found or await self.api.create(wave.file_id, wave.endpoint, meta)
            self.created += found is None
            self.store.set(wave, batch_id=batch["id"], status=batch["status"])
        return True

    async def _validate_again(self, wave: Wave, batch: dict, attempt: int) -> dict:
        """A batch the provider refused at validation ran nothing (its enqueued-token limit,
        say, which lasts until earlier batches finish): say why, wait, and create it again from
        the same file. Waits double from --poll-seconds to an hour."""
        wait = min(self.poll_seconds * 2**attempt, 3600.0)
        message = _batch_error(batch)["message"]
        log.warning("batch %s of wave %d refused: %s; again in %.0f s", batch["id"], wave.wave,
                    message, wait)  # fmt: skip
        await asyncio.sleep(wait)
        meta = {**(batch.get("metadata") or {}), "instructgen_attempt": str(attempt + 1)}
        again = await self.api.create(wave.file_id, wave.endpoint, meta)  # type: ignore[arg-type]
        self.created += 1
        self.store.set(wave, batch_id=again["id"], status=again["status"])
        return await self._poll(wave)

    async def _poll(self, wave: Wave) -> dict:
        delay = FIRST_POLL
        while True:
            try:
                batch = await self.api.retrieve(wave.batch_id)  # type: ignore[arg-type]
            except TransientBackendError:
                batch = None  # a timeout, a laptop asleep, a 5xx: look again later
            if batch is not None:
                counts = batch.get("request_counts") or {}
                self.store.set(wave, status=batch["status"], counts=counts)
                if self.on_status is not None:
                    self.on_status(wave)
                if batch["status"] in TERMINAL:
                    return batch
            await asyncio.sleep(delay * (0.9 + 0.2 * random.random()))
            delay = min(delay * 2, self.poll_seconds)

    async def _results(self, wave: Wave, batch: dict) -> dict[str, str]:
        """Every key's line: from the output and error files, else an error line saying why
        (a batch that failed validation, lines cut off by expiry or a cancel)."""
        lines: dict[str, str] = {}
        for file_id in (batch.get("output_file_id"), batch.get("error_file_id")):
            if file_id:
                for raw in (await self.api.content(file_id)).decode().splitlines():
                    if raw.strip():
                        lines[json.loads(raw)["custom_id"]] = raw
        why = _batch_error(batch)
        for key in wave.keys:
            lines.setdefault(key, json.dumps({"custom_id": key, "response": None, "error": why}))
        return lines

    def _store_results(self, wave: Wave, batch: dict, lines: dict[str, str]) -> None:
        keys = set(wave.keys)
        mine = {k: v for k, v in lines.items() if k in keys}
        self.store.put_lines(mine, wave, status=batch["status"] + STORED)

    def _settle(self, wave: Wave) -> None:
        for key in wave.keys:
            self._wave_of.pop(key, None)
            for request, future in self._waiting.pop(key, []):
                if future.done():
                    continue
                line = self.store.line(key)
                if line is None:  # never sent: ask again, into a new wave
                    future.set_exception(TransientBackendError("batch never created; again"))
                    continue
                try:
                    future.set_result(self._answer(request, key, line))
                except Exception as e:
                    future.set_exception(e)

    def _fail(self, wave: Wave, error: BaseException) -> None:
        for key in wave.keys:
            for _, future in self._waiting.pop(key, []):
                if not future.done():
                    future.set_exception(error)

    def _answer(self, request: Request, key: str, raw: str) -> Completion:
        """A stored line as the online path would have read its response, or the error."""
        line = json.loads(raw)
        response = line.get("response") or {}
        if response.get("status_code") == 200:
            body = response.get("body")
            read = chat_completion if request.api == "chat" else text_completion
            return read(body, request)
        self.store.forget(key)  # acted on once: asked again, it goes into a new wave
        if self.fallback_online:
            self._online_keys.add(key)
        error = line.get("error") or (response.get("body") or {}).get("error") or {}
        status = response.get("status_code")
        what = " ".join(str(p) for p in (status, error.get("code")) if p)
        message = f"batch line {what}: {error.get('message', '')}"
        if status in _PERMANENT or error.get("permanent"):
            raise BackendError(message)
        raise TransientBackendError(message)


def _refused(batch: dict) -> bool:
    """Failed at validation for a reason that passes (a limit of the account): the provider
    ran none of its lines, and the same file may be accepted later."""
    counts = batch.get("request_counts") or {}
    code = _batch_error(batch)["code"]
    return batch.get("status") == "failed" and not counts.get("completed") and code in WAIT_CODES


def _batch_error(batch: dict) -> dict[str, str]:
    status = batch.get("status")
    errors = ((batch.get("errors") or {}).get("data")) or []
    if status == "failed" and errors:
        first = errors[0]
        code = first.get("code") or "batch_failed"
        why = {"code": code, "message": first.get("message", "")}
        return why if code in WAIT_CODES else {**why, "permanent": True}
    code = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(status, "missing")
    return {"code": code, "message": f"no answer: the batch ended {status}"}


def check_batch_api(backend: Any) -> None:
    """Before anything is written: a ConfigError when the server has no Batch API. Asked on a
    thread of its own, as the caller may already run an event loop."""
    from concurrent.futures import ThreadPoolExecutor

    if not hasattr(backend, "_body"):
        raise ConfigError("--batch needs the OpenAI-compatible backend (--backend openai)")

    async def ask() -> None:
        api = BatchAPI(backend)
        try:
            await api.check()
        finally:
            await backend.aclose()  # the client of this thread's loop

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, ask()).result()


def batching(config: Any, online: Any, run_dir: Any, fingerprint: str) -> BatchingBackend:
    """The run's BatchingBackend, its waves kept in the run's cache database."""
    from pipeline.store import CACHE_FILE

    store = BatchStore(run_dir.file(CACHE_FILE))
    fallback = config.batch_fallback == "online"
    return BatchingBackend(online, store, fingerprint, config.poll_seconds, fallback)
