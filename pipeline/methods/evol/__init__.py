"""Evol-Instruct (WizardLM): rounds of in-depth and in-breadth rewriting, with all four
elimination rules and the parent's return to the pool.

options.py, round.py (a round's evolve, judge and answer: planning and parsing), filters.py
(rules 2-4), recipe.py (the rounds, the starting pool), estimate.py, stub.py and stub_checks.py,
lineage.py and report.py (the report's rounds section)."""

from pipeline.estimate.models import CostModel
from pipeline.methods.evol.estimate import evol
from pipeline.methods.evol.options import EvolOptions
from pipeline.methods.evol.recipe import EvolRecipe
from pipeline.methods.evol.report import REPORT
from pipeline.methods.evol.round import NAME
from pipeline.methods.evol.stub_checks import RESPONDERS
from pipeline.methods.spec import MethodSpec

SPEC = MethodSpec(
    name=NAME,
    summary="Evol-Instruct (WizardLM): rounds of in-depth and in-breadth rewriting, with "
    "elimination.",
    options=EvolOptions,
    recipe=EvolRecipe,
    # Rounds repeat the first: a pilot of round 1 measures them all.
    cost=CostModel(evol, pilot_covers=lambda stage: stage.endswith("-1")),
    responders=RESPONDERS,
    out="data/evol-instruct",
    report=REPORT,
    example={"limit": 16, "rounds": 1},
)
