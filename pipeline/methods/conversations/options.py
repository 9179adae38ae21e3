"""The conversations method's own options (the shared settings are in pipeline/config.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import ConfigError
from pipeline.formats.check import check_input_format
from pipeline.options import MethodOptions, Rule, Sampling, option

MODES = ("simulate", "self-chat")
MAX_TURNS = 20
_TURNS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_turns(spec: str) -> tuple[int, int]:
    """'2-5' -> (2, 5); '3' -> (3, 3): the range of user turns a conversation is planned at."""
    m = _TURNS.match(spec)
    if m is None:
        raise ConfigError(f"--turns must be N or LOW-HIGH, e.g. 2-5; got {spec!r}")
    low, high = int(m[1]), int(m[2] or m[1])
    if not 1 <= low <= high <= MAX_TURNS:
        raise ConfigError(f"--turns must lie within 1-{MAX_TURNS} with LOW <= HIGH; got {spec!r}")
    return low, high


@dataclass(frozen=True)
class ConversationsOptions(MethodOptions):
    # The user simulator's and the self-chat transcript's requests; answers have their own
    # --answer-max-tokens. UltraChat and Baize sampled chat models at their usual settings.
    SAMPLING = Sampling(temperature=0.9, top_p=0.95, max_tokens=512)

    source: str | None = option(
        None,
        "Openings: a file or folder in any readable format, or a run directory of any method "
        "(default: the built-in seed tasks). Each example's instruction opens a conversation.",
        flag="--from",
        path=True,
        exists=False,  # a schedule's --from is often what an earlier scheduled run writes
    )
    from_format: str | None = option(None, "Format of --from (default: detected).")
    from_map: str | None = option(
        None, "Field mapping for plain JSONL, e.g. instruction=q,output=a.", flag="--map"
    )
    turns: str = option(
        "2-5", "User turns per conversation, drawn per conversation: N or LOW-HIGH."
    )
    mode: str = option(
        "simulate",
        "simulate (UltraChat: a user-simulator request and an answer request per turn) or "
        "self-chat (Baize: one request writes the whole transcript).",
    )
    min_turns: int = option(
        2,
        "A conversation cut short (a failed turn, an early end) is kept with this many user "
        "turns answered.",
    )
    limit: int | None = option(None, "Open conversations from the first N examples only.")
    sample: int | None = option(None, "Open conversations from a seeded sample of N examples.")
    reanswer: bool = option(False, "Answer the opening again even when the example has an output.")
    system: str | None = option(
        None, "System prompt sent with every assistant turn and written first in each conversation."
    )
    user_model: str | None = option(None, "Model of the user simulator (default: --model).")
    assistant_model: str | None = option(None, "Model of the answers (default: --model).")
    answer_max_tokens: int = option(1024, "max_tokens of an assistant turn.")
    transcript_max_tokens: int = option(4096, "max_tokens of a self-chat transcript.")
    rouge_threshold: float = option(
        0.7, "An opening whose ROUGE-L to a kept one is above this is dropped before any request."
    )
    repeat_threshold: float = option(
        0.7, "A user turn whose ROUGE-L to an earlier user turn is above this is a repeat."
    )

    @property
    def turn_range(self) -> tuple[int, int]:
        return parse_turns(self.turns)

    def rules(self) -> list[Rule]:
        return [
            (self.mode in MODES, f"--mode must be one of {', '.join(MODES)}, got {self.mode!r}"),
            (self.min_turns >= 1, "--min-turns must be at least 1"),
            (self.limit is None or self.limit >= 1, "--limit must be at least 1"),
            (self.sample is None or self.sample >= 1, "--sample must be at least 1"),
            (self.answer_max_tokens >= 1, "--answer-max-tokens must be at least 1"),
            (self.transcript_max_tokens >= 1, "--transcript-max-tokens must be at least 1"),
            (0.0 <= self.rouge_threshold <= 1.0, "--rouge-threshold must be between 0 and 1"),
            (0.0 <= self.repeat_threshold <= 1.0, "--repeat-threshold must be between 0 and 1"),
        ]

    def check(self) -> None:
        # --min-turns may exceed --turns: a conversation that reaches its planned turns is
        # always kept, --min-turns is for the ones cut short.
        parse_turns(self.turns)  # a bad --turns fails here, before anything runs
        check_input_format(self.from_format, self.from_map, "--from-format")
