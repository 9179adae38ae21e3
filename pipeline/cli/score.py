"""`instructgen score DATA`: the grade method over any readable data, DATA given first
(`instructgen run grade --from DATA` is the same run)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from pipeline import methods
from pipeline.cli.options import build_command, method_params
from pipeline.cli.run import _run

# The judge's requests are chat requests at temperature 0 with their own max_tokens; --model
# names the judge.
UNUSED = ("source", "score_with", "api", "temperature", "top_p", "max_tokens")

Data = Annotated[
    Path,
    typer.Argument(
        help="What to score: a file or folder in any readable format, or a run directory.",
        show_default=False,
    ),
]


def scoring_method() -> str:
    """The method whose whole work is scoring; found by what it does, not by its name."""
    return next(s.name for s in methods.registry().values() if s.options.SCORES)


def data_as_source(options: dict) -> dict:
    """DATA, the command's argument, is the method's --from."""
    options["source"] = str(options.pop("data"))
    return options


def score_command() -> Callable[..., None]:
    spec = methods.get(scoring_method())
    data = inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Data)
    params = [data, *method_params(spec, drop=UNUSED)]

    def body(options: dict) -> None:
        _run(spec.name, data_as_source(options))

    doc = "Score data with an LLM judge (--model) and keep what scores --min-score or more."
    return build_command("score", params, body, doc)
