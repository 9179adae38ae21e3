"""`instructgen estimate`: stable numbers for a fixed config, nothing spent or written without a
pilot, a pilot the run reuses through its cache, exact numbers from a finished run directory,
one-line errors for bad prices, and the statistics underneath."""

from __future__ import annotations

import json
import random
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.cli.main import main
from pipeline.config import RunConfig
from pipeline.estimate.cost import estimate, token_counter
from pipeline.estimate.stats import (
    decline,
    lognormal,
    mostly_prior,
    pool_after,
    requests_to_grow,
    share,
)
from pipeline.methods import make_config
from pipeline.tokens import count_tokens
from tests.helpers import CountingBackend, run

PRICES = {"price_in": 0.15, "price_out": 0.60}
BANDS = ("low", "expected", "high")


def _config(out: Path, method: str, **options) -> RunConfig:
    if "model" not in options:
        options = {**PRICES, **options}
    return make_config(out=str(out), method=method, **options)


# --- A fixed config gives fixed numbers (priors and the rendered prompts only) --------------

SNAPSHOTS = [
    # method, options, requests low/expected/high, prompt and completion tokens expected,
    # cost low/expected/high
    ("self-instruct", {"target": 100}, [7, 9, 18], 4236, 8645, [0.002056, 0.006469, 0.031611]),
    (
        "self-instruct",
        {"target": 1000, "api": "completions", "backend": "openai", "model": "davinci-002"},
        [13, 18, 53],
        42877,
        88772,
        [0.11436, 0.277925, 1.679904],
    ),
    (
        "unnatural",
        {"target": 100, "paraphrases": 2},
        [369, 412, 485],
        50053,
        20801,
        [0.008796, 0.020049, 0.06344],
    ),
    (
        "evol-instruct",
        {"rounds": 2, "limit": 20},
        [76, 98, 118],
        13381,
        7709,
        [0.002213, 0.006633, 0.04983],
    ),
    (
        "evol-instruct",
        {"rounds": 1, "limit": 10, "equality_check": False, "backend": "openai",
         "model": "gpt-4o-mini-2024-07-18"},
        [18, 20, 20],
        2175,
        3288,
        [0.000592, 0.002299, 0.013173],
    ),
]  # fmt: skip


@pytest.mark.parametrize("method, options, requests, prompt, completion, usd", SNAPSHOTS)
def test_estimate_of_a_fixed_config_is_stable(
    tmp_path, method, options, requests, prompt, completion, usd
):
    out = tmp_path / "run"
    result = estimate(_config(out, method, **options))
    assert [result["requests"][b] for b in BANDS] == requests
    assert result["tokens"]["prompt"]["expected"] == prompt
    assert result["tokens"]["completion"]["expected"] == completion
    assert [result["cost"]["usd"][b] for b in BANDS] == usd
    assert estimate(_config(out, method, **options)) == result, "the same twice"
    assert not out.exists(), "nothing written without --pilot"


@pytest.mark.parametrize(
    "model, warned", [("gpt-5-mini", True), ("o4-mini", True), ("gpt-4o-mini", False)]
)
def test_a_reasoning_model_is_named_as_what_the_priors_miss(tmp_path, model, warned):
    config = make_config(
        out=str(tmp_path / "run"), backend="openai", model=model, base_url="http://127.0.0.1:9/v1"
    )
    assumptions = estimate(config)["assumptions"]
    assert ("reasons before it answers: only a --pilot measures that" in assumptions) is warned


@pytest.mark.parametrize(
    "method, options, worker_start",
    [
        ("self-instruct", {"target": 100}, 0.3),
        ("unnatural", {"target": 20, "paraphrases": 1}, 0.3),
        ("evol-instruct", {"rounds": 1, "limit": 10}, 0.0),  # no ROUGE gate: no worker
    ],
)
def test_wall_time_counts_the_judge_workers_start(tmp_path, method, options, worker_start):
    walls = [
        estimate(_config(tmp_path / "run", method, judge=judge, **options))["wall_seconds"]
        for judge in ("process", "inline")
    ]
    for band in BANDS:  # each rounded to 0.1 s
        assert walls[0][band] - walls[1][band] == pytest.approx(worker_start, abs=0.11)


# --- The CLI: --json, prices, one-line errors, nothing written ------------------------------


def estimate_cli(out: Path, method: str, *args: str) -> int:
    return main(["estimate", method, "--out", str(out), *args])


@pytest.mark.parametrize(
    "method, args, stages",
    [
        ("self-instruct", ["--target", "20"], ["generate"]),
        ("unnatural", ["--target", "10", "--paraphrases", "1"],
         ["core", "outputs", "reformulations"]),
        ("evol-instruct", ["--limit", "5", "--rounds", "2"],
         ["evolve-1", "judge-1", "answer-1", "evolve-2", "judge-2", "answer-2"]),
        ("evol-instruct", ["--limit", "5", "--rounds", "1", "--no-equality-check"],
         ["evolve-1", "answer-1"]),
    ],
)  # fmt: skip
def test_json_shape(tmp_path, capsys, method, args, stages):
    out = tmp_path / "run"
    assert estimate_cli(out, method, *args, "--price-in", "1", "--price-out", "2", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "method", "model", "requests", "tokens", "cost", "wall_seconds", "stages", "in_cache",
        "assumptions",
    }  # fmt: skip
    assert result["method"] == method and result["model"] == "stub"
    assert result["cost"]["price"] == {
        "input_per_1m": 1.0,
        "output_per_1m": 2.0,
        "source": "--price-in/--price-out",
    }
    bands = [result["requests"], result["cost"]["usd"], result["wall_seconds"]]
    bands += list(result["tokens"].values())
    for stage in result["stages"].values():
        bands += [stage["requests"], stage["cost"]["usd"], *stage["tokens"].values()]
    assert all(b["low"] <= b["expected"] <= b["high"] for b in bands)
    assert list(result["stages"]) == stages
    assert "\n" not in result["assumptions"] and "--price-in/--price-out" in result["assumptions"]
    assert not out.exists()


def test_table_names_every_row_and_the_assumptions(tmp_path, capsys):
    assert estimate_cli(tmp_path / "run", "self-instruct", "--target", "50") == 0
    printed = capsys.readouterr().out
    for row in ("requests", "prompt tokens", "completion tokens", "cost (USD)", "wall time"):
        assert row in printed
    assert "assumptions: price $0/$0 per 1M tokens, local server: free" in printed


@pytest.mark.parametrize(
    "args, usd_is_zero",
    [
        (["--backend", "openai", "--model", "gpt-4o-mini"], False),
        (["--backend", "openai", "--model", "gpt-4o-mini-2024-07-18"], False),
        (["--backend", "openai", "--model", "m", "--base-url", "http://localhost:8000/v1"], True),
        (["--backend", "openai", "--model", "local", "--price-in", "0", "--price-out", "0"], True),
    ],
)
def test_local_servers_cost_nothing_but_still_get_tokens(tmp_path, capsys, args, usd_is_zero):
    assert estimate_cli(tmp_path / "run", "self-instruct", *args, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["cost"]["usd"]["expected"] == 0) == usd_is_zero
    assert result["tokens"]["prompt"]["expected"] > 0 and result["wall_seconds"]["expected"] > 0


def test_a_price_scales_the_cost_and_nothing_else(tmp_path, capsys):
    results = []
    for price in ("1", "2"):
        assert estimate_cli(tmp_path / "r", "unnatural", "--price-in", price, "--price-out", price,
                            "--json") == 0  # fmt: skip
        results.append(json.loads(capsys.readouterr().out))
    one, two = results
    assert two["tokens"] == one["tokens"] and two["requests"] == one["requests"]
    for b in BANDS:  # each rounded to 1e-6
        assert two["cost"]["usd"][b] == pytest.approx(2 * one["cost"]["usd"][b], abs=3e-6)


def _prices_file(tmp_path, text):
    path = tmp_path / "prices.json"
    path.write_text(text)
    return ["--prices-file", str(path)]


BAD_PRICES = [
    ("negative price", lambda p: ["--price-in", "-1"], "must not be negative"),
    ("not a number", lambda p: ["--price-out", "cheap"], "Invalid value for '--price-out'"),
    ("missing file", lambda p: ["--prices-file", str(p / "nope.json")], "no such file"),
    ("not JSON", lambda p: _prices_file(p, "{oops"), "not valid JSON"),
    ("not an object", lambda p: _prices_file(p, "[1, 2]"), "expected a JSON object"),
    ("bad pair", lambda p: _prices_file(p, '{"stub": [1]}'), "is not [input, output]"),
    ("negative pilot", lambda p: ["--pilot", "-1"], "Invalid value for '--pilot'"),
]


@pytest.mark.parametrize("name, args, expected", BAD_PRICES, ids=[c[0] for c in BAD_PRICES])
def test_bad_price_input_is_one_line_exit_2_and_nothing_spent(
    tmp_path, capsys, name, args, expected
):
    out = tmp_path / "run"
    # With --pilot: the prices are checked before anything is sent or written.
    pilot = [] if name == "negative pilot" else ["--pilot", "5"]
    code = estimate_cli(out, "self-instruct", *args(tmp_path), *pilot)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("instructgen: error:") and expected in err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_a_run_directory_of_another_config_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "run"
    run(out, target=20)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert estimate_cli(out, "self-instruct", "--target", "20", "--seed", "1") == 2
    assert "different config" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


# --- The pilot goes through the run's own cache ---------------------------------------------

PILOTED = [
    ("self-instruct", {"target": 300}),
    ("unnatural", {"target": 30, "paraphrases": 2}),
    ("evol-instruct", {"limit": 30, "rounds": 2}),
]


@pytest.mark.parametrize("method, options", PILOTED)
def test_the_run_pays_nothing_for_the_pilots_answers(tmp_path, method, options):
    out, fresh = tmp_path / "run", tmp_path / "fresh"
    config = _config(out, method, **options)
    pilot_paid, run_paid = Counter(), Counter()
    piloted = estimate(config, pilot=10, backend=CountingBackend(pilot_paid))
    stages = methods.get(method).recipe(config).stages
    first_round = [s for s in stages if not s[-1].isdigit() or s.endswith("-1")]
    assert 10 <= sum(pilot_paid.values()) <= 10 * len(first_round)
    assert piloted["in_cache"]["requests"] == sum(pilot_paid.values())
    assert not (out / "kept.jsonl").exists(), "a pilot writes no outputs, only the cache"
    stats = run(out, backend=CountingBackend(run_paid), method=method, **options, **PRICES)
    assert not set(pilot_paid) & set(run_paid), "no request paid twice"
    assert stats["session"]["cache_hits"] == sum(pilot_paid.values())
    run(fresh, method=method, **options, **PRICES)
    assert (out / "kept.jsonl").read_text() == (fresh / "kept.jsonl").read_text()


@pytest.mark.parametrize("pilot", [3, 20])
def test_a_pilot_narrows_the_band(tmp_path, pilot):
    config = _config(tmp_path / "run", "self-instruct", target=2000)
    prior = estimate(config)["cost"]["usd"]
    measured = estimate(config, pilot=pilot)["cost"]["usd"]
    assert measured["high"] - measured["low"] < (prior["high"] - prior["low"]) / 2


# --- A run directory's own history ----------------------------------------------------------


@pytest.mark.parametrize("method, options", PILOTED)
def test_a_finished_run_is_estimated_exactly(tmp_path, method, options):
    out = tmp_path / "run"
    stats = run(out, method=method, **options, **PRICES)
    listing = sorted(p.name for p in out.iterdir())
    result = estimate(_config(out, method, **options))
    for band in BANDS:
        assert result["requests"][band] == stats["requests"]["total"]
        assert result["tokens"]["prompt"][band] == stats["tokens"]["prompt"]
        assert result["tokens"]["completion"][band] == stats["tokens"]["completion"]
        if "cost" in stats:  # stats.json's spend: every answer paid for, used or not
            assert result["cost"]["usd"][band] == pytest.approx(stats["cost"]["usd"], abs=1e-6)
    assert sorted(p.name for p in out.iterdir()) == listing, "reading writes nothing"


def test_a_higher_target_adds_to_what_the_cache_holds(tmp_path):
    out = tmp_path / "run"
    stats = run(out, target=200)
    result = estimate(_config(out, "self-instruct", target=600))
    assert result["in_cache"]["requests"] >= stats["requests"]["total"]
    assert result["requests"]["low"] > stats["requests"]["total"]
    assert "cached answers" in result["assumptions"]


# --- Tokens: a real tokenizer only if it is on disk already ---------------------------------


def _fake_tiktoken(monkeypatch, cached: bool) -> list[str]:
    """A stand-in tiktoken whose encoding loads through tiktoken.load.read_file (a download)
    unless it is `cached`; returns the list of downloads attempted through the real path."""
    downloads: list[str] = []
    load = types.ModuleType("tiktoken.load")
    load.read_file = lambda path: downloads.append(path) or b""  # type: ignore[attr-defined]
    encoding = types.SimpleNamespace(name="fake_base", encode=lambda text, **kw: text.split())

    def encoding_for_model(model):
        if not cached:
            load.read_file("https://example.invalid/fake_base.tiktoken")
        return encoding

    module = types.ModuleType("tiktoken")
    module.encoding_for_model = encoding_for_model  # type: ignore[attr-defined]
    module.load = load  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", module)
    monkeypatch.setitem(sys.modules, "tiktoken.load", load)
    return downloads


@pytest.mark.parametrize(
    "backend, tiktoken, expected",
    [
        ("stub", "cached", "pipeline.tokens"),  # the stub reports pipeline.tokens counts
        ("openai", "missing", "pipeline.tokens"),
        ("openai", "cached", "tiktoken fake_base"),
        ("openai", "download", "pipeline.tokens"),  # never downloads: the approximation
    ],
)
def test_tokenizer_is_real_only_when_offline(tmp_path, monkeypatch, backend, tiktoken, expected):
    if tiktoken == "missing":
        monkeypatch.setitem(sys.modules, "tiktoken", None)
        downloads = []
    else:
        downloads = _fake_tiktoken(monkeypatch, cached=tiktoken == "cached")
    config = make_config(out=str(tmp_path), backend=backend, model="gpt-4o-mini")
    count, name = token_counter(config)
    assert name.startswith(expected) and downloads == []
    assert count("three little words") == (
        3 if "tiktoken" in name else count_tokens("three little words")
    )


# --- The statistics -------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("lam", [1e-9, 1e-5, 5e-4])
def test_requests_to_grow_and_pool_after_are_inverse(lam, alpha):
    requests = requests_to_grow(10.0, lam, alpha, 100, 2100)
    assert pool_after(10.0, lam, alpha, 100, requests) == pytest.approx(2100, abs=1)
    assert requests >= 200 and (lam > 1e-6 or requests == pytest.approx(200, rel=1e-4))


@pytest.mark.parametrize(
    "lam, alpha, start, stop",
    [(0.05, 2.0, 0, 52_000), (0.05, 1e6, 0, 52_000), (5e-4, 1e6, 0, 200_000)],
)
def test_an_unreachable_target_is_capped_not_infinite(lam, alpha, start, stop):
    assert requests_to_grow(1.0, lam, alpha, start, stop) == 1e9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decline_recovers_the_rate_of_a_simulated_gate(seed):
    """14 candidates a request, each passing a pool of n w.p. 1/(1 + lam n): the posterior's
    band holds the true lam, and narrows as the pool grows."""
    rng, lam, kept, blocked = random.Random(seed), 5e-4, [], []
    while sum(kept) < 2000:
        passed = sum(rng.random() < 1 / (1 + lam * sum(kept)) for _ in range(14))
        kept.append(passed)
        blocked.append(14 - passed)
    small = decline(5e-5, 20.0, kept[:20], blocked[:20])
    large = decline(5e-5, 20.0, kept, blocked)
    assert large.low < lam < large.high and small.low < lam < small.high
    assert large.high / large.low < small.high / small.low < 10


def _gate(per_request: int, requests: int, lam: float = 5e-4) -> tuple[list[int], list[int]]:
    """Kept and blocked per request of a simulated gate (seeded: the same numbers every run)."""
    rng, kept, blocked = random.Random(0), [], []
    for _ in range(requests):
        passed = sum(rng.random() < 1 / (1 + lam * sum(kept)) for _ in range(per_request))
        kept.append(passed)
        blocked.append(per_request - passed)
    return kept, blocked


@pytest.mark.parametrize(
    "per_request, requests, prior",
    [
        (1, 0, True),  # nothing measured
        (1, 20, True),  # Unnatural's core on the chat API: 190 pairs, 0.1 blocks expected
        (1, 300, False),  # about 20 blocks
        (14, 20, False),  # Self-Instruct's 20-request pilot: about 20 blocks
    ],
)
def test_a_pilot_with_few_candidates_leaves_lam_to_the_prior(per_request, requests, prior):
    assert mostly_prior(decline(5e-5, 20.0, *_gate(per_request, requests)), 20.0) is prior


@pytest.mark.parametrize("n, width", [(0, 16.0), (5, 1.0), (50, 0.2)])
def test_measured_lengths_narrow_the_band(n, width):
    samples = [100.0 + 20 * ((i * 7) % 5 - 2) for i in range(n)]
    param = lognormal(300.0, 8.0, samples)
    assert (param.high - param.low) / param.expected < width
    if n:
        assert param.expected == pytest.approx(100.0, rel=0.1)


@pytest.mark.parametrize("kept, total", [(0, 0), (8, 10), (800, 1000)])
def test_share_is_a_beta_posterior(kept, total):
    param = share(0.5, 4.0, kept, total)
    assert 0 < param.low <= param.expected <= param.high < 1
    assert param.expected == pytest.approx((2 + kept) / (4 + total))
