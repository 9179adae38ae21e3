"""The instruction datasets' own formats: readers and writers, one small module per format,
a registry by name and detection from a file's first record. See registry.py."""

from pipeline.formats.registry import (
    FORMATS,
    READABLE,
    WRITABLE,
    check_format,
    data_files,
    read_examples,
    read_items,
    write_examples,
)

__all__ = [
    "FORMATS",
    "READABLE",
    "WRITABLE",
    "check_format",
    "data_files",
    "read_examples",
    "read_items",
    "write_examples",
]
