"""An LLM judge over examples: one request per example rates it on a rubric of 1-5
(AlpaGasus's quality rating, DEITA's complexity), parsed strictly, kept in the example's meta.

It runs as the last stage of any method's run (`--score-with MODEL`) and as the `score`
method over any readable data (`instructgen score DATA`): rubric.py (the prompts and how an
example is shown), verdict.py (the strict parse), stage.py (the stage's requests and
decisions), scored.py (a recipe with the stage at its end, and the scores applied to its
outputs), estimate.py (its cost), stub.py (the stub model's verdicts), report.py (its section)."""
