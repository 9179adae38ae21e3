"""The shared provider rate limit as a Prefect global concurrency limit.

Every flow run that talks to the same Prefect server and names the same limit takes its slots
from one pool, so scheduled runs together stay under the account's requests per minute. The
library only sees an `acquire(request)` coroutine (pipeline/backends/shared_limit.py)."""

from __future__ import annotations

import re

from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import rate_limit
from prefect.exceptions import ObjectNotFound

from pipeline.backends.shared_limit import Acquire, Batched
from pipeline.errors import ConfigError


def default_limit_name(backend: str, model: str) -> str:
    """One limit per provider account and model, e.g. instructgen-openai-gpt-4o-mini."""
    return "instructgen-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{backend}-{model}").strip("-")


def rate_shape(rpm: int) -> tuple[int, float]:
    """Slots and decay per second so that no 60 s window holds more than `rpm` requests.

    A window can take the free slots at its start plus what decays during it: slots + 60 *
    decay = rpm. A second's worth of slots lets requests start together, as providers allow."""
    if rpm < 1:
        raise ConfigError(f"--shared-rpm must be at least 1, got {rpm}")
    slots = max(1, rpm // 60)
    decay = (rpm - slots) / 60 if rpm > slots else rpm / 60
    return slots, decay


async def set_rate_limit(name: str, rpm: int) -> None:
    """Create the limit, or update it to `rpm`."""
    slots, decay = rate_shape(rpm)
    async with get_client() as client:
        await client.upsert_global_concurrency_limit_by_name(
            name, limit=slots, slot_decay_per_second=decay
        )


async def check_rate_limit(name: str) -> None:
    """A run that names a limit needs it to exist and to decay (a rate, not a concurrency cap)."""
    fix = (
        f"pass --shared-rpm N to create it, or: prefect gcl create {name} --limit N "
        "--slot-decay-per-second R"
    )
    async with get_client() as client:
        try:
            limit = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            raise ConfigError(
                f"--shared-limit {name}: no such limit on the server; {fix}"
            ) from None
    if not limit.slot_decay_per_second:
        raise ConfigError(f"--shared-limit {name}: the limit has no slot decay (no rate); {fix}")


async def prefect_acquire(name: str) -> Acquire:
    """An `acquire(request)` that takes slots of the global limit `name`, a quarter of its
    slots at a time: each take is a round trip to the server (measured 10-20 a second from one
    process), so one per request would cap a run far below a provider's limit."""
    async with get_client() as client:
        limit = await client.read_global_concurrency_limit_by_name(name)

    async def take(slots: int) -> None:
        await rate_limit(name, occupy=slots, strict=True)

    # One request is one slot: providers count requests, whatever the prompts per call.
    return Batched(take, max(1, limit.limit // 4))
