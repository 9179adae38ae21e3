"""`instructgen dedup`: duplicates out of any readable data (pipeline/dedup/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def dedup_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Data files, folders of them or run directories, in this order."),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (kept.jsonl, removed.jsonl, ...).")],
    by: Annotated[
        str, typer.Option(help="rouge (Alpaca's ROUGE-L gate, exact), minhash (LSH) or exact.")
    ] = "rouge",
    threshold: Annotated[
        float,
        typer.Option(help="Drop a row scoring above this against a kept one (ROUGE-L F, Jaccard)."),
    ] = 0.7,
    field: Annotated[
        str, typer.Option(help="What is compared: instruction, instruction+input or output.")
    ] = "instruction",
    keep: Annotated[
        str,
        typer.Option(help="first (input order) or longest (longest compared text first)."),
    ] = "first",
    similarity: Annotated[
        bool, typer.Option(help="rouge: record each kept row's top 10 and mean in its meta.")
    ] = False,
    ngram: Annotated[int, typer.Option(help="minhash: words per shingle.")] = 3,
) -> None:
    """Remove duplicates from any readable data, greedy in input order."""
    from pipeline.dedup import DedupOptions, dedup

    options = DedupOptions(by, threshold, field, keep, similarity, ngram)
    stats = dedup(inputs, out, options)
    funnel = stats["funnel"]
    print(
        f"kept {funnel['kept']} of {funnel['generated']} rows, dropped {funnel['dropped_total']} "
        f"({by}, {field}, threshold {threshold}) in {out}"
    )
