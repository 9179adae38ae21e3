"""RougeIndex against rouge-score itself: the same F bit for bit, the same sequential decisions."""

from __future__ import annotations

import dataclasses
import functools
import random

import numpy as np
import pytest
from rouge_score import rouge_scorer
from rouge_score.tokenize import tokenize as rouge_tokenize

from pipeline.errors import ConfigError
from pipeline.filters.rouge import chunk as rouge_chunk
from pipeline.filters.rouge import index as rouge
from pipeline.filters.rouge import kernels as rouge_kernels
from pipeline.filters.rouge import prefix as rouge_prefix
from pipeline.filters.rouge import vocab as rouge_vocab
from pipeline.filters.rouge.index import GateDecision, RougeIndex, tokenize
from pipeline.filters.rouge.kernels import f_measure, f_rows, top_k_indices
from pipeline.filters.rouge.prefix import Postings

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


@pytest.mark.parametrize("table_ratio", [0, 4, 10**9])  # always, when it pays, never a table
@pytest.mark.parametrize("seed", range(3))
def test_f_rows_equals_f_measure_bit_for_bit(monkeypatch, seed, table_ratio):
    # Every reachable (lcs, size, col_len) up to 40 tokens: all the boundary sweep's included.
    monkeypatch.setattr(rouge_kernels, "TABLE_RATIO", table_ratio)
    rng = np.random.default_rng(seed)
    sizes = [0, 1, 9, 10, 11, 20, 40, *rng.integers(0, 41, 9).tolist()]
    col_len = np.arange(41, dtype=np.int32).repeat(3 + seed)
    lcs = np.minimum(rng.integers(0, 41, (len(sizes), col_len.size)), col_len)
    lcs = np.minimum(lcs, np.array(sizes)[:, None]).astype(np.int32)
    expected = f_measure(lcs, np.array(sizes, dtype=np.float64)[:, None], col_len[None, :])
    assert f_rows(lcs.copy(), sizes, col_len).tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    ("lcs", "cand_len", "pool_len", "kept"), [(7, 11, 9, False), (7, 10, 10, True)]
)
@pytest.mark.parametrize("path", ["full", "bound"])
def test_gate_decides_the_boundary_like_rouge_score(
    monkeypatch, lcs, cand_len, pool_len, kept, path
):
    candidate, pool_item = crafted_pair(lcs, cand_len, pool_len)
    use_settings(monkeypatch, path=path)
    index = RougeIndex()
    index.add(pool_item)
    assert index.gate([candidate])[0].kept is kept


def assert_same_decisions(ours: list[GateDecision], expected: list[GateDecision]) -> None:
    """Equal to the bit, except a drop's mean, only a lower bound (Alpaca keeps no drops)."""
    assert len(ours) == len(expected)
    for got, want in zip(ours, expected, strict=True):
        if not want.kept:
            # Unscored pool items count as 0; the sum runs in another order, hence the slack.
            assert 0.0 <= got.mean_score <= want.mean_score * (1 + 1e-12)
            got = dataclasses.replace(got, mean_score=want.mean_score)
        assert got == want


def reference_gate(
    pool: list[str], candidates: list[str], top_k: int = 10, threshold: float = 0.7
) -> list[GateDecision]:
    """The plain sequential gate: rouge-score per pair, one candidate at a time."""
    pool_tokens = [tokens(p) for p in pool]
    texts = list(pool)
    decisions = []
    for candidate in candidates:
        cand_tokens = tokens(candidate)
        scores = [rouge_scorer._score_lcs(cand_tokens, p).fmeasure for p in pool_tokens]
        best = max(scores, default=0.0)
        order = sorted(range(len(scores)), key=lambda j: -scores[j])[:top_k]
        kept = not scores or best <= threshold
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


# How the gate picks its path: always bound, always score every pair, or by the drop rate.
PATHS = {"bound": (0.0, 0.0), "full": (2.0, 0.0), "adaptive": (0.3, 0.0)}


def use_settings(
    monkeypatch, max_chunk=256, path="adaptive", threads=None, small_sort=1024, renumber=False
):
    """Monkeypatch the gate's tuning constants; `threads` forces "rapidfuzz" or "split" ones.

    small_sort=0 selects every top k from the fewest candidates, even in small pools;
    `renumber` renumbers the tokens at every gate() call."""
    monkeypatch.setattr(rouge, "MAX_CHUNK", max_chunk)
    monkeypatch.setattr(rouge, "MIN_CHUNK", min(rouge.MIN_CHUNK, max_chunk))
    drops, pool = PATHS[path]
    monkeypatch.setattr(rouge, "BOUND_DROPS", drops)
    monkeypatch.setattr(rouge, "BOUND_POOL", pool)
    if threads:
        monkeypatch.setattr(rouge, "SERIAL_PAIRS", 0)
        monkeypatch.setattr(rouge, "PARALLEL_ROWS", 0 if threads == "rapidfuzz" else 10**9)
    monkeypatch.setattr(rouge_kernels, "SMALL_SORT", small_sort)
    if small_sort == 0:
        monkeypatch.setattr(rouge_chunk, "BLOCKS", 12)
        monkeypatch.setattr(rouge_chunk, "MIN_PICK", 0)
    if renumber:
        monkeypatch.setattr(rouge_vocab, "RERANK_FROM", 1)
        monkeypatch.setattr(rouge_vocab, "RERANK_GROWTH", 1)


def run_gate(index: RougeIndex, candidates: list[str], batch: int | None) -> list[GateDecision]:
    step = batch or len(candidates)
    decisions = []
    for start in range(0, len(candidates), step):
        decisions += index.gate(candidates[start : start + step])
    return decisions


@pytest.mark.parametrize(
    ("batch", "max_chunk", "path", "threads", "small_sort", "workers", "renumber"),
    [
        (None, 256, "full", None, 1024, -1, False),  # one call, one chunk
        (None, 5, "full", None, 0, 1, False),  # many chunks: keeps cross chunk borders
        (13, 256, "full", "rapidfuzz", 1024, -1, True),  # rapidfuzz threads; renumbered tokens
        (1, 256, "full", None, 0, 1, False),  # one candidate per call
        (None, 256, "bound", None, 1024, -1, False),
        (None, 5, "bound", "split", 0, 2, False),  # our threads over the pool
        (13, 256, "adaptive", "rapidfuzz", 1024, -1, True),
        (1, 256, "bound", None, 0, 1, True),  # renumbered before every candidate
    ],
)
def test_gate_equals_sequential_reference(
    monkeypatch, batch, max_chunk, path, threads, small_sort, workers, renumber
):
    seeds, candidates, expected = gate_case()
    use_settings(monkeypatch, max_chunk, path, threads, small_sort, renumber)
    index = RougeIndex(workers=workers)
    index.extend(seeds)
    decisions = run_gate(index, candidates, batch)
    dropped = sum(not d.kept for d in expected)
    assert 0.2 * len(expected) < dropped < 0.8 * len(expected)
    assert_same_decisions(decisions, expected)
    assert len(index) == len(seeds) + len(expected) - dropped


REPEATED = ["the the the", "the the the the", "a a list a", "dog dog cat dog dog", "list"]
TOKENLESS = ["", "!!!", "— …", "日本語のテキスト", "?"]


def saturated(rng: random.Random, count: int) -> list[str]:
    """Mostly one-word edits of earlier texts, with repeated words and texts without tokens."""
    made: list[str] = []
    while len(made) < count:
        roll = rng.random()
        if made and roll < 0.75:
            words = rng.choice(made).split()
            at = rng.randint(0, len(words))
            if roll < 0.55 or not words:
                words.insert(at, rng.choice(WORDS))
            elif roll < 0.65:
                words[at - 1] = rng.choice(WORDS)
            else:
                del words[at - 1]
            made.append(" ".join(words))
        elif roll < 0.85:
            made.append(rng.choice(REPEATED) + rng.choice(["", " " + rng.choice(WORDS)]))
        elif roll < 0.9:
            made.append(rng.choice(TOKENLESS))
        else:
            made.append(random_instruction(rng))
    return made


@functools.cache
def saturated_case(threshold: float) -> tuple[list[str], list[str], list[GateDecision]]:
    rng = random.Random(11)
    instructions = saturated(rng, 260)
    seeds, candidates = instructions[:20], instructions[20:]
    return seeds, candidates, reference_gate(seeds, candidates, threshold=threshold)


@pytest.mark.parametrize(
    ("threshold", "batch", "max_chunk", "path", "table"),
    [
        (0.7, None, 256, "bound", False),  # one chunk: the in-chunk matrix decides many
        (0.7, None, 4, "bound", True),  # small chunks; kept rows' F from a table
        (0.7, 9, 256, "adaptive", False),  # switching paths between calls
        (0.7, 1, 256, "bound", False),
        (0.5, None, 7, "bound", True),
        (0.0, None, 16, "bound", False),  # every pair passes the bound: whole rows
        (1.0, None, 16, "bound", False),  # only exact copies could beat it; none can
    ],
)
def test_bounded_gate_equals_reference_when_saturated(
    monkeypatch, threshold, batch, max_chunk, path, table
):
    seeds, candidates, expected = saturated_case(threshold)
    use_settings(monkeypatch, max_chunk, path, renumber=batch is not None)
    if table:
        monkeypatch.setattr(rouge_kernels, "TABLE_RATIO", 0)
    index = RougeIndex(threshold=threshold)
    index.extend(seeds)
    decisions = run_gate(index, candidates, batch)
    assert_same_decisions(decisions, expected)
    if threshold == 0.7:
        assert sum(not d.kept for d in expected) > 0.6 * len(expected)


STOP_WORDS = ["the", "a", "of", "to", "and", "in", "is", "the", "a"]
RARE = [f"topic{i}" for i in range(40)]


def stop_word_heavy(rng: random.Random, count: int) -> list[str]:
    """Texts mostly of a few stop words, each posting list as long as the pool, few rare words."""
    made: list[str] = []
    while len(made) < count:
        if made and rng.random() < 0.6:
            words = rng.choice(made).split()
            words.insert(rng.randint(0, len(words)), rng.choice(STOP_WORDS + RARE[:3]))
        else:
            words = [rng.choice(STOP_WORDS) for _ in range(rng.randint(0, 16))]
            words += rng.sample(RARE, rng.randint(0, 3))
            rng.shuffle(words)
        made.append(" ".join(words))
    return made


@pytest.mark.parametrize(
    ("seed", "threshold", "batch", "max_chunk"),
    [(5, 0.7, None, 256), (6, 0.7, 7, 16), (7, 0.5, None, 32), (8, 0.9, 1, 256)],
)
def test_bounded_gate_equals_reference_on_stop_words(
    monkeypatch, seed, threshold, batch, max_chunk
):
    instructions = stop_word_heavy(random.Random(seed), 240)
    seeds, candidates = instructions[:40], instructions[40:]
    expected = reference_gate(seeds, candidates, threshold=threshold)
    use_settings(monkeypatch, max_chunk, "bound")
    index = RougeIndex(threshold=threshold)
    index.extend(seeds)
    assert_same_decisions(run_gate(index, candidates, batch), expected)
    assert 0.2 * len(expected) < sum(not d.kept for d in expected) < len(expected)


def test_bound_scores_few_pairs_exactly(monkeypatch):
    seeds, candidates, expected = saturated_case(0.7)
    use_settings(monkeypatch, path="bound")
    monkeypatch.setattr(rouge, "LOOP_MAX", 10**9)  # every pair the search scores: one call each
    scored = []
    lcs_length = rouge.lcs_length
    monkeypatch.setattr(rouge, "lcs_length", lambda a, b: scored.append(1) or lcs_length(a, b))
    index = RougeIndex()
    index.extend(seeds)
    assert_same_decisions(index.gate(candidates), expected)
    # Against 20 pool items, 240 candidates would be 4,800 pairs without the search.
    assert 0 < len(scored) < 0.1 * len(seeds) * len(candidates)


@pytest.mark.parametrize(
    ("case", "bound_drops", "bound_pool", "indexed"),
    [
        (gate_case, 0.1, 1000, False),  # a small pool: scoring every pair is cheaper
        (lambda: saturated_case(0.7), 0.1, 1000, False),
        (gate_case, 0.1, 0, True),  # 20-80% drops are plenty once the pool size is no matter
        (lambda: saturated_case(0.7), 0.1, 0, True),
        (gate_case, 0.95, 0, False),  # too few drops
    ],
)
def test_gate_bounds_only_when_drops_pay_for_it(
    monkeypatch, case, bound_drops, bound_pool, indexed
):
    seeds, candidates, _ = case()
    monkeypatch.setattr(rouge, "BOUND_DROPS", bound_drops)
    monkeypatch.setattr(rouge, "BOUND_POOL", bound_pool)
    index = RougeIndex()
    index.extend(seeds)
    run_gate(index, candidates, 40)
    assert (index._postings.count > 0) is indexed


@pytest.mark.parametrize(
    ("pool", "candidate", "expected"),
    [
        (["the the the", "the cat", "a dog"], "the the cat", [2, 2, 0]),
        (["list list list", "list", "!!!"], "List, list.", [2, 1, 0]),
        (["a b a b a", "b b"], "b a b", [3, 2]),
        (["a b", "c"], "...", [0, 0]),
    ],
)
def test_overlap_counts_shared_tokens_with_multiplicity(pool, candidate, expected):
    index = RougeIndex()
    index.extend(pool)
    index._postings.catch_up(index._codes)
    assert index._postings.overlap(index._encode(candidate)).tolist() == expected


POOL = ["the cat sat", "the the cat", "a dog", "cat dog the", "the"]


@pytest.mark.parametrize(
    ("candidate", "floor", "extra", "items", "upper"),
    [
        ("the cat", 2, 2, [0, 1, 3], [2, 2, 2]),  # every term read: exact overlaps
        ("the cat", 1, 2, [0, 1, 3, 4], [2, 2, 2, 1]),
        ("the cat", 2, 0, [0, 1, 3], [2, 2, 2]),  # "cat" only, the rarer: "the" may add 1
        ("The, the cat!", 3, 0, [1], [3]),  # the second "the" is the rarest term
        ("the the the", 3, 0, [], []),  # no item has three
        ("zebra the", 2, 0, [], []),  # "zebra" is in no item: none can share both
        ("zebra the", 1, 0, [0, 1, 3, 4], [1, 1, 1, 1]),  # sharing one term: both are read
        ("", 1, 2, [], []),
    ],
)
def test_candidates_table(monkeypatch, candidate, floor, extra, items, upper):
    monkeypatch.setattr(rouge_prefix, "PREFIX_EXTRA", extra)
    index = RougeIndex()
    index.extend(POOL)
    index._postings.catch_up(index._codes)
    got_items, got_upper = index._postings.candidates(index._encode(candidate), floor)
    assert (got_items.tolist(), got_upper.tolist()) == (items, upper)


@pytest.mark.parametrize("extra", [0, 1, 2, 100])
@pytest.mark.parametrize("group_cells", [1, 1000, 1 << 18])  # codes counted one or more at a time
def test_candidates_hold_every_item_sharing_enough(monkeypatch, extra, group_cells):
    monkeypatch.setattr(rouge_prefix, "PREFIX_EXTRA", extra)
    monkeypatch.setattr(rouge_prefix, "GROUP_CELLS", group_cells)
    seeds, candidates, _ = saturated_case(0.7)
    postings, index = Postings(), RougeIndex()
    index.extend(seeds + candidates[:100])
    postings.catch_up(index._codes)
    for candidate in candidates[100:]:
        code = index._encode(candidate)
        overlap = postings.overlap(code)
        for floor in range(1, len(code) + 1):
            items, upper = postings.candidates(code, floor)
            assert items.tolist() == sorted(set(items.tolist()))
            assert set(np.flatnonzero(overlap >= floor)) <= set(items.tolist())
            assert (upper >= overlap[items]).all()


@pytest.mark.parametrize(
    ("texts", "ranked"),
    [
        (["b a a", "a c"], ["a", "b", "c"]),  # "a" three times, then ties in their old order
        (["x y", "y z y"], ["y", "x", "z"]),
        (["q"], ["q"]),
    ],
)
def test_renumbering_puts_frequent_tokens_first_and_keeps_every_score(monkeypatch, texts, ranked):
    monkeypatch.setattr(rouge_vocab, "RERANK_FROM", 1)
    index = RougeIndex()
    index.extend(texts[:-1])
    assert index.gate(texts[-1:])[0].kept  # one item joins through the gate
    before = [index.scores(t).tolist() for t in texts]
    index.gate([])  # renumbers
    assert [index._vocab._chars[t] for t in ranked] == [chr(1 + i) for i in range(len(ranked))]
    assert [index.scores(t).tolist() for t in texts] == before
    assert index._first == {code: i for i, code in reversed(list(enumerate(index._codes)))}


@pytest.mark.parametrize(
    ("code", "keys"),
    [("abc", ["a", "b", "c"]), ("aba", ["a", "b", "aa"]), ("aaa", ["a", "aa", "aaa"]), ("", [])],
)
def test_term_keys_number_the_copies_of_a_token(code, keys):
    assert rouge_prefix.term_keys(code) == keys


@pytest.mark.parametrize("path", ["full", "bound"])
@pytest.mark.parametrize(
    ("pool", "candidate", "expected"),
    [
        # Exact duplicates (the same tokens): the first in pool order.
        (["a b", "List three fruits.", "x", "list THREE fruits!"], "List three fruits?", 1),
        # Equal scores above the threshold: the first in pool order.
        (["p q", "a b c d e x", "a b c d e y", "a b c d x e"], "a b c d e z", 1),
        (["a b c d e y w", "a b c d e x"], "a b c d e z", 1),  # the higher score wins
        (["c d", "the the a b", "the a b the"], "the the a b the", 1),  # repeated tokens
    ],
)
def test_drop_names_the_first_nearest(monkeypatch, path, pool, candidate, expected):
    use_settings(monkeypatch, path=path)
    index = RougeIndex()
    index.extend(pool)
    decision = index.gate([candidate])[0]
    scores = [SCORER.score(candidate, p)["rougeL"].fmeasure for p in pool]
    assert not decision.kept
    assert decision.most_similar == [(pool[expected], max(scores))]
    assert scores.index(max(scores)) == expected


@pytest.mark.parametrize(
    ("blocks", "pick_ratio", "pair_budget"),
    [
        (12, 8, 4_000_000),  # picks the top k among a few columns
        (12, 0, 4_000_000),  # always selects from the whole row
        (10, 10**9, 4_000_000),  # picks even among many ties; as many blocks as k
        (128, 8, 1),  # one row per cdist call: decisions span batches
    ],
)
@pytest.mark.parametrize("case", ["gate", "saturated", "stop_words"])
@pytest.mark.parametrize("path", ["full", "bound"])
def test_keeps_evidence_by_every_route(monkeypatch, blocks, pick_ratio, pair_budget, case, path):
    if case == "gate":
        seeds, candidates, expected = gate_case()
    elif case == "saturated":
        seeds, candidates, expected = saturated_case(0.7)
    else:
        instructions = stop_word_heavy(random.Random(5), 240)
        seeds, candidates = instructions[:40], instructions[40:]
        expected = reference_gate(seeds, candidates)
    use_settings(monkeypatch, 64, path)
    monkeypatch.setattr(rouge_chunk, "BLOCKS", blocks)
    monkeypatch.setattr(rouge_chunk, "MIN_PICK", 0)
    monkeypatch.setattr(rouge_chunk, "PICK_RATIO", pick_ratio)
    monkeypatch.setattr(rouge, "PAIR_BUDGET", pair_budget)
    index = RougeIndex()
    index.extend(seeds)
    assert_same_decisions(run_gate(index, candidates, 50), expected)


@pytest.mark.parametrize("path", ["full", "bound"])
@pytest.mark.parametrize("limit", [0, 1, 5, 40, 10_000])
def test_gate_stops_after_limit_kept(monkeypatch, limit, path):
    seeds, candidates, expected = gate_case()
    use_settings(monkeypatch, path=path)
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
    monkeypatch.setattr(rouge_kernels, "SMALL_SORT", small_sort)
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4 + 3 * seed, size=rng.integers(1, 400)) / 7
    for k in (1, 3, 10, 50):
        expected = np.argsort(-scores, kind="stable")[:k]
        assert top_k_indices(scores, k).tolist() == expected.tolist()


@pytest.mark.parametrize("path", ["full", "bound"])
def test_gate_from_an_empty_pool(monkeypatch, path):
    candidates = ["Name three colours.", "", "name THREE colours!", "!!", "Name three fruits."]
    candidates += ["name three colours", "a b c d e f g"]
    use_settings(monkeypatch, path=path)
    assert_same_decisions(RougeIndex().gate(candidates), reference_gate([], candidates))


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


# Characters whose lower() grows or changes script, digits of other scripts, unusual spaces.
TRICKY = ["İ", "ẞ", "ß", "K", "Å", "ǅ", "ﬁ", "Σ", "٣", "५", "０", "²", "①", "é", "日", "_", "-"]
TRICKY += ["\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2028", "\u3000"]


def random_unicode(rng: random.Random) -> str:
    """Up to 30 characters: tricky ones, printable ASCII and any code point but surrogates."""
    chars = []
    for _ in range(rng.randint(0, 30)):
        roll = rng.random()
        if roll < 0.4:
            chars.append(rng.choice(TRICKY))
        elif roll < 0.8:
            chars.append(chr(rng.randint(0x20, 0x7E)))
        else:
            chars.append(chr(rng.choice([rng.randint(0, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])))
    return "".join(chars)


@pytest.mark.parametrize("seed", range(4))
def test_tokenize_equals_rouge_score_on_random_unicode(seed):
    rng = random.Random(seed)
    texts = [random_unicode(rng) for _ in range(5000)]
    assert [tokenize(t) for t in texts] == [rouge_tokenize(t, None) for t in texts]
    assert sum(bool(rouge_tokenize(t, None)) for t in texts) > 4000


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("nul", [False, True])  # a NUL in a text: one at a time instead
def test_encode_all_equals_encode_one_at_a_time(seed, nul):
    rng = random.Random(seed)
    texts = [random_unicode(rng) for _ in range(2000)]
    if nul:
        texts[7] += "\0x y\0"
    one_at_a_time, together = RougeIndex(), RougeIndex()
    expected = [one_at_a_time._encode(t) for t in texts]
    assert together._encode_all(texts) == expected
    assert together._vocab._chars == one_at_a_time._vocab._chars


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("İstanbul", ["i", "stanbul"]),  # lower() adds a combining dot, a separator
        ("STRAẞE ﬁle", ["stra", "e", "le"]),
        ("x\xa0y\tz\u3000w\nv", ["x", "y", "z", "w", "v"]),
        ("٣ ５ 42", ["42"]),
        ("", []),
    ],
)
def test_tokenize_table(text, expected):
    assert tokenize(text) == expected == rouge_tokenize(text, None)


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 1.5}, {"threshold": -0.1}, {"top_k": 0}, {"workers": 0}]
)
def test_bad_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        RougeIndex(**kwargs)
