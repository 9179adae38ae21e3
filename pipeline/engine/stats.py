"""One stats object, counted at the point of decision; the funnel always adds up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pipeline.types import Completion


@dataclass
class Stats:
    generated: int = 0
    kept: int = 0
    dropped: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    requests: int = 0
    requests_cached: int = 0
    choices: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def count_completion(self, completion: Completion) -> None:
        self.requests += 1
        self.requests_cached += completion.cached
        self.choices += len(completion.choices)
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens

    def count_drop(self, filter_name: str, reason: str) -> None:
        self.generated += 1
        by_reason = self.dropped[filter_name]
        by_reason[reason] = by_reason.get(reason, 0) + 1

    def count_kept(self) -> None:
        self.generated += 1
        self.kept += 1

    @property
    def dropped_total(self) -> int:
        return sum(sum(r.values()) for r in self.dropped.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "funnel": {
                "generated": self.generated,
                "dropped": {f: dict(sorted(r.items())) for f, r in self.dropped.items()},
                "dropped_total": self.dropped_total,
                "kept": self.kept,
            },
            "requests": {
                "total": self.requests,
                "from_cache": self.requests_cached,
                "sent": self.requests - self.requests_cached,
                "choices": self.choices,
            },
            "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
        }
