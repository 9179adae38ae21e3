"""RougeIndex against rouge-score itself: the same F bit for bit, the same sequential decisions."""

from __future__ import annotations

import dataclasses
import functools
import random

import numpy as np
import pytest
from rouge_score import rouge_scorer

from pipeline.errors import ConfigError
from pipeline.filters import rouge
from pipeline.filters.rouge import GateDecision, RougeIndex, f_measure, top_k_indices

SCORER = rouge_scorer.RougeScorer(["rougeL"])
WORDS = ["give", "list", "the", "a", "of", "three", "five", "name", "write", "short", "story"]
WORDS += ["about", "cat", "dog", "red", "blue"]
NOISE = ["", "", ",", ".", "!", "-", " 42", " Étude", " 日本", "'s", "?"]


def tokens(text: str) -> list[str]:
    return SCORER._tokenizer.tokenize(text)


def random_instruction(rng: random.Random) -> str:
    """Short texts over a small vocabulary, with case, punctuation, digits and non-ASCII noise."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(0, 14))]
    words = [w.upper() if rng.random() < 0.1 else w for w in words]
    return " ".join(w + rng.choice(NOISE) for w in words)


def near_duplicates(rng: random.Random, count: int) -> list[str]:
    """Instructions where many are small edits of earlier ones, so that the gate drops often."""
    made: list[str] = []
    while len(made) < count:
        if made and rng.random() < 0.6:
            words = rng.choice(made).split()
            for _ in range(rng.randint(1, 3)):
                words.insert(rng.randint(0, len(words)), rng.choice(WORDS))
            made.append(" ".join(words))
        else:
            made.append(random_instruction(rng))
    return made


def crafted_pair(lcs: int, cand_len: int, pool_len: int) -> tuple[str, str]:
    """A candidate and a pool text with exactly these token lengths and this LCS length."""
    common = [f"w{i}" for i in range(lcs)]
    candidate = common + [f"c{i}" for i in range(cand_len - lcs)]
    pool_item = [f"p{i}" for i in range(pool_len - lcs)] + common
    return " ".join(candidate), " ".join(pool_item)


def boundary_triples() -> list[tuple[int, int, int]]:
    """Every (lcs, cand_len, pool_len) up to 40 tokens whose F lies within 0.02 of 0.7."""
    return [
        (lcs, a, b)
        for a in range(1, 41)
        for b in range(1, 41)
        for lcs in range(1, min(a, b) + 1)
        if abs(2 * lcs / (a + b) - 0.7) < 0.02
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_scores_equal_rouge_score_exactly(seed):
    rng = random.Random(seed)
    pool = [random_instruction(rng) for _ in range(25)]
    candidates = [random_instruction(rng) for _ in range(22)]
    index = RougeIndex()
    index.extend(pool)
    for candidate in candidates:
        ours = index.scores(candidate).tolist()
        via_scorer = [SCORER.score(candidate, p)["rougeL"].fmeasure for p in pool]
        via_lcs = [rouge_scorer._score_lcs(tokens(candidate), tokens(p)).fmeasure for p in pool]
        assert ours == via_scorer == via_lcs


@pytest.mark.parametrize(
    ("lcs", "cand_len", "pool_len", "expected"),
    [
        (7, 11, 9, 0.7000000000000001),  # 2*7/20 would say 0.7 and keep it
        (7, 9, 11, 0.7000000000000001),
        (14, 22, 18, 0.7000000000000001),
        (7, 10, 10, 0.7),
        (0, 5, 5, 0.0),
        (0, 0, 5, 0.0),
        (0, 5, 0, 0.0),
        (3, 3, 3, 1.0),
    ],
)
def test_f_measure_table(lcs, cand_len, pool_len, expected):
    ours = f_measure(np.array([lcs]), np.array([cand_len]), np.array([pool_len]))[0]
    candidate, pool_item = crafted_pair(lcs, cand_len, pool_len)
    assert ours == expected == SCORER.score(candidate, pool_item)["rougeL"].fmeasure


def test_boundary_sweep_equals_rouge_score():
    triples = boundary_triples()
    index = RougeIndex()
    naive_differs = 0
    for lcs, cand_len, pool_len in triples:
        candidate, pool_item = crafted_pair(lcs, cand_len, pool_len)
        expected = rouge_scorer._score_lcs(tokens(candidate), tokens(pool_item)).fmeasure
        lcs_arr = np.array([lcs])
        assert f_measure(lcs_arr, np.array([cand_len]), np.array([pool_len]))[0] == expected
        index.add(pool_item)
        assert index.scores(candidate)[-1] == expected
        naive_differs += 2 * lcs / (cand_len + pool_len) != expected
    assert len(triples) > 500 and naive_differs > 50


@pytest.mark.parametrize(
    ("lcs", "cand_len", "pool_len", "kept"), [(7, 11, 9, False), (7, 10, 10, True)]
)
def test_gate_decides_the_boundary_like_rouge_score(lcs, cand_len, pool_len, kept):
    candidate, pool_item = crafted_pair(lcs, cand_len, pool_len)
    index = RougeIndex()
    index.add(pool_item)
    assert index.gate([candidate])[0].kept is kept


def assert_same_decisions(ours: list[GateDecision], expected: list[GateDecision]) -> None:
    """Equal to the bit, except a drop's mean, summed in another order (Alpaca keeps no drops)."""
    assert len(ours) == len(expected)
    for got, want in zip(ours, expected, strict=True):
        if not want.kept:
            assert got.mean_score == pytest.approx(want.mean_score, rel=1e-12)
            got = dataclasses.replace(got, mean_score=want.mean_score)
        assert got == want


def reference_gate(pool: list[str], candidates: list[str], top_k: int = 10) -> list[GateDecision]:
    """The plain sequential gate: rouge-score per pair, one candidate at a time."""
    pool_tokens = [tokens(p) for p in pool]
    texts = list(pool)
    decisions = []
    for candidate in candidates:
        cand_tokens = tokens(candidate)
        scores = [rouge_scorer._score_lcs(cand_tokens, p).fmeasure for p in pool_tokens]
        best = max(scores, default=0.0)
        order = sorted(range(len(scores)), key=lambda j: -scores[j])[:top_k]
        kept = not scores or best <= 0.7
        # A drop carries only its nearest neighbour; a keep carries the top k.
        similar = [(texts[j], scores[j]) for j in (order if kept else order[:1])]
        mean = float(np.mean(scores)) if scores else 0.0
        decisions.append(GateDecision(kept, best, similar, mean))
        if kept:
            pool_tokens.append(cand_tokens)
            texts.append(candidate)
    return decisions


@functools.cache
def gate_case() -> tuple[list[str], list[str], list[GateDecision]]:
    rng = random.Random(7)
    instructions = near_duplicates(rng, 330)
    seeds, candidates = instructions[:30], instructions[30:]
    return seeds, candidates, reference_gate(seeds, candidates)


@pytest.mark.parametrize(
    ("batch", "max_chunk", "threads", "small_sort", "workers"),
    [
        (None, 256, False, 1024, -1),  # one call, one chunk
        (None, 5, False, 0, 1),  # many chunks: kept ones cross chunk borders; top k by selection
        (13, 256, True, 1024, -1),  # several calls, rapidfuzz threads forced on
        (1, 256, False, 0, 1),  # one candidate per call
    ],
)
def test_gate_equals_sequential_reference(
    monkeypatch, batch, max_chunk, threads, small_sort, workers
):
    seeds, candidates, expected = gate_case()
    monkeypatch.setattr(rouge, "MAX_CHUNK", max_chunk)
    monkeypatch.setattr(rouge, "MIN_CHUNK", min(rouge.MIN_CHUNK, max_chunk))
    if threads:
        monkeypatch.setattr(rouge, "SERIAL_PAIRS", 0)
        monkeypatch.setattr(rouge, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(rouge, "SMALL_SORT", small_sort)
    index = RougeIndex(workers=workers)
    index.extend(seeds)
    step = batch or len(candidates)
    decisions = []
    for start in range(0, len(candidates), step):
        decisions += index.gate(candidates[start : start + step])
    dropped = sum(not d.kept for d in expected)
    assert 0.2 * len(expected) < dropped < 0.8 * len(expected)
    assert_same_decisions(decisions, expected)
    assert len(index) == len(seeds) + len(expected) - dropped


@pytest.mark.parametrize("limit", [0, 1, 5, 40, 10_000])
def test_gate_stops_after_limit_kept(limit):
    seeds, candidates, expected = gate_case()
    index = RougeIndex()
    index.extend(seeds)
    decisions = index.gate(candidates, limit=limit)
    kept_positions = [i for i, d in enumerate(expected) if d.kept]
    if limit == 0:
        decided = 0
    elif limit <= len(kept_positions):
        decided = kept_positions[limit - 1] + 1
    else:
        decided = len(expected)
    assert_same_decisions(decisions, expected[:decided])
    assert len(index) == len(seeds) + sum(d.kept for d in decisions)


@pytest.mark.parametrize(
    ("top_k", "expected_texts"),
    [
        (1, ["a b c d"]),
        (3, ["a b c d", "a b c d!", "b c d"]),
        (10, ["a b c d", "a b c d!", "b c d", "x y a", "z y b", "q r s", "!!"]),
    ],
)
def test_most_similar_highest_first_ties_in_pool_order(top_k, expected_texts):
    pool = ["q r s", "x y a", "a b c d", "z y b", "!!", "a b c d!", "b c d"]
    index = RougeIndex(threshold=1.0, top_k=top_k)
    index.extend(pool)
    decision = index.gate(["a b c d e"])[0]
    assert [text for text, _ in decision.most_similar] == expected_texts
    scores = [score for _, score in decision.most_similar]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("small_sort", [0, 1024])
@pytest.mark.parametrize("seed", range(6))
def test_top_k_indices_equals_a_stable_sort(monkeypatch, seed, small_sort):
    monkeypatch.setattr(rouge, "SMALL_SORT", small_sort)
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4 + 3 * seed, size=rng.integers(1, 400)) / 7
    for k in (1, 3, 10, 50):
        expected = np.argsort(-scores, kind="stable")[:k]
        assert top_k_indices(scores, k).tolist() == expected.tolist()


def test_empty_pool_keeps():
    decision = RougeIndex().gate(["Name three colours."])[0]
    assert decision == GateDecision(kept=True, max_score=0.0, most_similar=[], mean_score=0.0)


def test_same_call_duplicate_is_dropped_against_the_first():
    decisions = RougeIndex().gate(["Name three colours.", "name THREE colours!"])
    assert [d.kept for d in decisions] == [True, False]
    assert decisions[1].most_similar == [("Name three colours.", 1.0)]


@pytest.mark.parametrize(
    ("pool", "candidate"),
    [
        (["!!!", "日本語のテキスト", "List three fruits."], "???"),
        (["!!!", "日本語のテキスト", "List three fruits."], "List three fruits, please."),
        (["List three fruits."], "éèà —"),
        ([], "..."),
    ],
)
def test_instructions_without_tokens_score_zero(pool, candidate):
    index = RougeIndex()
    index.extend(pool)
    expected = [SCORER.score(candidate, p)["rougeL"].fmeasure for p in pool]
    assert index.scores(candidate).tolist() == expected
    assert index.gate([candidate])[0].max_score == max(expected, default=0.0)


def test_token_ids_past_the_surrogate_range():
    index = RougeIndex()
    index.add(" ".join(f"t{i}" for i in range(0xD800 + 100)))
    texts = [f"t{0xD7F0 + 7 * i} u{i} t{0xD800 + i} w{i} t5" for i in range(20)]
    index.extend(texts[:10])
    for candidate in texts[10:]:
        expected = [SCORER.score(candidate, p)["rougeL"].fmeasure for p in texts[:10]]
        assert index.scores(candidate)[1:].tolist() == expected


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 1.5}, {"threshold": -0.1}, {"top_k": 0}, {"workers": 0}]
)
def test_bad_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        RougeIndex(**kwargs)
