"""What tokens cost: a dated table for common OpenAI models, overridable per run.

Prices are US dollars per 1M tokens (input, output), as OpenAI listed them for standard API use
when the table was written (PRICES_AS_OF). They change: check yours and pass --price-in and
--price-out, or a prices file (JSON: {"model": [in, out], ...}), for anything that matters.
Local servers (a --base-url that is not api.openai.com) and the stub cost nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import RunConfig
from pipeline.errors import InputError

PRICES_AS_OF = "2025-08"
# What OpenAI's Batch API charges of the synchronous price, for every model of the table.
BATCH_SHARE = 0.5
OPENAI_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "davinci-002": (2.00, 2.00),
    "babbage-002": (0.40, 0.40),
}
_FILE_FIX = (
    'write a JSON object of model names to [input, output] USD per 1M tokens, e.g. {"m": [1, 4]}'
)


@dataclass(frozen=True)
class Price:
    """USD per 1M input and output tokens, and where the numbers came from."""

    input: float
    output: float
    source: str

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6

    @property
    def free(self) -> bool:
        return self.input == 0 and self.output == 0


def is_local(config: RunConfig) -> bool:
    """The stub, or a server of the user's own (anything but OpenAI's API host)."""
    if config.backend == "stub":
        return True
    return config.base_url is not None and "api.openai.com" not in config.base_url


def price_for(config: RunConfig, model: str | None = None) -> Price:
    """The price of `model` (default: the run's model) under the run's overrides."""
    model = model or config.model
    if config.price_in is not None or config.price_out is not None:
        return Price(config.price_in or 0.0, config.price_out or 0.0, "--price-in/--price-out")
    if config.prices_file:
        table = load_prices_file(config.prices_file)
        if model in table:
            return Price(*table[model], f"{config.prices_file}")
    if is_local(config):
        return Price(0.0, 0.0, "local server: free")
    known = OPENAI_PRICES.get(model) or OPENAI_PRICES.get(_base_model(model))
    if known is None:
        return Price(0.0, 0.0, f"unknown model {model!r}: pass --price-in/--price-out")
    if config.batch:
        cut = (known[0] * BATCH_SHARE, known[1] * BATCH_SHARE)
        return Price(*cut, f"OpenAI Batch API price (50% of list) as of {PRICES_AS_OF}")
    return Price(*known, f"OpenAI list price as of {PRICES_AS_OF}")


def _base_model(model: str) -> str:
    """'gpt-4o-mini-2024-07-18' -> 'gpt-4o-mini': dated snapshots cost what their alias does."""
    parts = model.split("-")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    return "-".join(parts)


def load_prices_file(path: str | Path) -> dict[str, tuple[float, float]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, None, "no such file", "check the --prices-file path") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(path, None, f"not valid JSON ({e})", _FILE_FIX) from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a JSON object", _FILE_FIX)
    table = {}
    for model, pair in data.items():
        ok = isinstance(pair, list) and len(pair) == 2
        if not ok or not all(isinstance(v, int | float) and v >= 0 for v in pair):
            raise InputError(path, None, f"price of {model!r} is not [input, output]", _FILE_FIX)
        table[model] = (float(pair[0]), float(pair[1]))
    return table
