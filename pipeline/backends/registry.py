"""Backends by name, from a plain dict. "OpenAI-compatible" is a base URL, not a new class."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.backends.base import Backend
from pipeline.config import RunConfig


def _stub(config: RunConfig) -> Backend:
    from pipeline.methods import stub_model

    return stub_model(
        malformed_rate=config.stub_malformed_rate,
        duplicate_rate=config.stub_duplicate_rate,
        truncated_rate=config.stub_truncated_rate,
        model=config.model,
    )


def _openai(config: RunConfig) -> Backend:
    from pipeline.backends.openai.adapt import SAMPLING
    from pipeline.backends.openai.backend import OpenAIBackend

    return OpenAIBackend(
        config.model,
        base_url=config.base_url,
        api_key_env=config.api_key_env,
        timeout=config.timeout,
        store=config.store,
        # Chosen on the command line: anything but the method's own default.
        user_sampling=frozenset(
            name
            for name in SAMPLING
            if getattr(config, name) != getattr(config.options.SAMPLING, name)
        ),
    )


BACKENDS: dict[str, Callable[[RunConfig], Backend]] = {"stub": _stub, "openai": _openai}


def make_backend(config: RunConfig) -> Backend:
    return BACKENDS[config.backend](config)
