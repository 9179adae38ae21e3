"""The statistics behind an estimate: each uncertain quantity as a low-cost, expected and
high-cost value, from a prior updated by what a pilot or an earlier run measured.

Every interval is central 95% (z = 1.96) on its own; the scenarios put every quantity at its
cheap end (low) or its dear end (high) at once, so the band of the total is wider than 95%."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z = 1.96
TAIL = (1 - math.erf(Z / math.sqrt(2))) / 2  # 2.5%
SCENARIOS = ("low", "expected", "high")
# A measured mean is never taken as surer than this (relative): the rest of a run need not
# behave exactly like its first requests.
MIN_RELATIVE_SE = 0.02


@dataclass(frozen=True)
class Param:
    """One quantity as the low-cost, expected and high-cost scenario see it."""

    low: float
    expected: float
    high: float

    def __getitem__(self, scenario: str) -> float:
        return getattr(self, scenario)

    @classmethod
    def oriented(cls, lo: float, mid: float, hi: float, dear_when_high: bool) -> Param:
        """From a quantity's 2.5%, 50% and 97.5% points and the way it moves the cost."""
        return cls(lo, mid, hi) if dear_when_high else cls(hi, mid, lo)

    @classmethod
    def fixed(cls, value: float) -> Param:
        return cls(value, value, value)


def lognormal(
    median: float,
    factor: float,
    samples: Sequence[float] = (),
    cap: float | None = None,
    dear_when_high: bool = True,
) -> Param:
    """A positive mean: a log-normal prior (95% within median x/÷ factor) updated by the mean and
    standard error of the samples, capped at `cap` (e.g. max_tokens)."""
    mu, var = math.log(median), (math.log(factor) / Z) ** 2
    if samples:
        mean = max(statistics.fmean(samples), 1e-9)
        spread = statistics.stdev(samples) if len(samples) > 1 else mean
        rel = max(spread / math.sqrt(len(samples)) / mean, MIN_RELATIVE_SE)
        data_var = math.log1p(rel**2)
        mu = (mu / var + math.log(mean) / data_var) / (1 / var + 1 / data_var)
        var = 1 / (1 / var + 1 / data_var)
    sd = math.sqrt(var)
    points = [math.exp(mu - Z * sd), math.exp(mu), math.exp(mu + Z * sd)]
    if cap is not None:
        points = [min(p, cap) for p in points]
    return Param.oriented(*points, dear_when_high=dear_when_high)


def normal(mean: float, sd: float, samples: Sequence[float] = ()) -> Param:
    """A mean that may be negative (growth of a text): normal prior and data, dear when high."""
    var = sd**2
    if len(samples) > 1:
        se = max(statistics.stdev(samples), 1.0) / math.sqrt(len(samples))
        data = statistics.fmean(samples)
        mean = (mean / var + data / se**2) / (1 / var + 1 / se**2)
        var = 1 / (1 / var + 1 / se**2)
    half = Z * math.sqrt(var)
    return Param(mean - half, mean, mean + half)


def share(prior_mean: float, strength: float, kept: int, total: int) -> Param:
    """A share that costs more when high (survivors go on to more requests): a Beta prior worth
    `strength` observations, updated by `kept` of `total`."""
    a = prior_mean * strength + kept
    b = (1 - prior_mean) * strength + (total - kept)
    x = np.linspace(1e-6, 1 - 1e-6, 20001)
    log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
    lo, hi = _quantiles(x, log_pdf)
    return Param(lo, a / (a + b), hi)


def _quantiles(
    grid: np.ndarray, log_density: np.ndarray, points: tuple[float, ...] = (TAIL, 1 - TAIL)
) -> tuple[float, ...]:
    """Points of the distribution of a density given on a grid (trapezoid weights)."""
    finite = np.isfinite(log_density)
    weights = np.where(finite, np.exp(log_density - log_density[finite].max()), 0.0)
    cdf = np.cumsum(weights * np.gradient(grid))
    cdf /= cdf[-1]
    return tuple(float(np.interp(p, cdf, grid)) for p in points)


# --- How the ROUGE pool slows a generation down ------------------------------------------------
#
# Model: a candidate that got past the seeds passes a pool of n generated items with probability
# (1 + lam n / alpha) ** -alpha. lam is the share of pool items that block a candidate while the
# pool is small (what a pilot measures); alpha shapes the decline further out: exp(-lam n) as
# alpha grows, slower for small alpha (candidates differ in how generic they are). On the stub
# model alpha = 1 fits best for Self-Instruct (lam 5.6e-4 over 10,000 kept) and 0.5-1 for
# Unnatural's core (lam 6-7e-4); the exponential overestimated 6,000 kept by 60% from 50 pilot
# requests. A real model is more diverse: Alpaca's 52K for under $500 puts lam near 1e-4 at most.

SHAPE = Param(0.5, 1.0, 2.0)  # alpha of the cheap, expected and dear scenario
MAX_REQUESTS = 1e9  # beyond this the target is out of reach: reported as this many


def _grown(lam: float, alpha: float, x: float) -> float:
    """log of (1 + lam x / alpha), the pool's slowdown at size x."""
    return math.log1p(lam * x / alpha)


def requests_to_grow(per_request: float, lam: float, alpha: float, start: int, stop: int) -> float:
    """Requests that take the generated pool from `start` to `stop` items when each request
    brings `per_request` candidates past the seeds: the sum over n of 1 / pass(n), as the
    integral from start - 1/2 to stop - 1/2 (exact for a straight line, close for this curve)."""
    if stop <= start:
        return 0.0
    a, b = max(start - 0.5, 0.0), stop - 0.5
    power = alpha + 1
    # (G(b) - G(a)) / (A (alpha+1)) with G = (1 + A x)^(alpha+1), A = lam / alpha, written with
    # expm1 so that it tends to b - a as lam goes to 0.
    scale = lam / alpha * power
    with np.errstate(over="ignore"):
        head = power * _grown(lam, alpha, a)
        rise = power * (_grown(lam, alpha, b) - _grown(lam, alpha, a))
        candidates = math.exp(head) * math.expm1(rise) / scale if head + rise < 700 else math.inf
    total = candidates / max(per_request, 1e-9)
    return total if total < MAX_REQUESTS else MAX_REQUESTS


def pool_after(per_request: float, lam: float, alpha: float, start: int, requests: float) -> float:
    """The inverse: the generated pool after `requests` more requests (for --max-requests)."""
    lo, hi = float(start), float(start) + requests * per_request
    for _ in range(60):  # bisection: requests_to_grow only rises with the stop
        mid = (lo + hi) / 2
        if requests_to_grow(per_request, lam, alpha, start, round(mid)) > requests:
            hi = mid
        else:
            lo = mid
    return lo


def decline(median: float, factor: float, kept: Sequence[int], blocked: Sequence[int]) -> Param:
    """Posterior of lam on a grid (with alpha at its expected value): a log-normal prior and,
    request by request, `kept[i]` candidates that passed and `blocked[i]` that a generated pool
    item blocked (the pool: everything kept before, and half of the request's own). Its 2.5%,
    50% and 97.5% points; the median, not the mean, is the expected value: the cost is so convex
    in lam that its mean follows the prior's far tail when little is measured."""
    grid = np.geomspace(median / factor**3, median * factor**3, 1201)
    log_post = -((np.log(grid) - math.log(median)) ** 2) / (2 * (math.log(factor) / Z) ** 2)
    if kept:
        k, d = np.asarray(kept, float), np.asarray(blocked, float)
        pool = np.cumsum(k) - k / 2
        alpha = SHAPE.expected
        log_pass = -alpha * np.log1p(np.outer(grid, pool) / alpha)
        loglik = log_pass @ k + np.log(np.maximum(-np.expm1(log_pass), 1e-300)) @ d
        log_post = log_post + np.where(np.isfinite(loglik), loglik, -np.inf)
    lo, mid, hi = _quantiles(np.log(grid), log_post, (TAIL, 0.5, 1 - TAIL))
    return Param(math.exp(lo), math.exp(mid), math.exp(hi))


def mostly_prior(param: Param, factor: float) -> bool:
    """Whether what was measured told less about a log-normal quantity than its prior (95% within
    x/÷ factor) did: the posterior's log-width is still above the prior's / sqrt(2), i.e. the
    data's precision is below the prior's. E.g. lam from a 20-request pilot of one candidate a
    request (Unnatural's core on the chat API): 190 pairs, 0.1 near-duplicates expected at 5e-4."""
    return math.log(param.high / param.low) > 2 * math.log(factor) / math.sqrt(2)
