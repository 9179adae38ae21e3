"""What a batch input file must hold: one request per line, `{"custom_id", "method": "POST",
"url", "body"}`, custom_ids unique, at most 50,000 lines and 200 MB. The stub refuses a bad file
when it is uploaded, with a 400 naming the line; whether each line's url is the batch's
endpoint is checked when a batch is validated, as OpenAI does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipeline.stub.faults import HTTPError

MAX_LINES, MAX_BYTES = 50_000, 200 * 1024 * 1024
ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}
URL_MISMATCH = "The URL provided for this request does not match the batch endpoint."


@dataclass(frozen=True)
class InputLine:
    number: int  # the line of the file, from 1
    custom_id: str
    url: str
    body: dict[str, Any]


def read_input(
    data: bytes, filename: str, max_lines: int = MAX_LINES, max_bytes: int = MAX_BYTES
) -> list[InputLine]:
    """The requests of a batch input file, or a 400 saying what is wrong and on which line."""
    if not filename.endswith(".jsonl"):
        raise HTTPError(400, "Invalid file format for Batch API. Must be .jsonl", param="file")
    if len(data) > max_bytes:
        message = f"A batch input file holds at most {max_bytes:,} bytes, not {len(data):,}"
        raise HTTPError(400, message, code="file_too_large", param="file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "Invalid file for Batch API. Must be utf-8 encoded") from None
    # Split on newlines only: JSON strings may hold U+2028, which str.splitlines() splits on.
    rows = [(n, raw) for n, raw in enumerate(text.split("\n"), 1) if raw.strip()]
    if not rows:
        raise HTTPError(400, "The batch input file is empty.", code="empty_file")
    if len(rows) > max_lines:
        message = f"A batch holds at most {max_lines:,} requests; this file has {len(rows):,}."
        raise HTTPError(400, message, code="too_many_tasks")
    lines = [_line(n, raw) for n, raw in rows]
    seen: set[str] = set()
    for line in lines:
        if line.custom_id in seen:
            message = f"custom_id {line.custom_id!r} is used more than once; each must be unique"
            raise _refused(line.number, "duplicate_custom_id", "custom_id", message)
        seen.add(line.custom_id)
    return lines


def _line(number: int, raw: str) -> InputLine:
    try:
        row = json.loads(raw)
    except ValueError:
        row = None
    if not isinstance(row, dict):
        message = "This line is not parseable as valid JSON."
        raise _refused(number, "invalid_json_line", None, message)
    custom_id, url, body = row.get("custom_id"), row.get("url"), row.get("body")
    if not isinstance(custom_id, str) or not custom_id:
        raise _refused(number, "missing_required_parameter", "custom_id", "custom_id is required")
    if row.get("method") != "POST":
        message = f"method must be 'POST', not {row.get('method')!r}"
        raise _refused(number, "invalid_value", "method", message)
    if url not in ENDPOINTS:
        message = f"url must be one of {', '.join(ENDPOINTS)} (the stub's), not {url!r}"
        raise _refused(number, "invalid_url", "url", message)
    if not isinstance(body, dict):
        raise _refused(number, "missing_required_parameter", "body", "body must be an object")
    return InputLine(number, custom_id, str(url), body)


def _refused(number: int, code: str, param: str | None, message: str) -> HTTPError:
    return HTTPError(400, f"Line {number}: {message}", code=code, param=param)


def endpoint_errors(lines: list[InputLine], endpoint: str) -> list[dict[str, Any]]:
    """The batch validation errors of lines whose url is not the batch's endpoint."""
    return [
        {"code": "invalid_url", "line": line.number, "message": URL_MISMATCH, "param": "url"}
        for line in lines
        if line.url != endpoint
    ]
