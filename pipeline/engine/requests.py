"""The one way a method builds a Request from the run's config."""

from __future__ import annotations

from typing import Any

from pipeline.config import RunConfig
from pipeline.types import Request


def config_request(
    config: RunConfig, prompts: tuple[str, ...], slot: str, **fields: Any
) -> Request:
    """A request to the run's model and API; sampling fields as the caller gives them."""
    return Request(
        model=config.model,
        prompts=prompts,
        api=config.api,  # type: ignore[arg-type]
        logit_bias=tuple(sorted(config.logit_bias.items())),
        slot=slot,
        **fields,
    )
