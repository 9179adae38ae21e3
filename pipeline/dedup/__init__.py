"""`instructgen dedup`: remove duplicates from any readable data, by ROUGE-L (Alpaca's gate,
exact), MinHash LSH (approximate, for millions of rows) or normalized-text equality."""

from pipeline.dedup.options import FIELDS, KEEPS, MODES, DedupOptions
from pipeline.dedup.run import dedup

__all__ = ["FIELDS", "KEEPS", "MODES", "DedupOptions", "dedup"]
