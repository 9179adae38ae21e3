"""The stub server's Files and Batch APIs, driven by the real openai SDK over 127.0.0.1; batch
time is a clock the test moves (BatchApi.clock), never a sleep."""

from __future__ import annotations

import json
import urllib.request

import openai
import pytest
from openai.types import Batch, FileObject

from pipeline.errors import ConfigError
from pipeline.stub.server import ServerOptions, StubApp, StubServer
from pipeline.types import Choice, Completion, Request, Usage

CHAT, COMPLETIONS = "/v1/chat/completions", "/v1/completions"
T0 = 1_700_000_000.0


class Clock:
    """The batches' time: `now` seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = T0 + seconds


def echo(request: Request) -> Completion:
    choices = tuple(Choice(f"re: {p}", "stop", i) for i, p in enumerate(request.prompts))
    return Completion(choices, Usage(3, 2), request.model)


def serve(stub: bool = False, **options) -> tuple[StubServer, Clock]:
    """A server answering with the echo model (or the shipped stub model) on a test clock."""
    app = StubApp(ServerOptions(**options), answer=None if stub else echo)
    clock = Clock()
    app.batches.clock = clock
    return StubServer(app=app), clock


def client_of(server: StubServer, key: str = "k") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0)


def chat_line(i: int, url: str = CHAT, **body) -> dict:
    messages = [{"role": "user", "content": f"say {i}"}]
    return {
        "custom_id": f"c{i}",
        "method": "POST",
        "url": url,
        "body": {"model": "stub", "messages": messages, **body},
    }


def completion_line(i: int) -> dict:
    body = {"model": "stub", "prompt": [f"one {i}", f"two {i}"], "max_tokens": 40}
    return {"custom_id": f"c{i}", "method": "POST", "url": COMPLETIONS, "body": body}


def jsonl(rows: list) -> bytes:
    return "".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows).encode()


def submit(client: openai.OpenAI, rows: list, endpoint: str = CHAT, **options) -> Batch:
    upload = client.files.create(file=("in.jsonl", jsonl(rows)), purpose="batch")
    return client.batches.create(
        input_file_id=upload.id, endpoint=endpoint, completion_window="24h", **options
    )


def lines_of(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).read().splitlines()]


def online(server: StubServer, line: dict) -> dict:
    """The online endpoint's answer to a line's body, sent with its custom_id as the slot."""
    client = client_of(server)
    headers = {"X-Instructgen-Slot": line["custom_id"]}
    resource = client.chat.completions if line["url"] == CHAT else client.completions
    raw = resource.with_raw_response.create(**line["body"], extra_headers=headers)
    return raw.http_response.json()


def without_created(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "created"}


@pytest.mark.parametrize(
    "rows, endpoint",
    [
        ([chat_line(i) for i in range(6)], CHAT),
        ([completion_line(i) for i in range(4)], COMPLETIONS),
    ],
)
def test_output_lines_are_the_online_answers_of_the_same_bodies(rows, endpoint):
    server, _ = serve(stub=True)
    with server:
        client = client_of(server)
        created = submit(client, rows, endpoint)
        done = client.batches.retrieve(created.id)
        output = lines_of(client, done.output_file_id)
        answers = {r["custom_id"]: without_created(online(server, r)) for r in rows}
    assert (created.status, done.status) == ("validating", "completed")
    counts = {"total": len(rows), "completed": len(rows), "failed": 0}
    assert done.request_counts.model_dump() == counts
    assert done.error_file_id is None
    assert sorted(line["custom_id"] for line in output) == sorted(answers)
    for line in output:
        assert line["id"].startswith("batch_req_") and line["error"] is None
        assert line["response"]["status_code"] == 200
        assert line["response"]["request_id"].startswith("req_")
        assert without_created(line["response"]["body"]) == answers[line["custom_id"]]


def test_objects_carry_every_field_of_the_sdk_types():
    server, _ = serve()
    with server:
        client = client_of(server)
        batch = submit(client, [chat_line(0)], metadata={"run": "r1"})
        raw_batch = client.batches.with_raw_response.retrieve(batch.id).http_response.json()
        raw_file = client.files.with_raw_response.retrieve(batch.input_file_id).http_response
    assert set(raw_batch) == set(Batch.model_fields)
    assert set(raw_file.json()) == set(FileObject.model_fields)
    assert raw_batch["id"].startswith("batch_") and raw_batch["object"] == "batch"
    assert raw_batch["metadata"] == {"run": "r1"} and raw_batch["completion_window"] == "24h"
    assert raw_batch["usage"]["total_tokens"] == 5


def test_files_upload_retrieve_list_content_and_delete():
    server, clock = serve()
    data = jsonl([chat_line(0), chat_line(1)])
    with server:
        client = client_of(server)
        uploaded = client.files.create(file=("in.jsonl", data), purpose="batch")
        got = client.files.retrieve(uploaded.id)
        content = client.files.content(uploaded.id).read()
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h"
        )
        client.batches.retrieve(batch.id)  # writes the output file
        inputs = [f.id for f in client.files.list(purpose="batch")]
        everything = [f.purpose for f in client.files.list()]
        deleted = client.files.delete(uploaded.id)
        with pytest.raises(openai.NotFoundError, match="No such File object"):
            client.files.retrieve(uploaded.id)
    assert uploaded.id.startswith("file-") and uploaded == got
    assert (uploaded.bytes, uploaded.filename) == (len(data), "in.jsonl")
    assert (uploaded.purpose, uploaded.status) == ("batch", "processed")
    assert uploaded.created_at == int(clock.now)
    assert content == data
    assert inputs == [uploaded.id]
    assert everything == ["batch_output", "batch"]  # newest first
    assert (deleted.id, deleted.deleted) == (uploaded.id, True)


MISSING = "missing_required_parameter"
TOO_LONG = json.dumps(chat_line(0, messages=[{"role": "user", "content": "x" * 1000}]))


@pytest.mark.parametrize(
    "upload, code, fragment",
    [
        (("in.jsonl", b"not json\n"), "invalid_json_line", "Line 1: This line is not parseable"),
        (("in.jsonl", jsonl([chat_line(0), "[1, 2]\n"])), "invalid_json_line", "Line 2"),
        (("in.jsonl", jsonl([chat_line(0), chat_line(0)])), "duplicate_custom_id", "'c0'"),
        (("in.jsonl", jsonl([{**chat_line(0), "custom_id": ""}])), MISSING, "custom_id"),
        (("in.jsonl", jsonl([{**chat_line(0), "method": "GET"}])), "invalid_value", "'POST'"),
        (("in.jsonl", jsonl([chat_line(0, url="/v1/embeddings")])), "invalid_url", "url must"),
        (("in.jsonl", jsonl([{**chat_line(0), "body": "hi"}])), MISSING, "body must"),
        (("in.jsonl", jsonl([chat_line(i) for i in range(4)])), "too_many_tasks", "at most 3"),
        (("in.jsonl", TOO_LONG.encode()), "file_too_large", "at most 1,000 bytes"),
        (("in.jsonl", b"\n \n"), "empty_file", "empty"),
        (("in.jsonl", "é".encode("latin-1")), None, "utf-8"),
        (("in.txt", jsonl([chat_line(0)])), None, "Must be .jsonl"),
        (jsonl([chat_line(0)]), None, "Must be .jsonl"),  # no name: the SDK sends "upload"
    ],
)
def test_bad_batch_input_files_are_refused_at_upload(upload, code, fragment):
    server, _ = serve()
    server.app.batches.max_lines, server.app.batches.max_bytes = 3, 1000
    with server:
        with pytest.raises(openai.BadRequestError) as refused:
            client_of(server).files.create(file=upload, purpose="batch")
        stats = server.app.stats
    assert refused.value.code == code
    assert fragment in refused.value.message
    assert stats.files_uploaded == 0


@pytest.mark.parametrize(
    "change, error, fragment",
    [
        ({"endpoint": "/v1/embeddings"}, openai.BadRequestError, "endpoint must be one of"),
        ({"completion_window": "1h"}, openai.BadRequestError, "'24h'"),
        ({"input_file_id": "file-nope"}, openai.NotFoundError, "No such File object"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, openai.BadRequestError, "16 pairs"),
        ({"metadata": {"k" * 65: "v"}}, openai.BadRequestError, "at most 64"),
        ({"metadata": {"k": "v" * 513}}, openai.BadRequestError, "512"),
        ({"metadata": {"k": 1}}, openai.BadRequestError, "must be a string"),
    ],
)
def test_bad_batch_creations_are_refused(change, error, fragment):
    server, _ = serve()
    with server:
        client = client_of(server)
        upload = client.files.create(file=("in.jsonl", jsonl([chat_line(0)])), purpose="batch")
        params = {"input_file_id": upload.id, "endpoint": CHAT, "completion_window": "24h"}
        with pytest.raises(error, match=fragment):
            client.batches.create(**{**params, **change})
    assert server.app.stats.batches_created == 0


def test_lines_for_another_endpoint_fail_the_batch_validation():
    server, _ = serve()
    with server:
        client = client_of(server)
        batch = client.batches.retrieve(submit(client, [chat_line(0), completion_line(1)]).id)
    assert batch.status == "failed" and batch.failed_at == int(T0)
    assert [e.model_dump() for e in batch.errors.data] == [
        {
            "code": "invalid_url",
            "line": 2,
            "message": "The URL provided for this request does not match the batch endpoint.",
            "param": "url",
        }
    ]
    assert batch.errors.object == "list"
    assert (batch.output_file_id, batch.error_file_id, batch.in_progress_at) == (None, None, None)
    assert server.app.stats.batch_answered == {}


def test_the_next_n_batches_fail_as_at_the_enqueued_token_limit():
    server, _ = serve(batch_validation_failures=2)
    with server:
        client = client_of(server)
        ids = [submit(client, [chat_line(0)]).id for _ in range(3)]
        batches = [client.batches.retrieve(i) for i in ids]
    assert [b.status for b in batches] == ["failed", "failed", "completed"]
    error = batches[0].errors.data[0]
    assert (error.code, error.line, error.param) == ("token_limit_exceeded", None, None)
    assert error.message.startswith("Enqueued token limit reached for stub in organization ")


@pytest.mark.parametrize(
    "seconds, status, completed",
    [
        (0.0, "validating", 0),
        (0.9, "validating", 0),
        (1.0, "in_progress", 0),
        (3.0, "in_progress", 2),
        (5.0, "in_progress", 4),
        (8.9, "in_progress", 7),
        (9.0, "finalizing", 8),
        (10.0, "completed", 8),
    ],
)
def test_a_batch_moves_through_its_statuses_with_time(seconds, status, completed):
    server, clock = serve(batch_seconds=10)
    with server:
        client = client_of(server)
        batch = submit(client, [chat_line(i) for i in range(8)])
        clock.at(seconds)
        seen = client.batches.retrieve(batch.id)
    assert (seen.status, seen.request_counts.completed) == (status, completed)
    assert seen.request_counts.total == (0 if status == "validating" else 8)
    assert server.app.stats.batch_answered.get(batch.id, 0) == completed
    stamps = {"in_progress": 1, "finalizing": 9, "completed": 10}
    for name, at in stamps.items():
        assert getattr(seen, f"{name}_at") == (int(T0) + at if seconds >= at else None)


@pytest.mark.parametrize(
    "action, status, code",
    [("expire", "expired", "batch_expired"), ("cancel", "cancelled", "batch_cancelled")],
)
def test_lines_done_before_expiry_or_cancel_stay_in_the_output_file(action, status, code):
    server, clock = serve(batch_seconds=10, batch_expire_after=5)
    rows = [chat_line(i) for i in range(8)]
    with server:
        client = client_of(server)
        batch = submit(client, rows)
        if action == "cancel":
            clock.at(3)
            cancelling = client.batches.cancel(batch.id)
            assert (cancelling.status, cancelling.cancelling_at) == ("cancelling", int(T0) + 3)
            clock.at(3.5)
            assert client.batches.retrieve(batch.id).status == "cancelling"
        clock.at(6)
        ended = client.batches.retrieve(batch.id)
        output = lines_of(client, ended.output_file_id)
        errors = lines_of(client, ended.error_file_id)
        with pytest.raises(openai.ConflictError, match=f"status '{status}'"):
            client.batches.cancel(batch.id)
    done = 4 if action == "expire" else 2
    assert ended.status == status
    assert ended.request_counts.model_dump() == {"total": 8, "completed": done, "failed": 8 - done}
    assert sorted(r["custom_id"] for r in output) == [f"c{i}" for i in range(done)]
    assert sorted(r["custom_id"] for r in errors) == [f"c{i}" for i in range(done, 8)]
    assert {(r["response"], r["error"]["code"]) for r in errors} == {(None, code)}
    assert getattr(ended, f"{status}_at") == int(T0) + (5 if action == "expire" else 4)


BAD_BODY = {"model": "stub", "messages": []}


@pytest.mark.parametrize(
    "options, rows, status, error",
    [
        ({"batch_error_rate": 1.0}, [chat_line(0)], 500, "server_error"),
        ({"strict_model": True}, [chat_line(0, model="other")], 404, "invalid_request_error"),
        ({"reasoning": True}, [chat_line(0, max_tokens=9)], 400, "invalid_request_error"),
        ({}, [{**chat_line(0), "body": BAD_BODY}], 400, "invalid_request_error"),
    ],
)
def test_failed_lines_go_to_the_error_file_with_the_online_error(options, rows, status, error):
    server, _ = serve(**options)
    with server:
        client = client_of(server)
        batch = client.batches.retrieve(submit(client, rows).id)
        (line,) = lines_of(client, batch.error_file_id)
    assert batch.status == "completed" and batch.output_file_id is None
    assert batch.request_counts.model_dump() == {"total": 1, "completed": 0, "failed": 1}
    assert line["response"]["status_code"] == status and line["error"] is None
    assert line["response"]["body"]["error"]["type"] == error


def test_a_share_of_lines_fails_and_every_line_is_in_one_file_once():
    server, _ = serve(batch_error_rate=0.3, seed=4)
    rows = [chat_line(i) for i in range(40)]
    with server:
        client = client_of(server)
        batch = client.batches.retrieve(submit(client, rows).id)
        output = lines_of(client, batch.output_file_id)
        errors = lines_of(client, batch.error_file_id)
    ids = sorted(r["custom_id"] for r in output + errors)
    assert ids == sorted(r["custom_id"] for r in rows)
    assert 0 < len(errors) < 40 and {r["response"]["status_code"] for r in errors} == {500}
    counts = batch.request_counts
    assert (counts.completed, counts.failed) == (len(output), len(errors))
    assert server.app.stats.batch_answered[batch.id] == len(output)


def test_files_are_deterministic_for_the_seed_and_shuffled():
    def output(seed: int) -> bytes:
        server, _ = serve(seed=seed, batch_error_rate=0.2)
        with server:
            client = client_of(server)
            batch = client.batches.retrieve(submit(client, [chat_line(i) for i in range(20)]).id)
            return client.files.content(batch.output_file_id).read()

    first = output(1)
    assert first == output(1) and first != output(2)
    order = [json.loads(line)["custom_id"] for line in first.splitlines()]
    assert order != sorted(order, key=lambda c: int(c[1:]))


def test_batches_are_listed_newest_first_a_page_at_a_time():
    server, _ = serve()
    with server:
        client = client_of(server)
        ids = [submit(client, [chat_line(0)]).id for _ in range(5)]
        first = client.batches.list(limit=2)
        second = client.batches.list(limit=2, after=first.data[-1].id)
        every = [b.id for b in client.batches.list(limit=2)]  # the SDK follows the pages
        last = client.batches.list(limit=2, after=ids[1])
    newest = ids[::-1]
    assert [b.id for b in first.data] == newest[:2] and first.has_more
    assert (first.first_id, first.last_id) == (newest[0], newest[1])
    assert [b.id for b in second.data] == newest[2:4] and second.has_more
    assert [b.id for b in last.data] == [ids[0]] and not last.has_more
    assert every == newest
    assert {b.status for b in first.data + second.data} == {"completed"}  # listing advances them


def _upload(client):
    return client.files.create(file=("in.jsonl", jsonl([chat_line(0)])), purpose="batch")


@pytest.mark.parametrize(
    "options, key, call, error",
    [
        ({"batches": False}, "k", _upload, openai.NotFoundError),
        ({"batches": False}, "k", lambda c: c.batches.list(), openai.NotFoundError),
        ({"batches": False}, "k", lambda c: c.batches.retrieve("batch_1"), openai.NotFoundError),
        ({"batches": False}, "k", lambda c: c.files.list(), openai.NotFoundError),
        ({}, "k", lambda c: c.batches.retrieve("batch_nope"), openai.NotFoundError),
        ({}, "k", lambda c: c.batches.cancel("batch_nope"), openai.NotFoundError),
        ({}, "k", lambda c: c.files.content("file-nope"), openai.NotFoundError),
        ({"api_key": "secret"}, "wrong", _upload, openai.AuthenticationError),
        ({"api_key": "secret"}, "wrong", lambda c: c.batches.list(), openai.AuthenticationError),
        ({}, "k", lambda c: c.get("/batches/b/cancel", cast_to=dict), openai.APIStatusError),
    ],
)
def test_refusals(options, key, call, error):
    server, _ = serve(**options)
    with server, pytest.raises(error) as refused:
        call(client_of(server, key))
    if options.get("batches") is False:
        assert "no route" in refused.value.message  # as vLLM, Ollama and llama.cpp answer
    if error is openai.APIStatusError:
        assert refused.value.status_code == 405


def test_the_counters_say_how_many_files_batches_and_lines():
    server, _ = serve(batch_error_rate=0.5, seed=2)
    with server:
        client = client_of(server)
        ids = [submit(client, [chat_line(i) for i in range(n)]).id for n in (3, 5)]
        batches = [client.batches.retrieve(i) for i in ids]
        client.batches.list()
        with urllib.request.urlopen(server.base_url.removesuffix("/v1") + "/stats") as r:
            stats = json.load(r)
    assert (stats["files_uploaded"], stats["batches_created"]) == (2, 2)
    answered = [stats["batch_answered"].get(b.id, 0) for b in batches]
    assert answered == [b.request_counts.completed for b in batches]
    assert stats["requests"] == 0  # batch calls are not online requests


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"batch_error_rate": 1.5}, "--batch-error-rate"),
        ({"batch_seconds": -1}, "--batch-seconds"),
        ({"batch_validation_failures": -1}, "--batch-validation-failures"),
        ({"batch_expire_after": 0}, "--batch-expire-after"),
    ],
)
def test_bad_batch_options_name_the_flag(options, fragment):
    with pytest.raises(ConfigError, match=fragment):
        ServerOptions(**options)


def test_the_stub_server_command_offers_the_batch_options(capsys):
    from pipeline.cli.main import main

    assert main(["stub-server", "--help"]) == 0
    shown = capsys.readouterr().out
    for flag in ("--no-batches", "--batch-seconds", "--batch-error-rate", "--batch-expire-after"):
        assert flag in shown
    assert "--batch-validation-failures" in shown
