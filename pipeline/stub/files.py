"""Files as OpenAI's Files API keeps them: File objects, their bytes and a listing, plus the
multipart/form-data reading an upload needs (the standard library's email parser reads the
part headers; the stub has no form library)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any
from urllib.parse import parse_qsl

from pipeline.stub.faults import HTTPError
from pipeline.types import content_hash

EXPIRES_AFTER = 30 * 86_400  # batch input and output files expire after 30 days, as OpenAI's do
MAX_LIST = 10_000
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        """The File object."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": self.created_at + EXPIRES_AFTER,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


class FileStore:
    """Every file in creation order; ids come from the seed and a count, so they repeat."""

    def __init__(self, seed: int = 0):
        self._files: dict[str, StoredFile] = {}
        self._seed, self._made = seed, 0

    def add(self, filename: str, purpose: str, data: bytes, now: float) -> StoredFile:
        self._made += 1
        file_id = "file-" + content_hash([self._seed, "file", self._made])[:24]
        stored = StoredFile(file_id, filename, purpose, data, int(now))
        self._files[file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        """The file, or OpenAI's 404 for an id it does not know."""
        if file_id not in self._files:
            raise HTTPError(404, f"No such File object: {file_id}", param="id")
        return self._files[file_id]

    def delete(self, file_id: str) -> dict[str, Any]:
        self.get(file_id)
        del self._files[file_id]
        return {"id": file_id, "object": "file", "deleted": True}

    def page(self, query_string: bytes) -> dict[str, Any]:
        """GET /v1/files: `purpose`, `limit` (default 10,000), `order` (default desc), `after`."""
        params = dict(parse_qsl(query_string.decode("latin-1")))
        limit, order = params.get("limit", str(MAX_LIST)), params.get("order", "desc")
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIST:
            raise HTTPError(400, f"limit must be an integer from 1 to {MAX_LIST}, not {limit!r}")
        if order not in ORDERS:
            raise HTTPError(400, f"order must be 'asc' or 'desc', not {order!r}")
        files = list(self._files.values())
        if order == "desc":
            files.reverse()
        if "after" in params:
            ids = [f.id for f in files]
            if params["after"] not in ids:
                raise HTTPError(400, f"after: no file has id {params['after']!r}", param="after")
            files = files[ids.index(params["after"]) + 1 :]
        purpose = params.get("purpose")
        files = [f for f in files if purpose is None or f.purpose == purpose]
        return list_page([f.to_dict() for f in files], int(limit))


def list_page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """OpenAI's cursor page of the first `limit` items."""
    data = items[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(items) > limit,
    }


def read_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename or None, bytes)."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise HTTPError(400, "send the upload as multipart/form-data with fields file and purpose")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = BytesHeaderParser().parsebytes(head)
        name = headers.get_param("name", header="content-disposition")
        fields[str(name)] = (headers.get_filename(), data.removesuffix(b"\r\n"))
    return fields
