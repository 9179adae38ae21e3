"""The report's conversations section, on a stub run of each mode: its headings, every number of
stats.json's `conversations` block shown as it is there, the sample's lineage cell, the Markdown
summary, and a partial or absent block (a run in progress, an old run directory)."""

from __future__ import annotations

import asyncio
import html
import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.backends.retry import RetryPolicy
from pipeline.engine.session import Session, run_session
from pipeline.methods.conversations.report import (
    ABSENT,
    conversations_section,
    lineage,
    summary,
)
from pipeline.report.build import write_report
from pipeline.report.load import RunData
from pipeline.report.summary import markdown

MODES = ("simulate", "self-chat")
HEADINGS = [
    "Openings",
    "Turns reached",
    "How conversations ended",
    "Drops per turn",
    "Lengths per turn",
]
TAGGED = re.compile(r'<span class="n" data-key="([^"]*)">([^<]*)</span>')


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("conversations")
    for mode in MODES:
        cfg = methods.make_config(
            "conversations", out=str(base / mode), judge="inline", limit=30, turns="2-4", mode=mode
        )
        session = Session.open(cfg, policy=RetryPolicy.no_wait(3))
        asyncio.run(run_session(session, batch=16))
    return {mode: base / mode for mode in MODES}


def stats_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))


def the_section(page: str) -> str:
    start = page.index('data-section="conversations"')
    return page[start : page.index("</section>", start)]


def leaves(doc: dict, prefix: str) -> dict[str, float]:
    """Every number under `doc`, by its dotted path in stats.json."""
    out = {}
    for name, value in doc.items():
        if isinstance(value, dict):
            out |= leaves(value, f"{prefix}.{name}")
        elif isinstance(value, int | float):
            out[f"{prefix}.{name}"] = value
    return out


def shown(value: float) -> str:
    return f"{value:.1f}" if isinstance(value, float) else f"{value:,}"


@pytest.mark.parametrize("mode", MODES)
def test_section_comes_before_cost_with_its_headings(runs, mode):
    page = write_report(runs[mode]).read_text(encoding="utf-8")
    order = re.findall(r'data-section="([^"]+)"', page)
    assert order.index("conversations") == order.index("cost") - 1
    assert re.findall(r"<h3>(.*?)</h3>", the_section(page)) == HEADINGS


@pytest.mark.parametrize("mode", MODES)
def test_section_shows_every_number_of_the_block(runs, mode):
    stats = stats_of(runs[mode])
    block = stats["conversations"]
    assert block["mode"] == mode
    turns = block["turns"].values()
    assert any(t["dropped"] for t in turns) and any(t["cut"] for t in turns)  # both are shown
    expected = leaves({k: v for k, v in block.items() if k != "models"}, "conversations")
    # A turn where the simulator ended nothing gets no "ended" row.
    expected = {k: v for k, v in expected.items() if not (k.endswith(".ended") and v == 0)}
    expected["funnel.cut_total"] = stats["funnel"]["cut_total"]
    section = the_section(write_report(runs[mode]).read_text(encoding="utf-8"))
    found = {html.unescape(k): text for k, text in TAGGED.findall(section)}
    assert {k: found.get(k) for k in expected} == {k: shown(v) for k, v in expected.items()}


@pytest.mark.parametrize("mode", MODES)
def test_sample_lineage_cells_come_from_kept_meta(runs, mode):
    page = write_report(runs[mode]).read_text(encoding="utf-8")
    kept = [json.loads(line) for line in (runs[mode] / "kept.jsonl").open(encoding="utf-8")]
    for example in kept[:5]:
        assert f"<td>{lineage(example, {}, None)}</td>" in page


@pytest.mark.parametrize(
    ("meta", "cell"),
    [
        (
            {
                "planned": 5,
                "reached": 4,
                "ended": "cut",
                "source_id": "seed_3",
                "cut": {"filter": "refusal", "reason": "sorry_or_as_an_ai", "turn": 5},
            },
            "4 of 5 planned turns, cut at turn 5: refusal (sorry_or_as_an_ai); from seed_3",
        ),
        (
            {"planned": 4, "reached": 2, "ended": "user_ended", "source_id": "s"},
            "2 of 4 planned turns, ended by the simulator; from s",
        ),
        (
            {
                "planned": 3,
                "reached": 3,
                "ended": "planned",
                "first_answer": "model",
                "source_id": "s",
            },
            "3 of 3 planned turns; first answer by the assistant; from s",
        ),
        ({"planned": 1, "reached": 1, "ended": "planned"}, "1 of 1 planned turn"),
        (
            {"planned": 2, "reached": 1, "ended": "cut", "source_id": "<b>x</b>", "cut": {}},
            "1 of 2 planned turns, cut at turn ?: ? (?); from &lt;b&gt;x&lt;/b&gt;",
        ),
        ({"source_id": "s"}, None),  # not a conversation's meta: the common cell
    ],
)
def test_lineage(meta, cell):
    assert lineage({"meta": meta}, {}, None) == cell


@pytest.mark.parametrize(
    ("stats", "present", "absent"),
    [
        ({}, [ABSENT], ["<h3>"]),
        ({"conversations": {}}, [ABSENT], ["<h3>"]),
        ({"conversations": "not a block"}, [ABSENT], ["<h3>"]),
        (
            {"conversations": {"mode": "simulate", "openings": {"read": 5, "gated": 1}}},
            ["<h3>Openings</h3>", "No conversation is settled yet.", "No conversation is kept"],
            [ABSENT],
        ),
        (
            {
                "conversations": {
                    "mode": "self-chat",
                    "ended": {"dropped": 2},
                    "turns": {"0": {"dropped": {"rouge: too_similar": 2}}},
                }
            },
            ["opening (gate)", 'data-key="conversations.turns.0.dropped.rouge: too_similar"'],
            ["ended by the simulator"],
        ),
        (
            {
                "conversations": {
                    "mode": "simulate",
                    "ended": {"planned": 4, "user_ended": 3},
                    "turns": {"3": {"dropped": {}, "cut": {}, "ended": 3}},
                }
            },
            ["<td>turn&nbsp;3</td><td>ended by the simulator</td>", "conversations.turns.3.ended"],
            ["conversations.turns.3.cut"],
        ),
        (
            {
                "conversations": {
                    "mode": "simulate",
                    "models": {"user": "<b>m</b>"},
                    "turns": {"2": {"cut": {"f: <script>": 1}}, "3": "junk"},
                }
            },
            ["f: &lt;script&gt;", "&lt;b&gt;m&lt;/b&gt;"],
            ["<script>", "<b>m</b>"],
        ),
    ],
)
def test_partial_or_absent_block_renders(stats, present, absent):
    run = RunData(Path("run"), stats, {"method": "conversations"}, [], {})
    page = conversations_section(run, None, "")
    assert [p for p in present if p not in page] == []
    assert [a for a in absent if a in page] == []


def test_old_run_dir_without_the_block(runs, tmp_path):
    old = shutil.copytree(runs["simulate"], tmp_path / "old")
    stats = stats_of(old)
    del stats["conversations"]
    (old / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
    assert ABSENT in the_section(write_report(old).read_text(encoding="utf-8"))


@pytest.mark.parametrize("mode", MODES)
def test_summary_lines(runs, mode):
    stats = stats_of(runs[mode])
    block, lines = stats["conversations"], summary(stats)
    assert lines[0].startswith(f"**Conversations** ({mode}): ")
    assert f"{block['ended']['planned']:,} reached the planned turns" in lines[0]
    assert f"{block['openings']['read']:,} read" in lines[2]
    for turns, n in block["planned"].items():
        assert f"| {turns} | {n:,} | {block['reached'].get(turns, 0):,} |" in lines
    assert ("ended by the simulator" in lines[0]) == (mode == "simulate")
    assert "\n".join(lines) in markdown(stats, runs[mode])  # the Prefect artifact's


@pytest.mark.parametrize("stats", [{}, {"conversations": {}}, {"conversations": []}])
def test_summary_of_no_block_is_empty(stats):
    assert summary(stats) == []
