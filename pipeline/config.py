"""Run configuration: validated when built, fingerprinted so an unsafe resume is refused."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pipeline.errors import ConfigError
from pipeline.types import content_hash

BACKENDS = ("stub", "openai")
APIS = ("chat", "completions")
METHODS = ("self-instruct", "unnatural", "evol-instruct")

# Sampling defaults per method, used where the user gave none: Alpaca's request for Self-Instruct;
# nucleus sampling with top_p 0.99 for Unnatural Instructions' core examples (their paper).
METHOD_DEFAULTS: dict[str, dict[str, float | int]] = {
    "self-instruct": {"temperature": 1.0, "top_p": 1.0, "max_tokens": 3072},
    "unnatural": {"temperature": 1.0, "top_p": 0.99, "max_tokens": 1024},
    # The WizardLM authors' requests: temperature 1, top_p 0.95, max_tokens 2048.
    "evol-instruct": {"temperature": 1.0, "top_p": 0.95, "max_tokens": 2048},
}
# Settings only one method reads: another method's runs leave them out of their fingerprint.
METHOD_FIELDS = {
    "self-instruct": frozenset(
        {"seeds", "seeds_format", "seeds_map", "num_prompt_instructions", "num_tasks"}
    ),
    "unnatural": frozenset({"demos", "paraphrases", "output_max_tokens"}),
    "evol-instruct": frozenset(
        {
            "source",
            "from_format",
            "from_map",
            "limit",
            "sample",
            "rounds",
            "operations",
            "equality_check",
            "answer_model",
            "answer_max_tokens",
        }
    ),
}
# Added after run directories were made without them: left out of the identity while unset, so
# those directories still resume (what they read is in the fingerprint through its content).
UNSET_OMITTED = frozenset({"seeds_format", "seeds_map", "from_format", "from_map"})

# Settings that change how fast or how far a run goes, never what a request or a decision is:
# they stay out of the fingerprint, so a run can be resumed with more concurrency or a new target.
RUNTIME_FIELDS = frozenset(
    {
        "out",
        "target",
        "concurrency",
        "max_attempts",
        "timeout",
        "api_key_env",
        "base_url",
        "max_requests",
        "checkpoint_seconds",
        "judge",
        "price_in",
        "price_out",
        "prices_file",
        "max_cost",
        "rpm",
        "tpm",
        "store",
    }
)


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs. Alpaca's request defaults, overridable."""

    out: str
    method: str = "self-instruct"
    target: int = 100
    seed: int = 0
    seeds: str | None = None
    seeds_format: str | None = None  # None: detected per file (pipeline/formats)
    seeds_map: str | None = None  # --map instruction=FIELD,... for plain JSONL
    backend: str = "stub"
    model: str = "stub"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    api: str = "chat"
    temperature: float = None  # type: ignore[assignment]  # None: the method's default
    top_p: float = None  # type: ignore[assignment]
    max_tokens: int = None  # type: ignore[assignment]
    logit_bias: dict[str, int] = field(default_factory=dict)
    prompts_per_request: int | None = None
    num_prompt_instructions: int = 3
    num_tasks: int = 20
    rouge_threshold: float = 0.7
    min_words: int = 4
    max_words: int = 150
    concurrency: int = 8
    max_attempts: int = 6
    timeout: float = 120.0
    max_requests: int | None = None
    checkpoint_seconds: float = 30.0
    judge: str = "process"
    stub_malformed_rate: float = 0.0
    stub_duplicate_rate: float = 0.0
    stub_truncated_rate: float = 0.0
    # Unnatural Instructions
    demos: str | None = None
    paraphrases: int = 3
    output_max_tokens: int = 1024
    # Evol-Instruct
    source: str | None = None
    from_format: str | None = None
    from_map: str | None = None
    limit: int | None = None
    sample: int | None = None
    rounds: int = 3
    operations: str = ""
    equality_check: bool = True
    answer_model: str | None = None
    answer_max_tokens: int = 2048
    # Cost: prices override the built-in table (USD per 1M tokens); max_cost caps the spend.
    price_in: float | None = None
    price_out: float | None = None
    prices_file: str | None = None
    max_cost: float | None = None
    # Client-side pacing under the provider's stated limits (pipeline/backends/ratelimit.py).
    rpm: float | None = None
    tpm: float | None = None
    # OpenAI's stored completions: an answer paid for but lost to a kill is fetched, not re-paid.
    store: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown method {self.method!r}; use one of {', '.join(METHODS)}")
        for name, value in METHOD_DEFAULTS[self.method].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        for rule, message in self._rules():
            if not rule:
                raise ConfigError(message)
        self._check_formats()
        if self.prompts_per_request is None:
            # Alpaca packed 5 prompts into one legacy-completions call; chat takes one.
            object.__setattr__(self, "prompts_per_request", 5 if self.api == "completions" else 1)
        if self.prompts_per_request > 1 and self.api == "chat":
            raise ConfigError(
                "--prompts-per-request above 1 needs --api completions (the chat API takes one "
                "prompt per call)"
            )

    def _check_formats(self) -> None:
        # Imported here: the format readers import the run directory, which imports this.
        from pipeline.formats import check_format
        from pipeline.formats.mapped import parse_mapping

        for fmt, mapping, flag in (
            (self.seeds_format, self.seeds_map, "--seeds-format"),
            (self.from_format, self.from_map, "--from-format"),
        ):
            if fmt is not None:
                check_format(fmt, flag)
            if mapping is not None:
                parse_mapping(mapping)
                if fmt not in (None, "mapped"):
                    raise ConfigError(f"--map reads plain JSONL; drop {flag} {fmt} or --map")

    def _rules(self) -> list[tuple[bool, str]]:
        def rate(name: str) -> tuple[bool, str]:
            value = getattr(self, name)
            return (
                0.0 <= value <= 1.0,
                f"--{name.replace('_', '-')} must be between 0 and 1, got {value}",
            )

        return [
            (self.target >= 1, f"--target must be at least 1, got {self.target}"),
            (
                self.backend in BACKENDS,
                f"unknown backend {self.backend!r}; use one of {', '.join(BACKENDS)}",
            ),
            (self.api in APIS, f"unknown --api {self.api!r}; use chat or completions"),
            (bool(self.model.strip()), "--model must not be empty"),
            (
                0.0 <= self.temperature <= 2.0,
                f"--temperature must be between 0 and 2, got {self.temperature}",
            ),
            (0.0 < self.top_p <= 1.0, f"--top-p must be in (0, 1], got {self.top_p}"),
            (self.max_tokens >= 1, f"--max-tokens must be at least 1, got {self.max_tokens}"),
            (
                self.prompts_per_request is None or self.prompts_per_request >= 1,
                f"--prompts-per-request must be at least 1, got {self.prompts_per_request}",
            ),
            (
                1 <= self.num_prompt_instructions < self.num_tasks,
                "--num-prompt-instructions must be at least 1 and below --num-tasks",
            ),
            (self.num_tasks <= 99, f"--num-tasks must be at most 99, got {self.num_tasks}"),
            (
                0.0 < self.rouge_threshold <= 1.0,
                f"--rouge-threshold must be in (0, 1], got {self.rouge_threshold}",
            ),
            (
                1 <= self.min_words <= self.max_words,
                "--min-words must be at least 1 and at most --max-words",
            ),
            (
                1 <= self.concurrency <= 1024,
                f"--concurrency must be 1 to 1024, got {self.concurrency}",
            ),
            (
                1 <= self.max_attempts <= 100,
                f"--max-attempts must be 1 to 100, got {self.max_attempts}",
            ),
            (self.timeout > 0, f"--timeout must be positive, got {self.timeout}"),
            (
                self.max_requests is None or self.max_requests >= 1,
                "--max-requests must be at least 1",
            ),
            (self.checkpoint_seconds > 0, "--checkpoint-seconds must be positive"),
            (self.judge in ("process", "inline"), "--judge must be process or inline"),
            (0 <= self.paraphrases <= 20, f"--paraphrases must be 0 to 20, got {self.paraphrases}"),
            (
                self.output_max_tokens >= 1,
                f"--output-max-tokens must be at least 1, got {self.output_max_tokens}",
            ),
            (1 <= self.rounds <= 20, f"--rounds must be 1 to 20, got {self.rounds}"),
            (self.limit is None or self.limit >= 1, "--limit must be at least 1"),
            (self.sample is None or self.sample >= 1, "--sample must be at least 1"),
            (self.answer_max_tokens >= 1, "--answer-max-tokens must be at least 1"),
            (
                all(v is None or v >= 0 for v in (self.price_in, self.price_out)),
                "--price-in and --price-out must not be negative",
            ),
            (self.max_cost is None or self.max_cost > 0, "--max-cost must be positive"),
            (self.rpm is None or self.rpm > 0, f"--rpm must be positive, got {self.rpm}"),
            (self.tpm is None or self.tpm > 0, f"--tpm must be positive, got {self.tpm}"),
            (
                not self.store or (self.backend == "openai" and self.api == "chat"),
                "--store needs --backend openai --api chat: only chat completions are stored",
            ),
            rate("stub_malformed_rate"),
            rate("stub_duplicate_rate"),
            rate("stub_truncated_rate"),
        ]

    @property
    def stop(self) -> tuple[str, ...]:
        """Alpaca's stop sequences: the model halts before it writes task number num_tasks."""
        return (f"\n{self.num_tasks}", f"{self.num_tasks}.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> dict[str, Any]:
        """The settings that decide what is asked and what is kept."""
        foreign = set().union(*(f for m, f in METHOD_FIELDS.items() if m != self.method))
        skip = RUNTIME_FIELDS | foreign
        d = {
            k: v
            for k, v in self.to_dict().items()
            if k not in skip and not (k in UNSET_OMITTED and v is None)
        }
        if self.backend != "stub":
            d = {k: v for k, v in d.items() if not k.startswith("stub_")}
        return d

    def fingerprint(self, **extra: str) -> str:
        """Hash of identity() plus what the files it names contain (seed data, prompt text)."""
        return content_hash({"config": self.identity(), **extra})[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
