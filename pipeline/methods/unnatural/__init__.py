"""Unnatural Instructions: core examples (instruction, input, constraints) from 3 demonstrations,
an output for each, then reformulations of the instruction around an {INPUT} placeholder.

options.py, core.py (step 1: planning and parsing the core examples), expand.py (steps 2 and 3),
recipe.py (the three stages, the gate), released.py (core.jsonl / full.jsonl), estimate.py,
stub.py."""

from pipeline.estimate.models import CostModel
from pipeline.methods.spec import Merge, MethodSpec, Outputs
from pipeline.methods.unnatural.core import NAME
from pipeline.methods.unnatural.estimate import unnatural, unnatural_written
from pipeline.methods.unnatural.options import UnnaturalOptions
from pipeline.methods.unnatural.recipe import GATE, UnnaturalRecipe
from pipeline.methods.unnatural.released import (
    CORE_FILE,
    FULL_FILE,
    is_reformulation,
    write_released,
)
from pipeline.methods.unnatural.report import REPORT
from pipeline.methods.unnatural.stub import RESPONDERS

CITE = """@inproceedings{honovich-etal-2023-unnatural,
  title = {Unnatural Instructions: Tuning Language Models with (Almost) No Human Labor},
  author = {Honovich, Or and Scialom, Thomas and Levy, Omer and Schick, Timo},
  booktitle = {Proceedings of the 61st Annual Meeting of the Association for Computational
               Linguistics (Volume 1: Long Papers)},
  pages = {14409--14428},
  year = {2023},
  address = {Toronto, Canada},
  publisher = {Association for Computational Linguistics},
  doi = {10.18653/v1/2023.acl-long.806},
  url = {https://aclanthology.org/2023.acl-long.806},
}"""

SPEC = MethodSpec(
    name=NAME,
    summary="Unnatural Instructions: core examples from 3 demonstrations, outputs, reformulations.",
    options=UnnaturalOptions,
    recipe=UnnaturalRecipe,
    cost=CostModel(unnatural, written=unnatural_written, example_tokens=90.0),
    responders=RESPONDERS,
    out="data/unnatural",
    target="Stop when this many core examples are kept.",
    groups=("request", "stop"),
    gate=GATE,
    # A core example and its reformulations are merged, or dropped, together.
    merge=Merge(follows=is_reformulation, id_fields=("core_id",)),
    outputs=Outputs((CORE_FILE, FULL_FILE), write_released),
    report=REPORT,
    example={"target": 16, "paraphrases": 1},
    description="Unnatural Instructions asks a model for new examples with almost no human "
    "input: shown three demonstrations, it writes a core example (an instruction, an input and "
    "the constraints on the output); the output is then asked for separately, with greedy "
    "decoding; last, the instruction is reformulated around an {INPUT} placeholder, each "
    "reformulation becoming an example of its own. Near-duplicate core examples are dropped by "
    "a ROUGE-L gate.",
    paper="Honovich et al. 2023, Unnatural Instructions: Tuning Language Models with (Almost) "
    "No Human Labor (ACL)",
    cite=CITE,
)
