"""The stub server's options (latency, faults, limits, key, model, batches) and the counters it
keeps."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import ConfigError
from pipeline.stub.faults import FaultPlan, Limits

RATES = (
    "error_rate",
    "rate_limit_rate",
    "malformed_rate",
    "duplicate_rate",
    "truncated_rate",
    "batch_error_rate",
)


@dataclass(frozen=True)
class ServerOptions:
    """Latency, injected HTTP faults, rate limits and the stub model's own fault rates."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    seed: int = 0
    malformed_rate: float = 0.0
    duplicate_rate: float = 0.0
    truncated_rate: float = 0.0
    model: str = "stub"
    faults: str = ""  # a fault plan, e.g. "503*3,reset,hang" (see faults.py)
    rpm: float | None = None
    tpm: float | None = None
    limit_window: float = 60.0  # seconds of the per-minute limits a full bucket holds
    rate_limit_seconds: float = 0.0  # everything gets 429 this long after the first request
    # False: no 429 says when to retry (no Retry-After), as some providers answer
    retry_after_header: bool = True
    api_key: str | None = None  # when set, any other bearer token gets 401
    strict_model: bool = False  # a model other than `model` gets 404, as OpenAI answers
    # Chat requests are refused as OpenAI's reasoning models refuse them (wire.py)
    reasoning: bool = False
    echo_key: bool = False  # error messages repeat the bearer token (a careless provider)
    # Answers depend on the body alone, not on the slot header: as a real model answers, and
    # the same online and in a batch line (which carries no header).
    ignore_slot: bool = False
    # The Files and Batch APIs (pipeline/stub/batches.py); False: their routes answer 404, as
    # vLLM, Ollama and llama.cpp do
    batches: bool = True
    batch_seconds: float = 0.0  # a batch's processing time; 0: done at the first look after
    batch_error_rate: float = 0.0  # share of batch lines answered 500, in the error file
    batch_expire_after: float | None = None  # seconds until an unfinished batch expires (24h)
    # The next N batches fail validation, as with OpenAI's enqueued token limit
    batch_validation_failures: int = 0

    def __post_init__(self) -> None:
        for name in RATES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"--{name.replace('_', '-')} must be between 0 and 1")
        if self.error_rate + self.rate_limit_rate > 1.0:
            raise ConfigError("--error-rate plus --rate-limit-rate must not exceed 1")
        if min(self.latency_ms, self.retry_after, self.rate_limit_seconds) < 0:
            raise ConfigError(
                "--latency-ms, --retry-after and --rate-limit-seconds must not be negative"
            )
        if any(v is not None and v <= 0 for v in (self.rpm, self.tpm)) or self.limit_window <= 0:
            raise ConfigError("--rpm, --tpm and --limit-window must be positive")
        FaultPlan(self.faults)  # a bad plan is refused when the options are built
        if self.batch_seconds < 0 or self.batch_validation_failures < 0:
            raise ConfigError(
                "--batch-seconds and --batch-validation-failures must not be negative"
            )
        if self.batch_expire_after is not None and self.batch_expire_after <= 0:
            raise ConfigError("--batch-expire-after must be positive; leave it out for 24 hours")

    @property
    def retry_after_or_none(self) -> float | None:
        """What a 429 says about when to retry: None when the server does not say."""
        return self.retry_after if self.retry_after_header else None

    def limits(self) -> Limits:
        return Limits(
            self.rpm, self.tpm, self.limit_window, self.rate_limit_seconds, self.retry_after_or_none
        )


@dataclass
class ServerStats:
    """What the server saw; a cache key is the sha256 of the canonical body plus the slot.
    `answered` counts answers sent; `abandoned` requests whose client left before theirs;
    `stored` answers kept for `store: true`; `list_requests` calls listing them (which are
    not counted in `requests`, so recovering answers leaves the request counts alone).
    Calls to the Files and Batch APIs are not counted in `requests` either: `files_uploaded`
    and `batches_created` count those created, `batch_answered` the lines answered (200) per
    batch id."""

    requests: int = 0
    served: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    answered_slots: set[str] = field(default_factory=set)
    abandoned: int = 0
    clients: set[str] = field(default_factory=set)
    stored: int = 0
    list_requests: int = 0
    files_uploaded: int = 0
    batches_created: int = 0
    batch_answered: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """The JSON served at GET /stats."""
        return {
            "requests": self.requests,
            "served": dict(self.served),
            "errors": dict(self.errors),
            "faults": dict(self.faults),
            "abandoned": self.abandoned,
            "connections": len(self.clients),
            "keys": len(self.seen),
            "keys_seen_more_than_once": sum(n > 1 for n in self.seen.values()),
            "keys_answered_more_than_once": sum(n > 1 for n in self.answered.values()),
            "seen_per_key": dict(self.seen),
            "answered_slots": sorted(self.answered_slots),
            "stored": self.stored,
            "list_requests": self.list_requests,
            "files_uploaded": self.files_uploaded,
            "batches_created": self.batches_created,
            "batch_answered": dict(self.batch_answered),
        }
