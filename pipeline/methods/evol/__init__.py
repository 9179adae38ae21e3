"""Evol-Instruct (WizardLM): rounds of in-depth and in-breadth rewriting, with all four
elimination rules and the parent's return to the pool.

options.py, round.py (a round's evolve, judge and answer: planning and parsing), filters.py
(rules 2-4), recipe.py (the rounds, the starting pool), estimate.py, stub.py and stub_checks.py,
lineage.py and report.py (the report's rounds section)."""

from pipeline.estimate.models import CostModel
from pipeline.methods.evol.estimate import evol, evol_written
from pipeline.methods.evol.options import EvolOptions
from pipeline.methods.evol.recipe import EvolRecipe
from pipeline.methods.evol.report import REPORT
from pipeline.methods.evol.round import NAME
from pipeline.methods.evol.stub_checks import RESPONDERS
from pipeline.methods.spec import MethodSpec

CITE = """@inproceedings{xu2024wizardlm,
  title = {{WizardLM}: Empowering Large Pre-Trained Language Models to Follow Complex
           Instructions},
  author = {Xu, Can and Sun, Qingfeng and Zheng, Kai and Geng, Xiubo and Zhao, Pu and
            Feng, Jiazhan and Tao, Chongyang and Lin, Qingwei and Jiang, Daxin},
  booktitle = {The Twelfth International Conference on Learning Representations},
  year = {2024},
  url = {https://openreview.net/forum?id=CfXh93NDgH},
}"""

SPEC = MethodSpec(
    name=NAME,
    summary="Evol-Instruct (WizardLM): rounds of in-depth and in-breadth rewriting, with "
    "elimination.",
    options=EvolOptions,
    recipe=EvolRecipe,
    # Rounds repeat the first: a pilot of round 1 measures them all.
    cost=CostModel(
        evol,
        pilot_covers=lambda stage: stage.endswith("-1"),
        written=evol_written,
        example_tokens=400.0,
    ),
    responders=RESPONDERS,
    out="data/evol-instruct",
    report=REPORT,
    example={"limit": 16, "rounds": 1},
    description="Evol-Instruct rewrites existing instructions into new ones, round after "
    "round: in depth (more constraints, deeper questions, more concrete, more reasoning steps, "
    "a complicated input) or in breadth (a new instruction on a rarer topic of the same "
    "domain). An evolution is eliminated when it gains nothing over its parent, when its "
    "answer is a refusal or too short, when the answer is only punctuation and stop words, or "
    "when it copies words of the rewriting prompt; its parent then returns to the pool. The "
    "survivors are answered by the model.",
    paper="Xu et al. 2023, WizardLM: Empowering Large Language Models to Follow Complex "
    "Instructions (arXiv 2304.12244; ICLR 2024)",
    cite=CITE,
)
