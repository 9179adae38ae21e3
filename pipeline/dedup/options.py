"""The settings of one dedup, validated when they are built."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline.errors import ConfigError

MODES = ("rouge", "minhash", "exact")
FIELDS = ("instruction", "instruction+input", "output")
KEEPS = ("first", "longest")
NUM_PERM = 128


@dataclass(frozen=True)
class DedupOptions:
    """`by`: how rows are compared; a row is dropped when its best score against the rows kept
    before it is above `threshold` (ROUGE-L F for rouge, estimated Jaccard for minhash)."""

    by: str = "rouge"
    threshold: float = 0.7
    field: str = "instruction"
    keep: str = "first"
    similarity: bool = False
    ngram: int = 3

    def __post_init__(self) -> None:
        rules = [
            (self.by in MODES, f"--by must be one of {', '.join(MODES)}, got {self.by!r}"),
            (self.field in FIELDS, f"--field must be one of {', '.join(FIELDS)}"),
            (self.keep in KEEPS, f"--keep must be one of {', '.join(KEEPS)}, got {self.keep!r}"),
            (0.0 <= self.threshold <= 1.0, f"--threshold must be 0..1, got {self.threshold}"),
            (1 <= self.ngram <= 10, f"--ngram must be 1 to 10 words, got {self.ngram}"),
            (
                not self.similarity or self.by == "rouge",
                "--similarity is for --by rouge; drop it or use --by rouge",
            ),
        ]
        for ok, message in rules:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.by == "minhash":
            d["num_perm"] = NUM_PERM
        else:
            del d["ngram"]
        return d
