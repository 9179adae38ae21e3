"""The score stage after every method (--score-with): it maps over exactly what the method
keeps, the funnel still adds up, verdicts land in meta and drops in removed.jsonl, a re-run
pays nothing (a new --min-score included), a kill mid-stage resumes byte-identical, and the
estimate, report and dataset card count it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.backends.retry import RetryPolicy
from pipeline.engine.session import Session, run_session
from pipeline.errors import ConfigError
from pipeline.estimate.cost import estimate
from pipeline.methods import make_config
from pipeline.report.build import build_report
from tests.helpers import CountingBackend, Killed, run

GENERATORS = [s.name for s in methods.specs() if not s.options.SCORES]
OWN_FILES = {"conversations": "openai.jsonl"}  # one line per kept example


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def settings(method: str, **more) -> dict:
    return {"method": method, "judge": "inline", **methods.get(method).example, **more}


@pytest.mark.parametrize("method", GENERATORS)
def test_every_method_scores_exactly_what_it_keeps(tmp_path, method):
    plain = run(tmp_path / "plain", **settings(method))
    stats = run(tmp_path / "scored", **settings(method, score_with="stub", min_score=4))
    before = [e["id"] for e in lines(tmp_path / "plain" / "kept.jsonl")]
    kept = lines(tmp_path / "scored" / "kept.jsonl")
    removed = lines(tmp_path / "scored" / "removed.jsonl")
    judged = [d for d in removed if d.get("meta", {}).get("stage") == "score"]
    # Every example the method kept was judged once, in order: kept, or removed with a reason.
    by_position = sorted(judged, key=lambda d: d["meta"]["position"])
    assert sorted([e["id"] for e in kept] + [d["example"]["id"] for d in judged]) == sorted(before)
    assert [d["meta"]["position"] for d in by_position] == sorted(
        {d["meta"]["position"] for d in judged}
    )
    for e in kept:
        entry = e["meta"]["scores"]["quality"]
        assert entry["score"] >= 4 and entry["reason"] and entry["model"] == "stub"
    for d in judged:
        assert d["filter"] == "quality"
        if d["reason"] == "below_min_score":
            assert d["example"]["meta"]["scores"]["quality"]["score"] < 4
        else:
            assert d["reason"] == "unparseable_verdict" and d["raw"] is not None
    funnel, score = stats["funnel"], stats["score"]
    assert funnel["generated"] == funnel["kept"] + funnel["dropped_total"]
    assert funnel["generated"] == plain["funnel"]["generated"]
    assert funnel["kept"] == len(kept) == score["kept"]
    assert score["examples"] == score["judged"] == len(before) and score["waiting"] == 0
    assert sum(score["histogram"].values()) == score["scored"]
    assert score["scored"] + score["unparseable"] == len(before)
    assert stats["requests"]["total"] == plain["requests"]["total"] + len(before)
    assert stats["stages"]["score"]["requests"]["total"] == len(before)
    if method in OWN_FILES:  # the method's own files hold what survived the judge too
        assert len((tmp_path / "scored" / OWN_FILES[method]).read_text().splitlines()) == len(kept)


def _counted(out: Path, paid: Counter, **config) -> dict:
    return run(out, backend=CountingBackend(paid), **settings("self-instruct", **config))


def test_a_rerun_pays_nothing_and_another_min_score_is_free(tmp_path):
    out, paid = tmp_path / "run", Counter()
    first = _counted(out, paid, score_with="stub", min_score=4)
    answers = sum(paid.values())
    assert answers == first["requests"]["total"] and first["score"]["below_min_score"] > 0
    again = _counted(out, paid, score_with="stub", min_score=4)
    assert sum(paid.values()) == answers and again["funnel"] == first["funnel"]
    stricter = _counted(out, paid, score_with="stub", min_score=5)
    every = _counted(out, paid, score_with="stub")
    assert sum(paid.values()) == answers  # the verdicts came from the cache each time
    assert stricter["funnel"]["kept"] < first["funnel"]["kept"] < every["funnel"]["kept"]
    assert every["score"]["below_min_score"] == 0
    assert every["funnel"]["kept"] == every["score"]["scored"]
    assert every["score"]["histogram"] == first["score"]["histogram"]
    assert len(lines(out / "kept.jsonl")) == every["funnel"]["kept"]


def test_a_kill_during_the_score_stage_resumes_identically(tmp_path):
    whole = tmp_path / "whole"
    full = run(whole, **settings("self-instruct", score_with="stub", min_score=4))
    stage_start = full["requests"]["total"] - full["score"]["examples"]
    out, paid = tmp_path / "killed", Counter()
    config = make_config(out=str(out), **settings("self-instruct", score_with="stub", min_score=4))
    config = config.__class__(**{**config.__dict__, "checkpoint_seconds": 0.001})
    dying = CountingBackend(paid, die_after=stage_start + 7)
    session = Session.open(config, backend=dying, policy=RetryPolicy.no_wait(1))
    with pytest.raises(Killed):
        asyncio.run(run_session(session, batch=4))
    partial = json.loads((out / "stats.json").read_text())
    assert (
        partial["funnel"]["generated"]
        == partial["funnel"]["kept"] + partial["funnel"]["dropped_total"]
    )
    run(
        out,
        backend=CountingBackend(paid),
        **settings("self-instruct", score_with="stub", min_score=4),
    )
    for name in ("kept.jsonl", "removed.jsonl", "alpaca.json"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    assert max(paid.values()) == 1  # no request was paid twice


def test_the_complexity_rubric_keeps_its_own_verdicts(tmp_path):
    stats = run(
        tmp_path / "c",
        **settings("self-instruct", score_with="stub", score_rubric="complexity", min_score=3),
    )
    removed = lines(tmp_path / "c" / "removed.jsonl")
    assert {d["filter"] for d in removed if d.get("meta", {}).get("stage") == "score"} == {
        "complexity"
    }
    assert all("complexity" in e["meta"]["scores"] for e in lines(tmp_path / "c" / "kept.jsonl"))
    assert stats["score"]["rubric"] == "complexity" and "complexity" in stats["funnel"]["dropped"]


@pytest.mark.parametrize(
    "settings_, message",
    [
        ({"min_score": 4}, "--min-score and --rubric need a judge: add --score-with MODEL"),
        ({"score_rubric": "complexity"}, "need a judge"),
        (
            {"score_with": "m", "score_rubric": "style"},
            "--rubric must be one of quality, complexity",
        ),
        ({"score_with": "m", "min_score": 0}, "--min-score must be between 1 and 5"),
        ({"score_with": "m", "min_score": 5.5}, "--min-score must be between 1 and 5"),
        ({"score_with": " "}, "--score-with must name a model"),
    ],
)
def test_score_settings_are_checked_when_built(tmp_path, settings_, message):
    with pytest.raises(ConfigError, match=message.replace("-", r"\-")):
        make_config(out=str(tmp_path), **settings_)


def test_scoring_leaves_an_unscored_run_and_its_fingerprint_alone(tmp_path):
    plain = make_config(out=str(tmp_path))
    recipe = methods.recipe(plain)
    assert recipe.stages == ("generate",) and "score" not in plain.identity()
    scored = make_config(out=str(tmp_path), score_with="judge-model")
    assert methods.recipe(scored).stages == ("generate", "score")
    assert scored.identity()["score_with"] == "judge-model"
    assert make_config(out=str(tmp_path), score_with="j", min_score=3).fingerprint() == (
        scored.__class__(**{**scored.__dict__, "score_with": "j"}).fingerprint()
    )  # --min-score is decided on cached verdicts: not in the fingerprint


def test_the_estimate_counts_a_verdict_per_kept_example(tmp_path):
    prices = {"price_in": 0.15, "price_out": 0.6}
    config = make_config(out=str(tmp_path / "e"), target=40, score_with="gpt-4o-mini", **prices)
    result = estimate(config)
    assert list(result["stages"]) == ["generate", "score"]
    score = result["stages"]["score"]
    assert score["requests"]["expected"] == 40
    plain = estimate(make_config(out=str(tmp_path / "p"), target=40, **prices))
    assert result["cost"]["usd"]["expected"] > plain["cost"]["usd"]["expected"]


def test_the_report_and_card_show_the_scores(tmp_path):
    out = tmp_path / "r"
    run(out, **settings("self-instruct", score_with="stub", min_score=4))
    html = build_report([out])
    assert 'data-section="score"' in html and "would keep" in html
    card = (out / "README.md").read_text()
    assert "## Scores" in card and "meta.scores.quality" in card
    plain = tmp_path / "p"
    run(plain, **settings("self-instruct"))
    assert 'data-section="score"' not in build_report([plain])


class FaultyJudge(CountingBackend):
    """The stub, except that some score requests get no choices or a reply cut at max_tokens."""

    async def complete(self, request):
        completion = await super().complete(request)
        slot = request.slot or ""
        if slot.startswith("score:") and int(slot.rsplit(":", 1)[1]) % 5 == 0:
            return replace(completion, choices=())
        if slot.startswith("score:") and int(slot.rsplit(":", 1)[1]) % 5 == 1:
            cut = [replace(c, finish_reason="length") for c in completion.choices]
            return replace(completion, choices=tuple(cut))
        return completion


def test_an_empty_or_cut_verdict_is_unparseable_and_the_run_resumes(tmp_path):
    config = settings("self-instruct", score_with="stub", min_score=1)
    out = tmp_path / "run"
    first = run(out, backend=FaultyJudge(), **config)
    again = run(out, backend=FaultyJudge(), **config)  # the empty answers are cached
    for stats in (first, again):
        s = stats["score"]
        assert s["judged"] == s["examples"] and s["scored"] + s["unparseable"] == s["judged"]
        assert s["unparseable"] >= 2 * s["judged"] // 5
    assert again["requests"]["sent"] == 0
    cut = [d for d in lines(out / "removed.jsonl") if "cut at" in d["detail"]]
    assert cut and all(d["reason"] == "unparseable_verdict" for d in cut)
