"""--max-cost: never overshoot, stop cleanly, resume with a larger cap to the same output."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.backends.budget import Budget, BudgetReached
from pipeline.cli.main import main
from pipeline.prices import Price
from pipeline.types import Completion, Request, Usage
from tests.helpers import CountingBackend, run

PRICES = {"price_in": 0.15, "price_out": 0.60}
PRICE = Price(0.15, 0.60, "test")


def _request(max_tokens: int = 1000, prompts: int = 1) -> Request:
    return Request(model="m", prompts=("word " * 100,) * prompts, max_tokens=max_tokens)


@pytest.mark.parametrize("prompts, max_tokens", [(1, 1000), (5, 1000), (1, 10)])
def test_worst_case_covers_max_tokens_of_every_prompt(prompts, max_tokens):
    budget = Budget(lambda m: PRICE, cap=None)
    worst = budget.worst_case(_request(max_tokens, prompts))
    assert worst >= PRICE.cost(100 * prompts, max_tokens * prompts)


def test_reservations_stop_before_the_cap_and_stay_closed():
    budget = Budget(lambda m: PRICE, cap=0.0015)
    first = budget.reserve(_request())  # $0.0006 for max_tokens, $0.000025 for the prompt
    second = budget.reserve(_request())
    with pytest.raises(BudgetReached):
        budget.reserve(_request())
    budget.release(second)
    with pytest.raises(BudgetReached):  # closed: no request after the first refusal
        budget.reserve(_request(max_tokens=1))
    budget.settle(first, _request(), Completion((), Usage(100, 50)))
    assert budget.reserved == 0 and budget.spent == pytest.approx(PRICE.cost(100, 50))


@pytest.mark.parametrize(
    "method, extra",
    [
        ("self-instruct", {"target": 300, "concurrency": 2}),
        ("unnatural", {"target": 60, "concurrency": 4, "paraphrases": 1}),
    ],
)
def test_capped_run_stops_under_the_cap_and_resumes_to_the_uncapped_output(tmp_path, method, extra):
    kw = {"method": method, **PRICES, **extra}
    full = run(tmp_path / "full", backend=CountingBackend(), **kw)
    cap = full["cost"]["usd"] / 2
    paid = Counter()
    capped = run(tmp_path / "r", backend=CountingBackend(paid), max_cost=cap, **kw)
    assert capped["stopped"] == "budget"
    assert 0 < capped["cost"]["usd"] <= cap
    resumed = run(tmp_path / "r", backend=CountingBackend(paid), max_cost=cap * 4, **kw)
    assert resumed["stopped"] == full["stopped"]
    assert max(paid.values()) == 1, "a request was paid twice"
    assert resumed["cost"]["usd"] == pytest.approx(full["cost"]["usd"], rel=0.02)
    for name in ("kept.jsonl", "removed.jsonl", "alpaca.json"):
        assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()


def test_spend_of_earlier_sessions_counts_against_the_cap(tmp_path):
    kw = {"target": 40, **PRICES}
    first = run(tmp_path, backend=CountingBackend(), **kw)
    again = Counter()
    later = run(tmp_path, backend=CountingBackend(again), max_cost=first["cost"]["usd"], **kw)
    assert sum(again.values()) == 0 and later["cost"]["usd"] == first["cost"]["usd"]
    assert later["cost"]["usd_this_session"] == 0


def test_cli_says_how_to_go_on_with_exit_4(tmp_path, capsys):
    args = ["--out", str(tmp_path / "r"), "--no-prefect", "--quiet", "--target", "200"]
    money = ["--price-in", "0.15", "--price-out", "0.6", "--max-cost", "0.005"]
    code = main(["run", "self-instruct", *args, *money])
    err = capsys.readouterr().err.strip()
    assert code == 4 and "--max-cost" in err and "re-run" in err and len(err.splitlines()) == 1
    assert (tmp_path / "r" / "kept.jsonl").exists()
