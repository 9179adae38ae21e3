"""Stored chat completions, as OpenAI keeps them for `"store": true`: listed at
GET /v1/chat/completions by metadata and model, in creation order, a page at a time.

A client killed between the server sending an answer and the client committing it can find
that answer again by the metadata it sent, instead of paying for it twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pipeline.stub.faults import HTTPError

MAX_PAIRS, MAX_KEY_CHARS, MAX_VALUE_CHARS = 16, 64, 512  # OpenAI's limits on metadata
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
ORDERS = ("asc", "desc")


def stored_metadata(body: dict[str, Any]) -> dict[str, str] | None:
    """The metadata to keep a chat answer under, or None when the body does not ask to store it."""
    store, metadata = body.get("store"), body.get("metadata")
    if store is not None and not isinstance(store, bool):
        raise HTTPError(400, f"store must be a boolean, not {store!r}")
    if metadata is not None:
        _check_metadata(metadata)
    return dict(metadata or {}) if store else None


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise HTTPError(400, "metadata must be an object of string keys and string values")
    if len(metadata) > MAX_PAIRS:
        raise HTTPError(400, f"metadata holds at most {MAX_PAIRS} pairs, not {len(metadata)}")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise HTTPError(400, f"metadata[{key}] must be a string")
        if len(key) > MAX_KEY_CHARS or len(value) > MAX_VALUE_CHARS:
            raise HTTPError(
                400,
                f"metadata keys are at most {MAX_KEY_CHARS} characters and values at most "
                f"{MAX_VALUE_CHARS}; metadata[{key[:MAX_KEY_CHARS]}] is longer",
            )


@dataclass(frozen=True)
class ListQuery:
    """What a list call asks for: every metadata pair and the model must match."""

    metadata: tuple[tuple[str, str], ...] = ()
    model: str | None = None
    limit: int = DEFAULT_LIMIT
    order: str = "asc"
    after: str | None = None

    @classmethod
    def parse(cls, query_string: bytes) -> ListQuery:
        """Read `metadata[KEY]=VALUE`, model, limit, order and after; a bad value is a 400."""
        params = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        metadata = tuple(
            (name[len("metadata[") : -1], value)
            for name, value in params
            if name.startswith("metadata[") and name.endswith("]")
        )
        plain = {name: value for name, value in params if not name.startswith("metadata[")}
        limit = plain.get("limit", str(DEFAULT_LIMIT))
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            raise HTTPError(400, f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}")
        order = plain.get("order", "asc")
        if order not in ORDERS:
            raise HTTPError(400, f"order must be 'asc' or 'desc', not {order!r}")
        return cls(metadata, plain.get("model"), int(limit), order, plain.get("after"))


class CompletionStore:
    """Stored chat completions in creation order, indexed by id and by metadata pair."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._position: dict[str, int] = {}
        self._by_pair: dict[tuple[str, str], list[int]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, body: dict[str, Any], metadata: dict[str, str]) -> dict[str, Any]:
        """Keep a response body; return it with an id no other stored answer has.

        Bodies answering the same request share an id derived from the request; a stored
        one gets its creation number appended, so `after` names exactly one item."""
        position = len(self._items)
        body = {**body, "id": f"{body['id']}-{position + 1}"}
        self._items.append({**body, "metadata": dict(metadata)})
        self._position[body["id"]] = position
        for pair in metadata.items():
            self._by_pair.setdefault(pair, []).append(position)
        return body

    def page(self, query: ListQuery) -> dict[str, Any]:
        """One page of matching items, as OpenAI's list answer."""
        positions = self._matching(query)
        if query.order == "desc":
            positions.reverse()
        if query.after is not None:
            positions = self._after(positions, query)
        data = [self._items[p] for p in positions[: query.limit]]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(positions) > query.limit,
        }

    def _matching(self, query: ListQuery) -> list[int]:
        # The first metadata pair's index narrows the scan: recovery asks by one unique key.
        if query.metadata:
            candidates: Any = self._by_pair.get(query.metadata[0], [])
        else:
            candidates = range(len(self._items))
        return [p for p in candidates if self._matches(self._items[p], query)]

    @staticmethod
    def _matches(item: dict[str, Any], query: ListQuery) -> bool:
        if query.model is not None and item["model"] != query.model:
            return False
        return all(item["metadata"].get(k) == v for k, v in query.metadata)

    def _after(self, positions: list[int], query: ListQuery) -> list[int]:
        # By creation position, so the cursor item need not match the filter itself.
        start = self._position.get(query.after or "")
        if start is None:
            raise HTTPError(400, f"after: no stored chat completion has id {query.after!r}")
        if query.order == "asc":
            return [p for p in positions if p > start]
        return [p for p in positions if p < start]
