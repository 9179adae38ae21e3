"""The checkpoint (pipeline/engine/checkpoint.py): a resumed run judges only what its checkpoint
had not, a finished run re-run returns at once with its outputs untouched, a higher target
goes on from the finished state, and whenever the checkpoint cannot give exactly what a replay
would (a changed output, a lower --patience) the run replays instead. Every method's kill
points against the checkpoint are in tests/contract/test_methods.py."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from pipeline.cli.main import main
from pipeline.engine import checkpoint
from pipeline.engine.judge import Judge
from pipeline.store import RunDir
from pipeline.types import Completion
from tests.helpers import CountingBackend, Killed, count_judged, run

OUTPUTS = ("kept.jsonl", "removed.jsonl", "alpaca.json")
SI = {"target": 300, "judge": "inline"}


@pytest.fixture
def judged(monkeypatch) -> Counter:
    return count_judged(monkeypatch)


def files(out) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def without_session(stats: dict) -> dict:
    cost = {k: v for k, v in stats["cost"].items() if k != "usd_this_session"}
    return {**{k: v for k, v in stats.items() if k != "session"}, "cost": cost}


def test_a_resumed_run_judges_only_the_answers_after_its_checkpoint(tmp_path, judged):
    run(tmp_path / "ref", **SI)
    everything, paid = judged["answers"], Counter()
    judged.clear()
    with pytest.raises(Killed):
        run(tmp_path / "r", CountingBackend(paid, die_after=10), **SI)
    before = judged["answers"]
    run(tmp_path / "r", CountingBackend(paid), **SI)
    assert 0 < before < everything and judged["answers"] == everything  # none twice
    assert files(tmp_path / "r") == files(tmp_path / "ref")


def test_a_finished_run_rerun_returns_at_once_with_its_outputs_untouched(tmp_path, monkeypatch):
    out = tmp_path / "r"
    first = run(out, **SI)
    stamps = {name: (out / name).stat().st_mtime_ns for name in OUTPUTS}

    def never(*args):
        raise AssertionError("a finished run judged an answer again")

    monkeypatch.setattr(Judge, "take", never)
    again = run(out, **SI)
    assert {name: (out / name).stat().st_mtime_ns for name in stamps} == stamps
    assert without_session(again) == without_session(json.loads((out / "stats.json").read_text()))
    assert again["funnel"] == first["funnel"] and again["stopped"] == "target"
    assert (
        again["requests"]["from_cache"] == again["requests"]["total"] == first["requests"]["total"]
    )
    assert again["session"]["requests_sent"] == 0


UN = {"method": "unnatural", "paraphrases": 1, "judge": "inline"}


@pytest.mark.parametrize(
    ("config", "die_after"),
    [(SI, 12), ({**UN, "target": 16}, 20), ({**UN, "target": 16}, 30)],
    ids=["self-instruct", "unnatural in outputs", "unnatural in reformulations"],
)
def test_the_stats_from_a_checkpoint_are_a_replays(tmp_path, config, die_after):
    with pytest.raises(Killed):
        run(tmp_path / "a", CountingBackend(die_after=die_after), **config)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / checkpoint.FILE).unlink()
    restored, replayed = run(tmp_path / "a", **config), run(tmp_path / "b", **config)
    assert without_session(restored) == without_session(replayed)
    assert restored["stopped"] == "target"  # the first stage ended in the killed session
    assert files(tmp_path / "a") == files(tmp_path / "b")


@pytest.mark.parametrize(
    ("config", "first", "then"),
    [
        (SI, 100, 250),
        (SI, 57, 133),
        (SI, 300, 301),
        (SI, 300, 100),  # lower: the checkpoint holds too many, the run replays
        (UN, 8, 16),  # past the first stage: it goes on from its end, the others replay
    ],
)
def test_a_new_target_ends_as_a_run_to_it_does(tmp_path, judged, config, first, then):
    run(tmp_path / "direct", **{**config, "target": then})
    direct = judged["answers"]
    run(tmp_path / "r", **{**config, "target": first})
    judged.clear()
    stats = run(tmp_path / "r", **{**config, "target": then})
    assert files(tmp_path / "r") == files(tmp_path / "direct")
    assert stats["funnel"] == json.loads((tmp_path / "direct" / "stats.json").read_text())["funnel"]
    if then > first:
        assert judged["answers"] < direct  # the first run's answers were not all judged again


@pytest.mark.parametrize(
    "change",
    [
        lambda out: (out / "alpaca.json").unlink(),
        lambda out: (out / "kept.jsonl").write_text("{}\n"),
        lambda out: (out / "report.html").unlink(),
    ],
    ids=["alpaca.json gone", "kept.jsonl edited", "report.html gone"],
)
def test_an_output_changed_or_gone_is_written_again(tmp_path, change):
    out = tmp_path / "r"
    command = ["run", "self-instruct", "--backend", "stub", "--target", "300", "--out", str(out)]
    assert main([*command, "--no-prefect", "--quiet"]) == 0
    before = {**files(out), "report.html": b""}
    stamp = (out / "report.html").stat().st_mtime_ns
    assert main([*command, "--no-prefect", "--quiet"]) == 0
    assert (out / "report.html").stat().st_mtime_ns == stamp  # nothing was to be done
    change(out)
    assert main([*command, "--no-prefect", "--quiet"]) == 0
    assert {**files(out), "report.html": b""} == before and (out / "report.html").exists()


@pytest.mark.parametrize("max_requests", [3, 4, 10])
def test_a_lower_max_requests_ends_as_a_run_to_it_does(tmp_path, max_requests):
    run(tmp_path / "r", target=57, judge="inline")  # reached inside an answer: partly read
    again = {"target": 200, "max_requests": max_requests, "judge": "inline"}
    stats = run(tmp_path / "r", **again)
    direct = run(tmp_path / "direct", **again)
    assert files(tmp_path / "r") == files(tmp_path / "direct")
    assert stats["funnel"] == direct["funnel"]


def test_a_target_lowered_to_what_was_kept_ends_as_a_run_to_it_does(tmp_path):
    kept = run(tmp_path / "r", target=1000, max_requests=10, judge="inline")["funnel"]["kept"]
    stats = run(tmp_path / "r", target=kept, judge="inline")
    direct = run(tmp_path / "direct", target=kept, judge="inline")
    assert files(tmp_path / "r") == files(tmp_path / "direct")
    assert stats["funnel"] == direct["funnel"]


def test_a_report_missing_from_a_finished_run_is_written(tmp_path):
    out = tmp_path / "r"
    run(out, **SI)  # the library alone writes no report
    command = ["run", "self-instruct", "--backend", "stub", "--out", str(out), "--quiet"]
    assert main([*command, "--target", "300", "--judge", "inline", "--no-prefect"]) == 0
    assert (out / "report.html").exists()


class Empty:
    """A model that answers nothing."""

    async def complete(self, request) -> Completion:
        return Completion(choices=())


def test_a_patience_below_the_checkpointed_count_replays_to_the_same_stall(tmp_path):
    run(tmp_path / "r", Empty(), target=10, max_requests=30, patience=100)
    stats = run(tmp_path / "r", Empty(), target=10, max_requests=200, patience=20)
    scratch = run(tmp_path / "s", Empty(), target=10, max_requests=200, patience=20)
    assert stats["stall"]["slot"] == scratch["stall"]["slot"] == 19
    assert files(tmp_path / "r") == files(tmp_path / "s")


def test_a_header_of_another_run_is_no_checkpoint(tmp_path):
    run(tmp_path / "r", **SI)
    assert checkpoint.read_header(RunDir(tmp_path / "r"), "another-fingerprint") is None
