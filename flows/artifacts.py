"""The run's summary as Prefect artifacts on the flow run: a Markdown summary and a table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from pipeline.report.summary import artifact_key, funnel_rows, markdown, run_method


async def publish_artifacts(stats: dict[str, Any], run_dir: str | Path) -> list[UUID]:
    """Publish the summary (Markdown) and the funnel (table) of a run; returns their ids."""
    method = run_method(run_dir) or "instructgen"
    summary = acreate_markdown_artifact(
        markdown=markdown(stats, run_dir),
        key=artifact_key(run_dir, "summary"),
        description=f"{method} run in {run_dir}: funnel, requests, tokens, cost",
    )
    table = acreate_table_artifact(
        table=funnel_rows(stats),
        key=artifact_key(run_dir, "funnel"),
        description="generated -> dropped per filter and reason -> kept, per stage",
    )
    return list(await asyncio.gather(summary, table))  # one round trip's wait, not two
