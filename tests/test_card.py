"""The dataset card (pipeline/card.py): the Hub's size buckets, a finished re-run that writes a
missing card and stays on its fast path, the user's license kept, a README.md not ours left
alone, a merged folder's card, no credentials, and the fallback of a method without a paper."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
import yaml

from pipeline import methods
from pipeline.backends.retry import RetryPolicy
from pipeline.card import CARD, PLACEHOLDER, card_text, size_category, write_card
from pipeline.cli.main import main
from pipeline.engine.session import Session, run_session
from tests.helpers import shard_runs


def front(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


def session(out, **settings) -> Session:
    cfg = methods.make_config(out=str(out), **{"target": 5, "judge": "inline", **settings})
    return Session.open(cfg, policy=RetryPolicy.no_wait(3))


def run(out, **settings) -> dict:
    return asyncio.run(run_session(session(out, **settings), batch=16))


@pytest.mark.parametrize(
    ("rows", "bucket"),
    [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (52_002, "10K<n<100K"),
     (999_999, "100K<n<1M"), (10**7, "10M<n<100M"), (10**12, "n>1T")],
)  # fmt: skip
def test_size_categories_are_the_hubs_buckets(rows, bucket):
    assert size_category(rows) == bucket


def test_a_finished_rerun_writes_a_missing_card_and_stays_on_its_fast_path(tmp_path):
    out = tmp_path / "run"
    run(out)
    written = (out / CARD).read_text(encoding="utf-8")
    (out / CARD).unlink()
    again = session(out)
    try:
        assert again.over is not None, "a missing card must not make the run replay"
        stats = asyncio.run(run_session(again))
    finally:
        asyncio.run(again.aclose())
    assert stats["session"]["requests_sent"] == 0
    assert (out / CARD).read_text(encoding="utf-8") == written


def test_a_license_the_user_set_survives_every_rewrite(tmp_path):
    out = tmp_path / "run"
    run(out)
    assert front(out / CARD)["license"] == PLACEHOLDER
    text = (out / CARD).read_text(encoding="utf-8")
    (out / CARD).write_text(text.replace(f"license: {PLACEHOLDER}", "license: cc-by-4.0"))
    run(out)
    assert front(out / CARD)["license"] == "cc-by-4.0"
    assert "License: not set" not in (out / CARD).read_text(encoding="utf-8")


def test_a_readme_that_is_not_ours_is_left_alone(tmp_path):
    out = tmp_path / "run"
    run(out)
    (out / CARD).write_text("# My notes\n")
    run(out, target=6)
    assert (out / CARD).read_text() == "# My notes\n"


def test_a_merged_folder_gets_a_card_of_its_shards(tmp_path):
    shards = shard_runs(tmp_path)
    merged = tmp_path / "merged"
    assert main(["merge", *shards, "--out", str(merged)]) == 0
    text = (merged / CARD).read_text(encoding="utf-8")
    kept = len((merged / "kept.jsonl").read_text().splitlines())
    assert "## Shards" in text and all(f"`{s}`" in text for s in shards)
    assert f"{kept:,} kept" in text and '"seed"' not in text  # the shards differ only in it
    shard_tokens = [json.loads((tmp_path / s / "stats.json").read_text())["tokens"] for s in shards]
    assert f"| prompt tokens | {sum(t['prompt'] for t in shard_tokens):,} |" in text


def test_no_credentials_reach_the_card(tmp_path):
    """run.json is written redacted; a shard's copy read for a merged folder is redacted too."""
    shard, merged = tmp_path / "shard", tmp_path / "merged"
    shard.mkdir()
    merged.mkdir()
    config = {"method": methods.default(), "model": "m", "base_url": "http://me:s3cret@h/v1"}
    (shard / "run.json").write_text(json.dumps({"config": config}))
    stats = {"funnel": {"kept": 0}, "shards": [{"run": str(shard), "seed": 0}]}
    (merged / "stats.json").write_text(json.dumps(stats))
    text = write_card(merged).read_text(encoding="utf-8")
    assert "s3cret" not in text and "me:" not in text and "http://h/v1" in text


def test_a_method_without_a_paper_says_so(tmp_path):
    spec = dataclasses.replace(methods.get(methods.default()), paper="", cite="", description="")
    text = card_text(tmp_path, spec, {}, {"funnel": {"kept": 3}}, PLACEHOLDER)
    assert "names no paper to cite" in text and spec.summary in text
    assert "```bibtex" not in text
