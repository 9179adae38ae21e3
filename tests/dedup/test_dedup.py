"""`instructgen dedup`: each mode's decisions in tables, rouge against rouge-score, the inputs
it reads, the folder it writes and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from pipeline.cli.main import main
from pipeline.dedup import DedupOptions, dedup
from pipeline.dedup.compare import decide
from pipeline.dedup.run import processing_order
from pipeline.errors import ConfigError
from pipeline.resources import data_file
from pipeline.seeds import load_seeds

A = "Give three tips for staying healthy and happy this winter"
A_EDIT = "Give three tips for staying healthy and happy this cold winter"  # F 0.96, J(1) 0.91
A_FAR = "Give three reasons why cats sleep during the day"  # F ~0.32 against A
B = "Write a short poem about the sea at night"
SOUP = "list every ingredient of a traditional french onion soup"


def kept(texts: list[str], **options) -> list[bool]:
    order = processing_order(texts, options.get("keep", "first"))
    verdicts = decide([texts[i] for i in order], DedupOptions(**options))
    result = [False] * len(texts)
    for position, verdict in zip(order, verdicts, strict=True):
        result[position] = verdict.dup_of is None
    return result


@pytest.mark.parametrize(
    ("options", "texts", "expected"),
    [
        ({}, [A, A], [True, False]),
        ({}, [A, A_EDIT], [True, False]),
        ({}, [A, A_FAR], [True, True]),
        ({}, [A, B, A_EDIT, B.upper()], [True, True, False, False]),
        ({"threshold": 0.99}, [A, A_EDIT], [True, True]),
        ({}, [A_EDIT, A], [True, False]),  # order matters: the first one stays
        ({"keep": "longest"}, [A, A_EDIT, B], [False, True, True]),
        (
            {"by": "exact"},
            [A, "  give three TIPS, for staying healthy and happy this winter!"],
            [True, False],
        ),
        ({"by": "exact"}, [A, A_EDIT], [True, True]),
        ({"by": "exact"}, ["", "", "?"], [True, True, True]),  # empty text: never a duplicate
        ({"by": "exact", "keep": "longest"}, ["a b", "A B."], [False, True]),
        ({"by": "minhash"}, [A, A.lower() + "."], [True, False]),
        ({"by": "minhash", "ngram": 1}, [A, A_EDIT, B], [True, False, True]),
        ({"by": "minhash"}, [A, A_FAR, B], [True, True, True]),
        ({"by": "minhash", "ngram": 1, "keep": "longest"}, [A, A_EDIT], [False, True]),
    ],
)
def test_decisions(options, texts, expected):
    assert kept(texts, **options) == expected


def test_rouge_decisions_equal_rouge_score_on_the_shipped_seeds():
    seeds = [e.instruction for e in load_seeds()]
    # The seeds, then word-level edits of them: some are near-duplicates, some not.
    texts = seeds + [" ".join(s.split()[1:]) for s in seeds[::2]] + [s + " now" for s in seeds[::2]]
    texts += [s.replace("the", "a") for s in seeds[1::4]]
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    pool: list[str] = []
    expected = []
    for text in texts:
        ok = all(scorer.score(k, text)["rougeL"].fmeasure <= 0.7 for k in pool)
        expected.append(ok)
        pool += [text] if ok else []
    assert len(texts) >= 300 and 0 < expected.count(False) < len(texts)
    assert kept(texts) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"by": "fuzzy"}, "--by must be one of rouge, minhash, exact"),
        ({"threshold": 1.5}, "--threshold must be 0..1"),
        ({"field": "input"}, "--field must be one of"),
        ({"keep": "last"}, "--keep must be one of"),
        ({"ngram": 0}, "--ngram must be 1 to 10"),
        ({"by": "exact", "similarity": True}, "--similarity is for --by rouge"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(ConfigError, match=message):
        DedupOptions(**options)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("field", "expected"),
    [("instruction", 1), ("instruction+input", 2), ("output", 2)],
)
def test_field(tmp_path, field, expected):
    rows = [
        {"instruction": A, "input": "about sleep", "output": "Sleep well."},
        {
            "instruction": A,
            "input": SOUP,
            "output": B,
        },
    ]
    data = write_jsonl(tmp_path / "a.jsonl", rows)
    stats = dedup([data], tmp_path / "out", DedupOptions(field=field))
    assert stats["funnel"]["kept"] == expected


def test_reads_formats_folders_and_runs_in_order(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    write_jsonl(folder / "1.jsonl", [{"instruction": A, "input": "", "output": "x"}])
    write_jsonl(folder / "2.jsonl", [{"instruction": B, "context": "", "response": "y"}])
    sharegpt = [{"id": "c1", "conversations": [{"from": "human", "value": A_EDIT},
                                               {"from": "gpt", "value": "z"}]}]  # fmt: skip
    (tmp_path / "chat.json").write_text(json.dumps(sharegpt), encoding="utf-8")
    run = tmp_path / "run"
    main(["dedup", str(folder), "--out", str(run), "--by", "exact"])
    stats = dedup([run, tmp_path / "chat.json", folder], tmp_path / "out", DedupOptions())
    assert [i["format"] for i in stats["dedup"]["inputs"]] == ["run", "sharegpt", "alpaca", "dolly"]
    assert stats["funnel"] == {
        "generated": 5, "dropped": {"dedup": {"exact_duplicate": 2, "near_duplicate": 1}},
        "dropped_total": 3, "kept": 2,
    }  # fmt: skip
    out = tmp_path / "out"
    assert [r["instruction"] for r in lines(out / "kept.jsonl")] == [A, B]
    assert lines(out / "kept.jsonl")[1]["meta"]["source"] == "2.jsonl"  # the run's meta kept
    assert len(json.loads((out / "alpaca.json").read_text())) == 2
    names = ["alpaca.json", "kept.jsonl", "removed.jsonl", "stats.json"]
    assert sorted(p.name for p in out.iterdir()) == names
    # The dolly row was kept in the first folder: written in its own format there too.
    assert [r["response"] for r in lines(run / "dolly.jsonl")] == ["y"]


def test_removed_names_the_kept_row_and_score(tmp_path):
    rows = [{"id": "a", "instruction": A, "output": "1"}, {"id": "e", "instruction": A_EDIT}]
    data = write_jsonl(tmp_path / "a.jsonl", [{"input": "", **r} for r in rows])
    dedup([data], tmp_path / "out", DedupOptions())
    (drop,) = lines(tmp_path / "out" / "removed.jsonl")
    assert (drop["filter"], drop["reason"], drop["example"]["id"]) == (
        "dedup",
        "near_duplicate",
        "e",
    )
    assert drop["meta"]["duplicate_of"] == {"id": "a", "text": A}
    assert drop["meta"]["score"] == pytest.approx(0.96, abs=0.01)


def test_similarity_records_alpacas_metadata(tmp_path):
    data = write_jsonl(tmp_path / "a.jsonl", [{"instruction": t, "input": ""} for t in (A, B)])
    dedup([data], tmp_path / "out", DedupOptions(similarity=True))
    first, second = lines(tmp_path / "out" / "kept.jsonl")
    assert "most_similar" not in first["meta"] or first["meta"]["most_similar"] == []
    assert second["meta"]["most_similar"][0][0] == A and "avg_similarity" in second["meta"]


def test_ids_stay_unique_across_inputs(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"instruction": A, "input": ""}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"instruction": B, "input": ""}])
    dedup([a, b], tmp_path / "out", DedupOptions())
    assert [r["id"] for r in lines(tmp_path / "out" / "kept.jsonl")] == ["seed_0", "b/seed_0"]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"instruction": "ok", "input": ""}\n{"instruction": \n', "bad.jsonl:2"),
        ('{"instruction": "", "input": "x"}\n', "bad.jsonl:1"),
        ('{"question": "q"}\n', "bad.jsonl:1"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, content, where):
    good = write_jsonl(tmp_path / "good.jsonl", [{"instruction": A, "input": ""}])
    (tmp_path / "bad.jsonl").write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["dedup", str(good), str(tmp_path / "bad.jsonl"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and where in err and ";" in err
    assert not out.exists()


def test_cli(tmp_path, capsys):
    seeds = data_file("seeds", "seed_tasks.jsonl")
    out = tmp_path / "out"
    assert main(["dedup", str(seeds), str(seeds), "--out", str(out), "--by", "minhash"]) == 0
    assert "dropped 148" in capsys.readouterr().out
    stats = json.loads((out / "stats.json").read_text())
    assert stats["dedup"]["by"] == "minhash" and stats["dedup"]["num_perm"] == 128
    funnel = stats["funnel"]
    assert funnel["generated"] == funnel["kept"] + funnel["dropped_total"] == 296
    assert main(["dedup", str(seeds), "--out", str(out), "--keep", "last"]) == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("mine")
    assert main(["dedup", str(seeds), "--out", str(tmp_path / "full")]) == 2
