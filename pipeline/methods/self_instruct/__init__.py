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

SPEC = MethodSpec(
    name=NAME,
    summary="Self-Instruct as Stanford Alpaca ran it: 3 seed tasks in, up to 16 new tasks per "
    "prompt.",
    options=SelfInstructOptions,
    recipe=SelfInstructRecipe,
    cost=CostModel(self_instruct),
    responders=RESPONDERS,
    out="data/self-instruct",
    target="Stop when this many examples are kept.",
    groups=("request", "stop"),
    gate=GATE,
    merge=Merge(),
    example={"target": 300},
)
