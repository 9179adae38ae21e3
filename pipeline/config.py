"""Run configuration: the settings every method shares, and the method's own options
(pipeline/options.py); validated when built, fingerprinted so an unsafe resume is refused."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import ConfigError
from pipeline.options import MethodOptions
from pipeline.types import content_hash

BACKENDS = ("stub", "openai")
# The LLM judge's rubrics (prompts/score/<rubric>.txt): how well the output answers the
# instruction, or how hard the instruction is (DEITA's two scores).
RUBRICS = ("quality", "complexity")
APIS = ("chat", "completions")


def setting(default: Any = None, *, runtime: bool = False, always: bool = True) -> Any:
    """A shared setting. `runtime`: how fast or how far a run goes, never what a request or a
    decision is; out of the fingerprint, so a run can be resumed with more concurrency or a new
    target. `always`: fingerprinted even at its default (the first config's settings; a setting
    added later passes always=False and is fingerprinted only when set)."""
    return field(default=default, metadata={"runtime": runtime, "always": always})


def _runtime(default: Any = None) -> Any:
    return setting(default, runtime=True)


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs: the shared settings and `options`, the method's own."""

    out: str = field(metadata={"runtime": True})
    method: str = field(metadata={"always": True})
    options: MethodOptions = field()
    target: int = _runtime(100)
    seed: int = setting(0)
    backend: str = setting("stub")
    model: str = setting("stub")
    base_url: str | None = _runtime()
    api_key_env: str = _runtime("OPENAI_API_KEY")
    api: str = setting("chat")
    # None: the method's default (its options' SAMPLING).
    temperature: float = setting()  # type: ignore[assignment]
    top_p: float = setting()  # type: ignore[assignment]
    max_tokens: int = setting()  # type: ignore[assignment]
    logit_bias: dict[str, int] = field(default_factory=dict, metadata={"always": True})
    prompts_per_request: int | None = setting()
    concurrency: int = _runtime(8)
    max_attempts: int = _runtime(6)
    timeout: float = _runtime(120.0)
    max_requests: int | None = _runtime()
    checkpoint_seconds: float = _runtime(30.0)
    judge: str = _runtime("process")
    # Answers in a row that keep nothing before a stage stops as stalled (None: its default).
    patience: int | None = setting(runtime=True, always=False)
    # The in-process stub's injected faults: part of what a stub run is, nothing elsewhere.
    stub_malformed_rate: float = setting(0.0)
    stub_duplicate_rate: float = setting(0.0)
    stub_truncated_rate: float = setting(0.0)
    # Cost: prices override the built-in table (USD per 1M tokens); max_cost caps the spend.
    price_in: float | None = _runtime()
    price_out: float | None = _runtime()
    prices_file: str | None = _runtime()
    max_cost: float | None = _runtime()
    # Client-side pacing under the provider's stated limits (pipeline/backends/ratelimit.py).
    rpm: float | None = _runtime()
    tpm: float | None = _runtime()
    # OpenAI's stored completions: an answer paid for but lost to a kill is fetched, not re-paid.
    store: bool = _runtime(False)
    # The provider's Batch API (pipeline/backends/batch/): the same requests, answered later,
    # for less; how long between looks at a batch; where a failed line goes next.
    batch: bool = _runtime(False)
    poll_seconds: float = _runtime(30.0)
    batch_fallback: str = _runtime("none")
    # An LLM judge over every example the run keeps (pipeline/score/): its model, its rubric,
    # the lowest score kept (None: every parseable verdict). The model and rubric are
    # fingerprinted when set; --min-score decides on verdicts the cache holds, so a re-run
    # with another one sends nothing and rewrites the outputs.
    score_with: str | None = setting(always=False)
    score_rubric: str = setting("quality", always=False)
    min_score: float | None = _runtime()

    def __post_init__(self) -> None:
        if not isinstance(self.options, MethodOptions):
            raise ConfigError(
                f"no options for method {self.method!r}; build the config with "
                "pipeline.methods.make_config"
            )
        defaults = self.options.SAMPLING
        for name in ("temperature", "top_p", "max_tokens"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(defaults, name))
        for rule, message in self._rules():
            if not rule:
                raise ConfigError(message)
        self.options.check()
        if self.prompts_per_request is None:
            # Alpaca packed 5 prompts into one legacy-completions call; chat takes one.
            object.__setattr__(self, "prompts_per_request", 5 if self.api == "completions" else 1)
        if self.prompts_per_request > 1 and self.api == "chat":
            raise ConfigError(
                "--prompts-per-request above 1 needs --api completions (the chat API takes one "
                "prompt per call)"
            )

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
            *self.options.rules(),
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
            (
                self.patience is None or self.patience >= 0,
                f"--patience must be 0 (off) or more, got {self.patience}",
            ),
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
            (
                not self.batch or self.backend == "openai",
                "--batch needs --backend openai: a provider with the Batch API (for tests, "
                "`instructgen stub-server` serves one)",
            ),
            (self.poll_seconds > 0, f"--poll-seconds must be positive, got {self.poll_seconds}"),
            (
                self.batch_fallback in ("none", "online"),
                f"--batch-fallback must be none or online, got {self.batch_fallback!r}",
            ),
            *self._score_rules(),
            rate("stub_malformed_rate"),
            rate("stub_duplicate_rate"),
            rate("stub_truncated_rate"),
        ]

    def _score_rules(self) -> list[tuple[bool, str]]:
        rubrics = ", ".join(RUBRICS)
        return [
            (
                self.score_rubric in RUBRICS,
                f"--rubric must be one of {rubrics}, got {self.score_rubric!r}",
            ),
            (
                self.min_score is None or 1.0 <= self.min_score <= 5.0,
                f"--min-score must be between 1 and 5 (the rubrics' scale), got {self.min_score}",
            ),
            (
                self.scores or (self.min_score is None and self.score_rubric == "quality"),
                "--min-score and --rubric need a judge: add --score-with MODEL",
            ),
            (
                self.score_with is None or bool(self.score_with.strip()),
                "--score-with must name a model, e.g. --score-with gpt-4o-mini",
            ),
        ]

    @property
    def scores(self) -> bool:
        """Whether a judge scores every kept example (a method whose work is scoring always)."""
        return self.score_with is not None or self.options.SCORES

    @property
    def score_model(self) -> str:
        """The judge's model: --score-with, else the run's own model."""
        return self.score_with or self.model

    def to_dict(self) -> dict[str, Any]:
        """The flat config run.json records: the shared settings and the method's options."""
        shared = {f.name: getattr(self, f.name) for f in _shared_fields()}
        shared["logit_bias"] = dict(self.logit_bias)
        return {**shared, **self.options.to_dict()}

    def identity(self) -> dict[str, Any]:
        """The settings that decide what is asked and what is kept."""
        d = {}
        for f in _shared_fields():
            value = getattr(self, f.name)
            if f.metadata.get("runtime"):
                continue
            if f.name.startswith("stub_") and self.backend != "stub":
                continue
            if f.metadata.get("always") or value != _default(f):
                d[f.name] = value
        return {**d, **self.options.identity()}

    def fingerprint(self, **extra: str) -> str:
        """Hash of identity() plus what the files it names contain (seed data, prompt text)."""
        return content_hash({"config": self.identity(), **extra})[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any], options: type[MethodOptions]) -> RunConfig:
        """A config from its flat form; keys neither shared nor the method's are ignored (a
        run.json of an earlier version holds every method's settings)."""
        shared = {f.name for f in _shared_fields()}
        values = {k: v for k, v in d.items() if k in shared}
        return cls(**values, options=options.from_dict(d))


def _shared_fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(RunConfig) if f.name != "options"]


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default
