"""Self-Instruct as Stanford Alpaca ran it: 3 seed tasks in, up to 16 new tasks per prompt,
Alpaca's filters and the ROUGE-L gate.

options.py (its settings), generate.py (the prompt, planning and parsing), recipe.py (its one
stage, judge and gate), estimate.py (its cost model), stub.py (the stub model's answers)."""

from pipeline.estimate.models import CostModel
from pipeline.methods.self_instruct.estimate import self_instruct
from pipeline.methods.self_instruct.generate import NAME
from pipeline.methods.self_instruct.options import SelfInstructOptions
from pipeline.methods.self_instruct.recipe import GATE, SelfInstructRecipe
from pipeline.methods.self_instruct.stub import RESPONDERS
from pipeline.methods.spec import Merge, MethodSpec

# The Self-Instruct paper, and the Alpaca release whose recipe this method follows.
CITE = r"""@inproceedings{wang-etal-2023-self-instruct,
  title = {Self-Instruct: Aligning Language Models with Self-Generated Instructions},
  author = {Wang, Yizhong and Kordi, Yeganeh and Mishra, Swaroop and Liu, Alisa and
            Smith, Noah A. and Khashabi, Daniel and Hajishirzi, Hannaneh},
  booktitle = {Proceedings of the 61st Annual Meeting of the Association for Computational
               Linguistics (Volume 1: Long Papers)},
  pages = {13484--13508},
  year = {2023},
  address = {Toronto, Canada},
  publisher = {Association for Computational Linguistics},
  doi = {10.18653/v1/2023.acl-long.754},
  url = {https://aclanthology.org/2023.acl-long.754},
}

@misc{alpaca,
  title = {Stanford Alpaca: An Instruction-following LLaMA model},
  author = {Rohan Taori and Ishaan Gulrajani and Tianyi Zhang and Yann Dubois and Xuechen Li and
            Carlos Guestrin and Percy Liang and Tatsunori B. Hashimoto},
  year = {2023},
  publisher = {GitHub},
  journal = {GitHub repository},
  howpublished = {\url{https://github.com/tatsu-lab/stanford_alpaca}},
}"""

SPEC = MethodSpec(
    name=NAME,
    summary="Self-Instruct as Stanford Alpaca ran it: 3 seed tasks in, up to 16 new tasks per "
    "prompt.",
    options=SelfInstructOptions,
    recipe=SelfInstructRecipe,
    cost=CostModel(self_instruct, example_tokens=65.0),
    responders=RESPONDERS,
    out="data/self-instruct",
    target="Stop when this many examples are kept.",
    groups=("request", "stop"),
    gate=GATE,
    merge=Merge(),
    example={"target": 300},
    description="Self-Instruct grows instruction data from a handful of seed tasks. Each "
    "prompt shows the model three seed tasks and asks it to go on listing new tasks, each an "
    "instruction with an optional input and its output, as Stanford Alpaca prompted it. A new "
    "task is kept when it passes Alpaca's filters (length, tasks a text model cannot do, "
    "unusable openings) and is unlike every task kept before: its ROUGE-L score against the "
    "pool stays under the threshold.",
    paper="Wang et al. 2023, Self-Instruct: Aligning Language Models with Self-Generated "
    "Instructions (ACL); Taori et al. 2023, Stanford Alpaca",
    cite=CITE,
)
