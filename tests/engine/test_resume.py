"""Written first, as the design demands: interrupt, re-run, and nothing is paid twice."""

from collections import Counter

import pytest

from tests.helpers import CountingBackend, Killed, run

OUTPUTS = ("kept.jsonl", "removed.jsonl", "alpaca.json")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    stats = run(out, backend=CountingBackend(), target=150, concurrency=4)
    assert stats["funnel"]["kept"] == 150
    return out


@pytest.mark.parametrize(
    "die_after, concurrency, api",
    [(0, 1, "chat"), (1, 4, "chat"), (3, 8, "chat"), (7, 16, "chat"), (2, 4, "completions")],
)
def test_interrupted_run_resumes_to_identical_output(
    tmp_path, reference, die_after, concurrency, api
):
    paid = Counter()
    kw = {"target": 150, "concurrency": concurrency}
    if api == "completions":
        kw |= {"api": "completions", "prompts_per_request": 1}
    with pytest.raises(Killed):
        run(tmp_path, backend=CountingBackend(paid, die_after=die_after), **kw)
    stats = run(tmp_path, backend=CountingBackend(paid), **kw)
    assert stats["funnel"]["kept"] == 150
    assert stats["session"]["resumed"] is True
    assert paid and max(paid.values()) == 1, "a request was paid twice"
    assert stats["session"]["cache_hits"] >= min(die_after, 1)
    if api == "chat":
        for name in OUTPUTS:
            assert (tmp_path / name).read_bytes() == (reference / name).read_bytes(), name


def test_rerun_of_a_finished_run_pays_nothing(tmp_path):
    paid = Counter()
    run(tmp_path, backend=CountingBackend(paid), target=60)
    first = (tmp_path / "kept.jsonl").read_bytes()
    again = Counter()
    stats = run(tmp_path, backend=CountingBackend(again), target=60)
    assert sum(again.values()) == 0
    assert stats["session"]["requests_sent"] == 0
    assert (tmp_path / "kept.jsonl").read_bytes() == first


def test_raising_the_target_extends_the_same_list(tmp_path):
    run(tmp_path, backend=CountingBackend(), target=40)
    small = (tmp_path / "kept.jsonl").read_text().splitlines()
    paid = Counter()
    run(tmp_path, backend=CountingBackend(paid), target=90)
    large = (tmp_path / "kept.jsonl").read_text().splitlines()
    assert len(small) == 40 and len(large) == 90
    assert large[:40] == small
    assert max(paid.values(), default=1) == 1


@pytest.mark.parametrize("concurrency", [1, 3, 32])
def test_output_does_not_depend_on_concurrency(tmp_path, reference, concurrency):
    run(tmp_path, backend=CountingBackend(), target=150, concurrency=concurrency)
    assert (tmp_path / "kept.jsonl").read_bytes() == (reference / "kept.jsonl").read_bytes()


@pytest.mark.parametrize("concurrency, api", [(8, "chat"), (64, "chat"), (64, "completions")])
def test_little_is_paid_past_the_target(tmp_path, concurrency, api):
    paid = Counter()
    kw = {"target": 300, "concurrency": concurrency, "api": api}
    stats = run(tmp_path, backend=CountingBackend(paid), **kw)
    used = stats["requests"]["total"]
    assert sum(paid.values()) - used <= 2, f"paid {sum(paid.values())} for {used} used"


def test_inline_judge_gives_the_same_output(tmp_path, reference):
    run(tmp_path, backend=CountingBackend(), target=150, concurrency=4, judge="inline")
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == (reference / name).read_bytes(), name
