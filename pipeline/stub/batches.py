"""OpenAI's Files and Batch APIs on the stub server: upload a JSONL of requests
(pipeline/stub/batch_input.py), create a batch, poll it (pipeline/stub/batch_job.py), read its
output and error files (pipeline/stub/files.py). Everything is in memory.

Each line is answered as the online endpoint answers its body, by the same model and wire
format, with the line's `custom_id` as the request's slot: the online slot comes from the
X-Instructgen-Slot header, which a batch line cannot carry, and the stub model keys its answer
(and picks its responder) on the Request, slot included. So a line whose custom_id is the
slot its request would have sent online gets exactly the online answer. What only the online
path does stays there: scripted faults, rate limits, latency and stored completions; a batch
has its own failures (ServerOptions' batch_* options), drawn per line from the seed.

The app calls `route` on uvicorn's event loop and nothing here awaits, so each call runs whole
before the next starts: the same thread-safety as the rest of the server, without locks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pipeline.stub.batch_input import ENDPOINTS, MAX_BYTES, MAX_LINES, InputLine, endpoint_errors
from pipeline.stub.batch_input import read_input as read_batch_input
from pipeline.stub.batch_job import Job
from pipeline.stub.faults import HTTPError
from pipeline.stub.files import FileStore, list_page, read_form
from pipeline.stub.options import ServerOptions, ServerStats
from pipeline.stub.store import ListQuery, stored_metadata
from pipeline.stub.wire import refuse_as_reasoning_model, request_from_body, response_body
from pipeline.types import Completion, Request, content_hash

PATHS = ("/v1/files", "/v1/batches")
WINDOW = 86_400  # the 24h completion window, in seconds
ROUTES = {
    ("POST", "files"): "_upload",
    ("GET", "files"): "_list_files",
    ("GET", "files/{id}"): "_file",
    ("DELETE", "files/{id}"): "_delete_file",
    ("GET", "files/{id}/content"): "_content",
    ("POST", "batches"): "_create",
    ("GET", "batches"): "_list",
    ("GET", "batches/{id}"): "_retrieve",
    ("POST", "batches/{id}/cancel"): "_cancel",
}
TOKEN_LIMIT = (
    "Enqueued token limit reached for {model} in organization org-stub. Limit: 2,000,000 "
    "enqueued tokens. Please try again once some in_progress batches have been completed."
)


@dataclass(frozen=True)
class Call:
    """One request to these routes: the id in its path, its query string, headers and body."""

    id: str
    query: bytes
    headers: dict[bytes, bytes]
    body: bytes


class BatchApi:
    """The /v1/files and /v1/batches routes. `clock` (time.time) and the input limits may be
    replaced in tests; `check_model` is the app's strict-model check."""

    def __init__(
        self,
        options: ServerOptions,
        answer: Callable[[Request], Completion],
        stats: ServerStats,
        check_model: Callable[[str], None],
    ):
        self.options, self.stats = options, stats
        self._answer, self._check_model = answer, check_model
        self.files = FileStore(options.seed)
        self.clock: Callable[[], float] = time.time
        self.max_lines, self.max_bytes = MAX_LINES, MAX_BYTES
        self._inputs: dict[str, list[InputLine]] = {}  # batch input files' lines, by file id
        self._jobs: dict[str, Job] = {}  # in creation order
        self._failures_left = options.batch_validation_failures

    def route(self, scope: dict[str, Any], path: str, body: bytes) -> Any:
        """Answer one call: a JSON object, or the bytes of a file's content."""
        parts = path.removeprefix("/v1/").split("/")
        shape = "/".join("{id}" if i == 1 else part for i, part in enumerate(parts))
        name = ROUTES.get((scope["method"], shape))
        if name is None:
            allowed = sorted(method for method, known in ROUTES if known == shape)
            if allowed:
                raise HTTPError(405, f"{path} takes {' or '.join(allowed)}")
            raise HTTPError(404, f"no route {scope['method']} {path}")
        batch_or_file = parts[1] if len(parts) > 1 else ""
        query = scope.get("query_string", b"")
        call = Call(batch_or_file, query, dict(scope["headers"]), body)
        return getattr(self, name)(call)

    def _upload(self, call: Call) -> dict[str, Any]:
        fields = read_form(call.headers.get(b"content-type", b"").decode("latin-1"), call.body)
        purpose = fields.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        if purpose != "batch":
            message = f"purpose must be 'batch' (the stub keeps batch input only), not {purpose!r}"
            raise HTTPError(400, message, param="purpose")
        if "file" not in fields:
            raise HTTPError(400, "the upload has no file field", param="file")
        filename, data = fields["file"]
        lines = read_batch_input(data, filename or "", self.max_lines, self.max_bytes)
        stored = self.files.add(filename or "", purpose, data, self.clock())
        self._inputs[stored.id] = lines
        self.stats.files_uploaded += 1
        return stored.to_dict()

    def _list_files(self, call: Call) -> dict[str, Any]:
        return self.files.page(call.query)

    def _file(self, call: Call) -> dict[str, Any]:
        return self.files.get(call.id).to_dict()

    def _delete_file(self, call: Call) -> dict[str, Any]:
        self._inputs.pop(call.id, None)  # a batch already created keeps its lines
        return self.files.delete(call.id)

    def _content(self, call: Call) -> bytes:
        return self.files.get(call.id).data

    def _create(self, call: Call) -> dict[str, Any]:
        file_id, endpoint, metadata = _create_params(_json_object(call.body))
        lines = self._input(file_id)
        now, opts = self.clock(), self.options
        model = str(lines[0].body.get("model") or opts.model)
        job = Job(
            id="batch_" + content_hash([opts.seed, "batch", len(self._jobs)])[:32],
            endpoint=endpoint,
            input_file_id=file_id,
            lines=lines,
            created=now,
            seconds=opts.batch_seconds,
            expires=now + (opts.batch_expire_after or WINDOW),
            seed=opts.seed,
            metadata=metadata,
            model=model,
            failure=self._validation_errors(lines, endpoint, model),
        )
        self._jobs[job.id] = job
        self.stats.batches_created += 1
        return job.to_dict()  # validating: the first look after this one moves it on

    def _input(self, file_id: str) -> list[InputLine]:
        self.files.get(file_id)
        if file_id not in self._inputs:
            message = f"{file_id} was not uploaded with purpose 'batch'"
            raise HTTPError(400, message, param="input_file_id")
        return self._inputs[file_id]

    def _validation_errors(
        self, lines: list[InputLine], endpoint: str, model: str
    ) -> list[dict[str, Any]]:
        """Why the batch will fail validation: lines for another endpoint, an injected failure."""
        errors = endpoint_errors(lines, endpoint)
        if self._failures_left > 0:  # --batch-validation-failures: the next N batches fail
            self._failures_left -= 1
            message = TOKEN_LIMIT.format(model=model)
            errors.append(
                {"code": "token_limit_exceeded", "line": None, "message": message, "param": None}
            )
        return errors

    def _retrieve(self, call: Call) -> dict[str, Any]:
        job = self._job(call.id)
        self._advance(job)
        return job.to_dict()

    def _list(self, call: Call) -> dict[str, Any]:
        query = ListQuery.parse(call.query)  # limit from 1 to 100 (default 20) and after
        for job in self._jobs.values():
            self._advance(job)
        ids = list(reversed(self._jobs))  # newest first
        if query.after is not None:
            ids = ids[ids.index(self._job(query.after).id) + 1 :]
        return list_page([self._jobs[i].to_dict() for i in ids], query.limit)

    def _cancel(self, call: Call) -> dict[str, Any]:
        job = self._job(call.id)
        now = self.clock()
        job.cancel(now, partial(self._run_line, job, now), self._save)
        return job.to_dict()

    def _job(self, batch_id: str) -> Job:
        if batch_id not in self._jobs:
            raise HTTPError(404, f"No such Batch object: {batch_id}", param="batch_id")
        return self._jobs[batch_id]

    def _advance(self, job: Job) -> None:
        now = self.clock()
        job.advance(now, partial(self._run_line, job, now), self._save)

    def _save(self, filename: str, data: bytes) -> str:
        return self.files.add(filename, "batch_output", data, self.clock()).id

    def _run_line(self, job: Job, now: float, line: InputLine) -> tuple[int, dict[str, Any]]:
        """A line's status code and body: a drawn 500, the online error, or the online answer."""
        draw = int(content_hash([self.options.seed, job.id, line.custom_id])[:13], 16) / 16**13
        try:
            if draw < self.options.batch_error_rate:
                raise HTTPError(500, "The server had an error processing your request.")
            body = self._online_body(ENDPOINTS[line.url], line.body, line.custom_id)
        except HTTPError as exc:
            return exc.status, exc.body()
        self.stats.batch_answered[job.id] += 1
        return 200, {**body, "created": int(now)}

    def _online_body(self, api: str, body: dict[str, Any], slot: str) -> dict[str, Any]:
        """What the online endpoint answers for `body` sent with `slot` (StubApp._complete)."""
        if self.options.reasoning and api == "chat":
            refuse_as_reasoning_model(body)
        slot = "" if self.options.ignore_slot else slot
        request = request_from_body(api, body, slot)
        self._check_model(request.model)
        key = content_hash({"body": body, "slot": slot})
        return response_body(api, key, request.model, self._answer(request))


def _create_params(body: dict[str, Any]) -> tuple[str, str, dict[str, str] | None]:
    """The input file id, endpoint and metadata of POST /v1/batches, or a 400 naming the field."""
    file_id, endpoint = _required(body, "input_file_id"), _required(body, "endpoint")
    if endpoint not in ENDPOINTS:
        message = f"endpoint must be one of {', '.join(ENDPOINTS)}, not {endpoint!r}"
        raise HTTPError(400, message, code="invalid_value", param="endpoint")
    if _required(body, "completion_window") != "24h":
        message = "completion_window must be '24h', the only window there is"
        raise HTTPError(400, message, code="invalid_value", param="completion_window")
    metadata = body.get("metadata")
    if metadata is not None:
        stored_metadata({"store": True, "metadata": metadata})  # OpenAI's one metadata rule
    return file_id, endpoint, metadata


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise HTTPError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise HTTPError(400, "body must be a JSON object")
    return body


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        message = f"Missing required parameter: '{name}'."
        raise HTTPError(400, message, code="missing_required_parameter", param=name)
    return value
