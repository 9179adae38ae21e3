"""`instructgen score DATA`: any readable data scored and resumed through the CLI, a run
directory of conversations scored whole, a re-score with the other rubric keeping both
verdicts, the same verdicts over HTTP (online and as a batch), and bad input refused in one
line with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli.main import main
from pipeline.stub.server import StubServer
from tests.helpers import DATA, run

FORMATS = DATA / "formats"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def score(*args: str) -> int:
    return main(["score", *args, "--no-prefect", "--quiet"])


@pytest.mark.parametrize(
    "name", ["alpaca.json", "dolly.jsonl", "sharegpt.json", "superni_sentiment.json"]
)
def test_any_readable_file_is_scored_and_a_rerun_sends_nothing(tmp_path, name):
    out = tmp_path / "s"
    assert score(str(FORMATS / name), "--out", str(out), "--min-score", "3") == 0
    stats = json.loads((out / "stats.json").read_text())
    s, funnel = stats["score"], stats["funnel"]
    assert s["examples"] == s["judged"] == funnel["generated"] == stats["requests"]["total"] > 0
    assert funnel["generated"] == funnel["kept"] + funnel["dropped_total"]
    assert stats["stopped"] == "done" and stats["inputs"][0]["rows"] == s["examples"]
    assert score(str(FORMATS / name), "--out", str(out), "--min-score", "3") == 0
    again = json.loads((out / "stats.json").read_text())
    assert again["session"]["requests_sent"] == 0 and again["funnel"] == funnel


def test_a_conversations_run_is_scored_whole_and_rescored_on_the_other_rubric(tmp_path):
    chats = tmp_path / "chats"
    run(chats, method="conversations", judge="inline", limit=6, turns="2-3")
    conversations = lines(chats / "kept.jsonl")
    quality, both = tmp_path / "q", tmp_path / "qc"
    assert score(str(chats), "--out", str(quality)) == 0
    scored = lines(quality / "kept.jsonl")
    assert [e["messages"] for e in scored] == [
        c["messages"] for c in conversations if any(c["id"] == e["id"] for e in scored)
    ]
    assert len(scored) + len(lines(quality / "removed.jsonl")) == len(conversations)
    assert score(str(quality), "--out", str(both), "--rubric", "complexity") == 0
    for e in lines(both / "kept.jsonl"):
        assert set(e["meta"]["scores"]) == {"quality", "complexity"}


def test_the_judge_over_http_gives_the_same_verdicts_online_and_as_a_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    data = str(FORMATS / "alpaca.json")
    assert score(data, "--out", str(tmp_path / "local"), "--min-score", "4") == 0
    with StubServer(ignore_slot=True) as server:
        http = ["--backend", "openai", "--base-url", server.base_url, "--model", "stub"]
        assert score(data, "--out", str(tmp_path / "online"), "--min-score", "4", *http) == 0
        batch = [*http, "--batch", "--poll-seconds", "0.05"]
        assert score(data, "--out", str(tmp_path / "batch"), "--min-score", "4", *batch) == 0
    for name in ("kept.jsonl", "removed.jsonl"):
        local = (tmp_path / "local" / name).read_text()
        assert (
            local
            == (tmp_path / "online" / name).read_text()
            == (tmp_path / "batch" / name).read_text()
        )
    stats = json.loads((tmp_path / "batch" / "stats.json").read_text())
    assert stats["batch"]["waves"] >= 1


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"instruction": "ok", "output": "fine"}\n{"instruction": \n', "bad.jsonl:2"),
        ('{"instruction": "", "output": "x"}\n', "bad.jsonl:1"),
        ('{"question": "q"}\n', "bad.jsonl:1"),
    ],
)
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, capsys, content, where):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    assert score(str(bad), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and where in err
    assert not out.exists()


def test_missing_data_and_bad_settings_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert score(str(tmp_path / "nothing.jsonl"), "--out", str(out)) == 2
    assert "nothing.jsonl" in capsys.readouterr().err
    data = str(FORMATS / "alpaca.json")
    assert score(data, "--out", str(out), "--rubric", "style") == 2
    assert "--rubric must be one of quality, complexity" in capsys.readouterr().err
    assert score(data, "--out", str(out), "--min-score", "7") == 2
    assert not out.exists()


def test_estimate_score_counts_every_judge_prompt_of_the_data(capsys):
    data = str(FORMATS / "alpaca.json")
    estimates = []
    for args in (["score", data], ["grade", "--from", data]):
        assert main(["estimate", *args, "--model", "gpt-4o-mini", "--json"]) == 0
        estimates.append(json.loads(capsys.readouterr().out))
    assert estimates[0] == estimates[1]
    assert estimates[0]["requests"]["expected"] == len(json.loads(Path(data).read_text()))
