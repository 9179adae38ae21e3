"""Scoring data that exists: every example of --from gets a judge's verdict on a rubric
(AlpaGasus's quality rating, DEITA's complexity), and --min-score keeps the best.

options.py (what to score), recipe.py (the input as the score stage's list), estimate.py (its
cost). The stage itself, its prompts, parsing, stub verdicts and report section are
pipeline/score/, which every method's --score-with shares."""

from pipeline.estimate.models import CostModel
from pipeline.methods.grade.estimate import score
from pipeline.methods.grade.options import ScoreOptions
from pipeline.methods.grade.recipe import score_recipe
from pipeline.methods.spec import MethodSpec
from pipeline.score.stub import RESPONDERS

CITE = r"""@inproceedings{chen2024alpagasus,
  title = {AlpaGasus: Training a Better Alpaca with Fewer Data},
  author = {Chen, Lichang and Li, Shiyang and Yan, Jun and Wang, Hai and Gunaratna, Kalpa and
            Yadav, Vikas and Tang, Zheng and Srinivasan, Vijay and Zhou, Tianyi and
            Huang, Heng and Jin, Hongxia},
  booktitle = {The Twelfth International Conference on Learning Representations},
  year = {2024},
}

@inproceedings{liu2024deita,
  title = {What Makes Good Data for Alignment? A Comprehensive Study of Automatic Data
           Selection in Instruction Tuning},
  author = {Liu, Wei and Zeng, Weihao and He, Keqing and Jiang, Yong and He, Junxian},
  booktitle = {The Twelfth International Conference on Learning Representations},
  year = {2024},
}"""

SPEC = MethodSpec(
    name="grade",
    summary="Score existing data with an LLM judge (quality or complexity, 1-5) and keep the "
    "examples at --min-score or above.",
    options=ScoreOptions,
    recipe=score_recipe,
    cost=CostModel(score),
    responders=RESPONDERS,
    out="data/scored",
    example={"limit": 24, "min_score": 3},
    description="Every example of the input is shown to a judge model with a rubric: quality "
    "rates how well the output answers the instruction (accuracy, helpfulness, completeness), "
    "complexity how demanding the instruction is, each on a scale of 1 to 5 with a one-sentence "
    "reason. The reply is parsed strictly; an unparseable verdict is removed and counted, never "
    "passed. Examples scored below the minimum are removed with their score and reason.",
    paper="Chen et al. 2024, AlpaGasus: Training a Better Alpaca with Fewer Data (ICLR); "
    "Liu et al. 2024, What Makes Good Data for Alignment? (DEITA, ICLR)",
    cite=CITE,
)
