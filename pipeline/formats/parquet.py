"""Parquet, the same flat rows as table.py with a typed schema. Needs pyarrow (the optional
`parquet` extra); without it, asking for this format is a one-line error naming the install."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.formats.fields import At, Item
from pipeline.formats.files import atomic_write_bytes
from pipeline.formats.table import FIELDS, column_name, from_row, to_rows
from pipeline.types import Example

INSTALL = 'the parquet format needs pyarrow: pip install "instructgen[parquet]"'


def require() -> Any:
    """pyarrow's parquet module, or the error that says how to install it."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(INSTALL) from None
    return pq


def _schema(kinds: dict[str, str], talks: bool = False) -> Any:
    import pyarrow as pa

    types = {
        "str": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "list_str": pa.list_(pa.string()),
        "json": pa.string(),
    }
    fields = [pa.field(f, pa.string()) for f in FIELDS]
    fields += [pa.field(column_name(k, kind), types[kind]) for k, kind in kinds.items()]
    if talks:
        turn = pa.struct([("role", pa.string()), ("content", pa.string())])
        fields.insert(len(FIELDS), pa.field("messages", pa.list_(turn)))
    return pa.schema(fields)


def write_parquet(examples: list[Example], path: Path, **_: Any) -> None:
    pq = require()
    import pyarrow as pa

    kinds, rows = to_rows(examples)
    table = pa.Table.from_pylist(rows, schema=_schema(kinds, any(e.messages for e in examples)))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def read_parquet(path: Path) -> Iterator[Item]:
    pq = require()
    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as e:  # pyarrow's errors share no base class we could name here
        fix = "check that the file is a complete Parquet file"
        At(path).fail(f"not readable as Parquet ({type(e).__name__}: {e})".split("\n")[0], fix)
    for i, row in enumerate(rows):
        at = At(path, None, f"rows[{i}].")
        yield Item(at, from_row(at, row))
