"""The contract every registered method keeps, checked for each by being registered: it runs on
the stub with a funnel that adds up and a reason for every drop, a re-run pays nothing, a run
killed at any answer and resumed ends byte-identical having paid each request once, it estimates
(a pilot's answers are reused by the run), it reports, it runs against a reasoning model's
refusals over HTTP, its shards merge (or merge says why not), and its --help shows every option.

The kill -9 trials of real subprocesses are in tests/engine/test_crash.py, for every method too."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.backends.retry import RetryPolicy
from pipeline.cli.main import main
from pipeline.engine import checkpoint
from pipeline.engine.session import Session, run_session
from pipeline.errors import ConfigError
from pipeline.estimate.cost import estimate
from pipeline.methods.spec import MethodSpec
from pipeline.report.build import write_report
from pipeline.stub.server import StubServer
from tests.helpers import CountingBackend, Killed, count_judged

METHODS = methods.names()
COMMON = ("kept.jsonl", "removed.jsonl", "alpaca.json")


def outputs(spec: MethodSpec) -> tuple[str, ...]:
    return COMMON + (spec.outputs.files if spec.outputs else ())


def config(spec: MethodSpec, out: Path, **extra):
    return methods.make_config(spec.name, out=str(out), judge="inline", **{**spec.example, **extra})


def run(cfg, backend=None) -> dict:
    session = Session.open(cfg, backend=backend, policy=RetryPolicy.no_wait(3))
    return asyncio.run(run_session(session, batch=16))


def files(out: Path, spec: MethodSpec) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in outputs(spec)}


@pytest.fixture(params=METHODS)
def spec(request) -> MethodSpec:
    return methods.get(request.param)


@pytest.fixture
def reference(spec, tmp_path_factory):
    """An uninterrupted run of the method's example, and what it paid for."""
    out = tmp_path_factory.mktemp(spec.name) / "ref"
    paid: Counter = Counter()
    stats = run(config(spec, out), CountingBackend(paid))
    return out, stats, paid


def test_runs_on_the_stub_with_a_funnel_that_adds_up(spec, reference):
    out, stats, _ = reference
    funnel = stats["funnel"]
    assert stats["stopped"] in ("target", "done") and funnel["kept"] > 0
    assert funnel["generated"] == funnel["kept"] + funnel["dropped_total"]
    kept = [json.loads(line) for line in (out / "kept.jsonl").open()]
    removed = [json.loads(line) for line in (out / "removed.jsonl").open()]
    assert len(kept) == funnel["kept"] and len({e["id"] for e in kept}) == len(kept)
    # A method that scores data it is given keeps each example's own method (its provenance).
    assert spec.options.SCORES or all(e["method"] == spec.name for e in kept)
    # A method of several steps per item may keep an item and remove a part of it (a
    # conversation's failed turn): each removed part is counted as `cut`.
    assert len(removed) == funnel["dropped_total"] + funnel.get("cut_total", 0)
    assert all(d["filter"] and d["reason"] for d in removed)
    for name in outputs(spec):
        assert (out / name).exists(), name


def test_a_rerun_pays_nothing_and_changes_nothing(spec, reference, tmp_path):
    out, _, _ = reference
    before = files(out, spec)
    paid: Counter = Counter()
    again = run(config(spec, out), CountingBackend(paid))
    assert again["session"]["requests_sent"] == 0 and not paid
    assert files(out, spec) == before


@pytest.mark.parametrize("share", [0.1, 0.5, 0.9])
def test_killed_at_any_answer_and_resumed_ends_identical_paying_once(
    spec, reference, tmp_path, share
):
    ref_out, _, ref_paid = reference
    out, paid = tmp_path / "run", Counter()
    die_after = max(1, int(share * sum(ref_paid.values())))
    with pytest.raises(Killed):
        run(config(spec, out), CountingBackend(paid, die_after=die_after))
    run(config(spec, out), CountingBackend(paid))
    assert files(out, spec) == files(ref_out, spec)
    assert max(paid.values()) == 1, "a request was paid twice"


def _torn(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flipped(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    header, _, rest = path.read_bytes().partition(b"\n")
    fields = {**json.loads(header), "version": "0.0.1"}
    path.write_bytes(json.dumps(fields).encode() + b"\n" + rest)


# Where a kill fell against the last checkpoint, and what is left of it. The checkpoint is
# always a shortcut: whatever is wrong with it, the run replays its cache instead.
KILL_POINTS = {
    "at a checkpoint": lambda path, earlier: None,
    "after a checkpoint": lambda path, earlier: path.write_bytes(earlier),
    "before any checkpoint": lambda path, earlier: path.unlink(),
    "torn checkpoint": lambda path, earlier: _torn(path),
    "corrupt checkpoint": lambda path, earlier: _flipped(path),
    "another version's checkpoint": lambda path, earlier: _foreign(path),
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_resumes_identical_wherever_the_kill_fell_against_the_checkpoint(
    spec, reference, tmp_path, point, monkeypatch
):
    ref_out, ref_stats, ref_paid = reference
    judged = count_judged(monkeypatch)
    out, paid = tmp_path / "run", Counter()
    step = max(1, sum(ref_paid.values()) // 3)
    path = out / checkpoint.FILE
    earlier = b""
    for _ in range(2):  # each kill writes the outputs and a checkpoint, as Ctrl-C does
        with pytest.raises(Killed):
            run(config(spec, out), CountingBackend(paid, die_after=step))
        earlier = earlier or path.read_bytes()
    KILL_POINTS[point](path, earlier)
    run(config(spec, out), CountingBackend(paid))
    assert files(out, spec) == files(ref_out, spec)
    assert max(paid.values()) == 1, "a request was paid twice"
    # From a checkpoint no answer is judged twice; without a usable one some are.
    answers = ref_stats["requests"]["total"]
    assert (
        judged["answers"] == answers if point == "at a checkpoint" else judged["answers"] > answers
    )


def test_estimates_and_the_run_reuses_the_pilots_answers(spec, tmp_path):
    cfg = config(spec, tmp_path / "run")
    before = estimate(cfg)
    assert not (tmp_path / "run").exists(), "an estimate without a pilot writes nothing"
    for scenario in ("low", "expected", "high"):
        assert before["requests"][scenario] > 0
        assert before["tokens"]["prompt"][scenario] > 0
    assert before["requests"]["low"] <= before["requests"]["expected"] <= before["requests"]["high"]
    piloted = estimate(cfg, pilot=2)
    assert piloted["in_cache"]["requests"] > 0
    stats = run(cfg)
    assert stats["session"]["cache_hits"] >= piloted["in_cache"]["requests"]


def test_reports_every_section_and_its_own(spec, reference):
    out, _, _ = reference
    html = write_report(out).read_text(encoding="utf-8")
    sections = ["summary", "funnel", "similarity", "diversity", "lengths", "cost", "sample"]
    sections += [s.id for s in spec.report.sections]
    for section in sections:
        assert f'id="{section}"' in html, section


def test_runs_against_a_reasoning_model_over_http(spec, tmp_path):
    with StubServer(reasoning=True) as server:
        cfg = config(
            spec, tmp_path / "run", backend="openai", model="stub", base_url=server.base_url
        )
        stats = run(cfg)
        refused = server.app.stats.to_dict()["errors"].get("400", 0)
    assert stats["stopped"] in ("target", "done") and stats["funnel"]["kept"] > 0
    assert refused >= 1  # it met the refusals and adjusted


def test_shards_merge_or_merge_says_why_not(spec, reference, tmp_path, capsys):
    out, _, _ = reference
    other = tmp_path / "shard1"
    run(config(spec, other, seed=1))
    code = main(["merge", str(out), str(other), "--out", str(tmp_path / "merged")])
    if spec.merge is None:
        assert code == 2 and "has no ROUGE gate" in capsys.readouterr().err
        return
    assert code == 0
    merged = [json.loads(line) for line in (tmp_path / "merged" / "kept.jsonl").open()]
    assert merged and len({e["id"] for e in merged}) == len(merged)
    for name in spec.outputs.files if spec.outputs else ():
        assert (tmp_path / "merged" / name).exists()


def test_help_shows_every_option_with_its_help(spec, capsys):
    assert main(["run", spec.name, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for field in spec.options.specs():
        assert spec.options.flag(field.name) in text
        assert " ".join(field.metadata["help"].split()) in text, field.name


def test_a_config_names_its_method_and_rejects_an_unknown_one():
    with pytest.raises(ConfigError, match="unknown method 'nope'; use one of"):
        methods.make_config("nope", out="x")
    for name in METHODS:
        assert methods.make_config(name, out="x").method == name
