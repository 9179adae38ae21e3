"""Merging shard runs: one ROUGE-L pass over their union, in round-robin order."""

from __future__ import annotations

import json

import pytest

from pipeline.cli.main import main
from pipeline.engine.merge import merge_runs
from pipeline.errors import ConfigError
from pipeline.filters.rouge.index import RougeIndex
from pipeline.seeds import load_seeds
from tests.helpers import run


def kept(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "kept.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two Self-Instruct shards of one run: every setting the same but --seed."""
    base = tmp_path_factory.mktemp("shards")
    for seed in (0, 1):
        run(base / f"s{seed}", seed=seed, target=40, judge="inline")
    return [base / "s0", base / "s1"]


def test_merge_gates_the_union_against_seeds_and_itself(shards, tmp_path):
    stats = merge_runs(shards, tmp_path / "m")
    merged = kept(tmp_path / "m")
    funnel = stats["funnel"]
    assert funnel["generated"] == 80 == funnel["kept"] + funnel["dropped_total"]
    assert len(merged) == funnel["kept"] and len({e["id"] for e in merged}) == len(merged)
    # No kept instruction is too similar to a seed or to one kept before it.
    gate = RougeIndex(threshold=0.7)
    gate.extend([s.instruction for s in load_seeds()])
    for example in merged:
        assert max(gate.scores(example["instruction"])) <= 0.7
        gate.add(example["instruction"])
    assert [s["kept"] for s in stats["shards"]] == [40, 40]


def test_order_is_round_robin_and_output_is_reproducible(shards, tmp_path):
    merge_runs(shards, tmp_path / "a")
    merge_runs(shards, tmp_path / "b")
    first = kept(tmp_path / "a")
    assert [e["id"][:3] for e in first[:4]] == ["s0-", "s1-", "s0-", "s1-"]
    assert first[0]["meta"]["shard_id"] == kept(shards[0])[0]["id"]
    for name in ("kept.jsonl", "removed.jsonl", "alpaca.json", "stats.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_shard_run_twice_adds_nothing(shards, tmp_path):
    twin = tmp_path / "twin"
    run(twin, seed=0, target=40, judge="inline")  # shard 0 again, in another folder
    stats = merge_runs([shards[0], twin], tmp_path / "m")
    assert stats["funnel"]["kept"] == 40
    removed = [json.loads(x) for x in (tmp_path / "m" / "removed.jsonl").read_text().splitlines()]
    assert len(removed) == 40 and {(r["filter"], r["reason"]) for r in removed} == {
        ("rouge", "too_similar")
    }


def test_target_takes_evenly_from_the_shards(shards, tmp_path):
    stats = merge_runs(shards, tmp_path / "m", target=10)
    ids = [e["id"][:3] for e in kept(tmp_path / "m")]
    assert len(ids) == 10 and ids.count("s0-") >= 4 and ids.count("s1-") >= 4
    assert stats["unjudged_after_target"] > 0


def test_unnatural_reformulations_follow_their_core(tmp_path):
    folders = [tmp_path / f"u{seed}" for seed in (0, 1)]
    for seed, folder in enumerate(folders):
        run(folder, method="unnatural", seed=seed, target=6, paraphrases=2, judge="inline")
    merge_runs(folders, tmp_path / "m")
    merged = kept(tmp_path / "m")
    cores = {e["id"] for e in merged if e["meta"]["stage"] == "core"}
    reformulations = [e for e in merged if e["meta"]["stage"] == "reformulation"]
    assert reformulations and all(r["meta"]["core_id"] in cores for r in reformulations)
    full = [json.loads(x) for x in (tmp_path / "m" / "full.jsonl").read_text().splitlines()]
    assert len(full) == len(cores)


def _other_threshold(tmp_path, shards):
    run(tmp_path / "x", target=5, rouge_threshold=0.8, judge="inline")
    return [shards[0], tmp_path / "x"], "differs from"


def _evol(tmp_path, shards):
    run(tmp_path / "e", method="evol-instruct", rounds=1, limit=3, judge="inline")
    return [tmp_path / "e"], "no ROUGE gate"


BAD = [
    ("not a run", lambda p, s: ([p], "not a run directory")),
    ("same shard twice", lambda p, s: ([s[0], s[0]], "given twice")),
    ("settings differ", _other_threshold),
    ("evol-instruct", _evol),
]


@pytest.mark.parametrize("case, make", BAD, ids=[b[0] for b in BAD])
def test_bad_merges_name_the_fix(shards, tmp_path, case, make):
    runs, expected = make(tmp_path, shards)
    with pytest.raises(ConfigError, match=expected):
        merge_runs(runs, tmp_path / "m")


def test_merge_command(shards, tmp_path, capsys):
    code = main(["merge", *map(str, shards), "--out", str(tmp_path / "m"), "--target", "12"])
    assert code == 0 and "12 kept of" in capsys.readouterr().out
    code = main(["merge", *map(str, shards), "--out", str(shards[1])])
    assert code == 2 and "is one of the shards" in capsys.readouterr().err
