"""Fed the same answers in the same order, we keep exactly what Alpaca's script would keep.

The reference below restates Alpaca's post-processing and gate rule by rule from the method's
facts (METHODS: Self-Instruct), deliberately naively: rouge-score in a loop, one regex a word."""

import re
import string

import pytest
from rouge_score import rouge_scorer

from pipeline.backends.cache import RequestCache
from pipeline.methods import make_config
from pipeline.methods.self_instruct.generate import SelfInstruct
from pipeline.seeds import load_seeds
from tests.helpers import CountingBackend, run

BLOCKED = [
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
    "video",
    "audio",
    "music",
    "flowchart",
    "diagram",
]


def reference_tasks(text, finish_reason, first=4):
    pieces = re.split("###", f"{first}. Instruction:" + text)
    tasks = []
    for idx, piece in enumerate(pieces):
        if idx == len(pieces) - 1 and finish_reason == "length":
            continue
        parts = re.split(rf"{idx + first}\.\s+(Instruction|Input|Output):", piece)
        if len(parts) != 7:
            continue
        inst, given, out = parts[2].strip(), parts[4].strip(), parts[6].strip()
        given = "" if given.lower() == "<noinput>" else given
        n_words = len(inst.split())
        if n_words <= 3 or n_words > 150:
            continue
        if any(re.search(rf"\b{w}\b", inst, flags=re.IGNORECASE) for w in BLOCKED):
            continue
        if inst.startswith("Write a program") or inst[0] in string.punctuation:
            continue
        if not inst[0].isascii():
            continue
        tasks.append((inst, given, out))
    return tasks


def reference_keep(seed_instructions, answers, target):
    tokenize = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)._tokenizer.tokenize
    pool = [tokenize(s) for s in seed_instructions]
    kept = []
    for text, finish in answers:
        for inst, given, out in reference_tasks(text, finish):
            tokens = tokenize(inst)
            scores = [rouge_scorer._score_lcs(tokens, p).fmeasure for p in pool]
            if max(scores) > 0.7:
                continue
            kept.append((inst, given, out, sum(scores) / len(scores)))
            pool.append(tokens)
        if len(kept) >= target:
            break
    return kept


@pytest.mark.parametrize(
    "faults",
    [{}, {"stub_malformed_rate": 0.2, "stub_duplicate_rate": 0.2, "stub_truncated_rate": 0.2}],
)
def test_kept_list_equals_alpaca_item_for_item(tmp_path, faults):
    target = 120
    kw = {"target": target, "api": "completions", "prompts_per_request": 5, **faults}
    stats = run(
        tmp_path,
        backend=CountingBackend(
            malformed_rate=faults.get("stub_malformed_rate", 0.0),
            duplicate_rate=faults.get("stub_duplicate_rate", 0.0),
            truncated_rate=faults.get("stub_truncated_rate", 0.0),
        ),
        **kw,
    )
    seeds = load_seeds()
    method = SelfInstruct(seeds, make_config(out=str(tmp_path), **kw))
    cache = RequestCache(tmp_path / "cache.sqlite")
    answers = []
    for slot in range(stats["requests"]["total"]):
        completion = cache.get(method.plan(slot).key())
        answers += [
            (c.text, c.finish_reason) for c in sorted(completion.choices, key=lambda c: c.index)
        ]
    expected = reference_keep([s.instruction for s in seeds], answers, target)[:target]

    import json

    ours = [json.loads(line) for line in (tmp_path / "kept.jsonl").read_text().splitlines()]
    assert [(e["instruction"], e["input"], e["output"]) for e in ours] == [k[:3] for k in expected]
    assert [e["meta"]["avg_similarity"] for e in ours] == [round(k[3], 6) for k in expected]
    if faults:
        dropped = stats["funnel"]["dropped"]
        assert dropped["parse"] and dropped["rouge"]["too_similar"] > 0
