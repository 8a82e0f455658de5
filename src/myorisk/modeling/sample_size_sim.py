"""Simulation-based sample size for developing a binary-outcome model (Pavlou et al. 2024).

The method of R ``samplesizedev`` (Pavlou, Ambler, Qu, Seaman, White & Omar 2024; Pavlou et al.
2025 for the probability of acceptable calibration), written from its published definitions:

**Data-generating mechanism.** The true linear predictor is normal, η ~ N(μ, σ²), with (μ, σ²)
chosen so that the outcome prevalence E[expit(η)] is φ and the C-statistic of η is C (when
φ > 0.5, 1 − φ is used: the problem is symmetric). samplesizedev finds (μ, σ²) by Nelder–Mead
on the squared distance between numerically integrated (φ, C) and the targets; here the two
equations are solved exactly (nested root finding on quadrature to ~1e-7). The p predictors
are independent N(0, 1) with equal coefficients βⱼ = σ/√p (samplesizedev's default
``gamma = rep(1/p, p)``), η = μ + xᵀβ, y ~ Bernoulli(expit(η)).

**Expected performance at n** (``expected_performance``). For each of S simulated development
sets of size n, a maximum-likelihood logistic model with all p predictors is fitted and
validated on a validation set of ``nval`` (25,000) patients whose predictors are drawn once and
whose outcomes are drawn afresh for each simulation: calibration slope = slope of the logistic
regression of the validation outcome on the fitted linear predictor; MAPE = mean |p_true − p̂|;
Brier = mean (y − p̂)²; C = Mann–Whitney C on the validation set (samplesizedev uses a
subsampling approximation, ``quickcstat``). Summaries: mean, median and SD of the slope,
P(0.85 < slope < 1.15) ("probability of acceptable calibration", PrAP), mean and SD of MAPE and
C, mean Brier — each with its Monte-Carlo standard error (MCSE).

**Required n.** The smallest n whose median slope reaches the target (samplesizedev's
``samplesizedev(S = 0.9)``), or whose PrAP reaches a target probability
(``samplesizedev(l_s, u_s, PrAP_s)``). samplesizedev bisects over n with independent
simulations at each n; here every simulation i uses the same random streams at every n (common
random numbers: the first n rows of stream i), so the statistic is a smooth, monotone function
of n up to rounding and the root is found by secant steps on 1/n (median slope) or log n
(PrAP), typically in 3–5 evaluations. The MCSE of the statistic at the root is turned into an
interval for n through the local slope of the curve.

**Closed forms.** ``rvs``: Riley et al.'s criterion 1, n = P / ((S − 1)·ln(1 − R²_CS/S)),
rounded, with R²_CS implied by C (Riley, Van Calster & Collins 2021: binormal linear predictor,
N(0, 1) and N(√2·Φ⁻¹(C), 1); computed here as the population limit — the logistic model is
exact for a binormal predictor, so R²_CS = 1 − exp(−2·I(Y; LP)) with the mutual information by
quadrature — where samplesizedev fits 2–3·10⁵ simulated values). ``analytical_corrected``:
the same formula with samplesizedev's "adjusted C-statistic" (``c_adj``): per predictor the LDA
coefficient δⱼ = (x̄₁ − x̄₀)/s²_pooled under the data-generating mechanism, σ²_adj = p·mean(δ)²,
μ_adj for the prevalence, C_adj = C(μ_adj, σ²_adj) rounded to 3 decimals (samplesizedev
estimates δ from 10⁶ simulated patients; here by exact moments of the normal-logistic model).
``analytical_prob``: samplesizedev's ``n_pap_s_analytical``: with
SE(S) = √(S/(2φ(1−φ)Φ⁻¹(C)²·n) + 2S²/(n − 2)) and n = n(S) from criterion 1, the S whose normal
probability of (l, u) equals the target, and its n.

Differences from samplesizedev (by design): own random streams (R's results are reproduced
within Monte-Carlo error, not draw for draw); exact (μ, σ²), R²_CS and C_adj instead of
simulated ones; exact C instead of ``quickcstat``; common random numbers across n in the search.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from myorisk.errors import InputError

__all__ = [
    "DGM",
    "ExpectedPerformance",
    "SimulatedSize",
    "lp_distribution",
    "cstat_of",
    "prevalence_of",
    "r2cs_from_c",
    "adjusted_c",
    "riley_n",
    "criterion1",
    "analytical_prob_n",
    "expected_performance",
    "simulated_size",
]

CHUNK = 50  # simulations per task (results do not depend on it)
_G = 24001  # quadrature grid points (±12 SD)


# ----------------------------------------------------------------------------- the DGM
def _grid(mu: float, s2: float) -> tuple[np.ndarray, np.ndarray, float]:
    sd = math.sqrt(max(s2, 0.0))
    z = np.linspace(-12.0, 12.0, _G)
    x = mu + sd * z
    f = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)  # density in z units
    return x, f, z[1] - z[0]


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def prevalence_of(mu: float, s2: float) -> float:
    """E[expit(η)] for η ~ N(μ, σ²)."""
    x, f, h = _grid(mu, s2)
    return float(np.sum(f * _expit(x)) * h)


def cstat_of(mu: float, s2: float) -> float:
    """C-statistic of η ~ N(μ, σ²) for y ~ Bernoulli(expit(η)): P(η₁ > η₀), ties counting ½."""
    if s2 <= 0.0:
        return 0.5
    x, f, h = _grid(mu, s2)
    p = _expit(x)
    a = f * p  # events
    b = f * (1.0 - p)  # non-events
    F0 = (np.cumsum(b) - 0.5 * b) * h  # ∫_{-∞}^{x} b (trapezoid, midpoint at the node)
    return float(np.sum(a * F0) * h / ((np.sum(a) * h) * (np.sum(b) * h)))


def _mu_for(prev: float, s2: float) -> float:
    from scipy.optimize import brentq

    return float(brentq(lambda m: prevalence_of(m, s2) - prev, -60.0, 60.0, xtol=1e-12))


@lru_cache(maxsize=64)
def lp_distribution(prevalence: float, cstatistic: float) -> tuple[float, float]:
    """(μ, σ²) of the normal linear predictor with prevalence φ and C-statistic C.

    Parameters
    ----------
    prevalence : float
        Outcome proportion φ (≤ 0.5; use 1 − φ otherwise).
    cstatistic : float
        C-statistic, 0.5 < C < 1.

    Returns
    -------
    tuple of float
        (μ, σ²).
    """
    from scipy.optimize import brentq

    def gap(sd: float) -> float:
        return cstat_of(_mu_for(prevalence, sd * sd), sd * sd) - cstatistic

    sd = float(brentq(gap, 1e-4, 30.0, xtol=1e-10))
    return _mu_for(prevalence, sd * sd), sd * sd


def r2cs_from_c(cstatistic: float, prevalence: float) -> float:
    """Cox–Snell R² implied by a C-statistic (binormal LP, population limit of ``approximate_R2``).

    LP ~ N(0, 1) for a fraction φ and N(m, 1), m = √2·Φ⁻¹(C), for 1 − φ; the logistic model
    of the label on LP is exact, so LR/n → 2·I(label; LP) and R²_CS = 1 − exp(−2·I).
    """
    from scipy.special import ndtri

    m = math.sqrt(2.0) * float(ndtri(cstatistic))
    w0, w1 = prevalence, 1.0 - prevalence
    z = np.linspace(-12.0, 12.0, _G)
    h = z[1] - z[0]
    f = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    off = math.log(w1 / w0) - 0.5 * m * m

    def logp1(x: np.ndarray) -> np.ndarray:  # log P(label 1 | LP = x)
        return -np.logaddexp(0.0, -(off + m * x))

    def logp0(x: np.ndarray) -> np.ndarray:
        return -np.logaddexp(0.0, off + m * x)

    e_ll = w0 * np.sum(f * logp0(z)) * h + w1 * np.sum(f * logp1(z + m)) * h
    ll0 = w0 * math.log(w0) + w1 * math.log(w1)
    return float(1.0 - math.exp(-2.0 * (e_ll - ll0)))


def adjusted_c(prevalence: float, cstatistic: float, parameters: int) -> float:
    """samplesizedev's adjusted C-statistic ``c_adj`` (exact moments; rounded to 3 decimals).

    For predictor j, x_j = (βⱼ/σ²)(η − μ) + z with z independent of (η, y), so the class means
    and variances of x_j follow from those of η given y (one-dimensional quadrature).
    """
    mu, s2 = lp_distribution(prevalence, cstatistic)
    x, f, h = _grid(mu, s2)
    p = _expit(x)
    w1, w0 = f * p, f * (1.0 - p)
    m1, m0 = np.sum(w1 * x) / np.sum(w1), np.sum(w0 * x) / np.sum(w0)
    v1 = np.sum(w1 * (x - m1) ** 2) / np.sum(w1)
    v0 = np.sum(w0 * (x - m0) ** 2) / np.sum(w0)
    prev = np.sum(w1) / (np.sum(w1) + np.sum(w0))
    bj = math.sqrt(s2 / parameters)
    k = bj / s2
    d_mean = k * (m1 - m0)
    var1 = k * k * v1 + 1.0 - bj * bj / s2
    var0 = k * k * v0 + 1.0 - bj * bj / s2
    pooled = prev * var1 + (1.0 - prev) * var0
    delta = d_mean / pooled
    s2_new = delta * delta * parameters
    mu_new = _mu_for(prevalence, s2_new)
    return round(cstat_of(mu_new, s2_new), 3)


def riley_n(parameters: int, r2cs: float, shrinkage: float = 0.9) -> int:
    """Riley's criterion 1, n = P / ((S − 1)·ln(1 − R²_CS/S)), rounded as samplesizedev does."""
    return int(round(parameters / ((shrinkage - 1.0) * math.log(1.0 - r2cs / shrinkage))))


def criterion1(prevalence: float, cstatistic: float, parameters: int,
               shrinkage: float = 0.9) -> tuple[int, float]:
    """Riley's criterion 1 as pmsampsize computes it from a C-statistic: (n, R²_CS).

    R²_CS from :func:`myorisk.modeling.sample_size.cstat_to_r2cs` (pmsampsize's ``cstat2rsq``,
    R's random stream replayed, rounded to 4 decimals) and n rounded up, so that the value is
    the one ``myorisk sample-size --cstatistic`` and pmsampsize report.
    """
    from myorisk.modeling.sample_size import cstat_to_r2cs

    r2 = round(cstat_to_r2cs(cstatistic, prevalence), 4)
    return math.ceil(parameters / ((shrinkage - 1.0) * math.log(1.0 - r2 / shrinkage))), r2


def analytical_prob_n(prevalence: float, cstatistic: float, parameters: int, target: float,
                      bounds: tuple[float, float] = (0.85, 1.15), *, r2: float | None = None) -> int:
    """samplesizedev's ``n_pap_s_analytical``: n whose normal-approximation PrAP is ``target``.

    ``r2`` defaults to :func:`r2cs_from_c`.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import ndtr, ndtri

    r2 = r2cs_from_c(cstatistic, prevalence) if r2 is None else r2
    qc2 = float(ndtri(cstatistic)) ** 2
    lo, hi = bounds

    def n_of(s: float) -> float:
        return parameters / ((s - 1.0) * math.log(1.0 - r2 / s))

    def prob(s: float) -> float:
        n = n_of(s)
        se = math.sqrt(s / (2.0 * prevalence * (1.0 - prevalence) * qc2 * n) + 2.0 * s * s / (n - 2.0))
        return 1.0 - (float(ndtr((lo - s) / se)) + float(ndtr((s - hi) / se)))

    res = minimize_scalar(lambda s: abs(prob(s) - target), bounds=(max(0.1, r2 + 1e-3), 0.99),
                          method="bounded", options={"xatol": 1e-6})
    return int(round(n_of(float(res.x))))


@dataclass(frozen=True)
class DGM:
    """The data-generating mechanism of a scenario.

    Attributes
    ----------
    prevalence, cstatistic : float
        Anticipated values (prevalence as given; the mechanism uses min(φ, 1 − φ)).
    parameters : int
        Number of predictors p.
    mu, variance : float
        Mean and variance of the true linear predictor.
    beta : tuple of float
        True coefficients (equal, σ/√p).
    """

    prevalence: float
    cstatistic: float
    parameters: int
    mu: float
    variance: float
    beta: tuple[float, ...]

    @classmethod
    def make(cls, prevalence: float, cstatistic: float, parameters: int) -> DGM:
        """Check the inputs and solve for (μ, σ²)."""
        if not 0.0 < prevalence < 1.0:
            raise InputError(f"prevalence {prevalence} is not between 0 and 1")
        if not 0.5 < cstatistic < 1.0:
            raise InputError(f"C-statistic {cstatistic} is not between 0.5 and 1")
        if int(parameters) != parameters or parameters < 1:
            raise InputError(f"parameters {parameters} is not a positive integer")
        if cstatistic > 0.99:
            raise InputError(f"C-statistic {cstatistic} is above 0.99: outcomes would be (almost) separable")
        phi = min(prevalence, 1.0 - prevalence)
        mu, s2 = lp_distribution(round(phi, 12), round(cstatistic, 12))
        b = math.sqrt(s2 / parameters)
        return cls(float(prevalence), float(cstatistic), int(parameters), mu, s2,
                   tuple([b] * int(parameters)))


# ----------------------------------------------------------------------------- simulation
@lru_cache(maxsize=8)
def _validation_set(seed: int, nval: int, mu: float, beta: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    xv = np.random.default_rng([seed, 0, 99]).standard_normal((nval, len(beta)))
    pt = _expit(mu + xv @ np.asarray(beta))
    xv.setflags(write=False)
    pt.setflags(write=False)
    return xv, pt


def _sim_chunk(dgm: DGM, n: int, start: int, count: int, seed: int, nval: int,
               full: bool) -> np.ndarray:
    """Simulations ``start … start+count−1`` at size n: one row each of
    (slope, intercept, MAPE, Brier, mean p̂, C, recalibration converged, fit status).

    Simulation i uses the streams ``default_rng([seed, i, k])``: k = 0 predictors (row by row,
    so the first n rows are the same at every n), 1 development outcomes, 2 validation outcomes.
    """
    from myorisk.modeling._compiled import simkernels as _simkernels

    p = dgm.parameters
    b = np.asarray(dgm.beta)
    xv, pt = _validation_set(seed, nval, dgm.mu, dgm.beta)
    X = np.empty((count, n, p))
    y = np.empty((count, n))
    yv = np.empty((count, nval), dtype=np.bool_)
    for r in range(count):
        i = start + r
        X[r] = np.random.default_rng([seed, i, 0]).standard_normal((n, p))
        y[r] = np.random.default_rng([seed, i, 1]).random(n) < _expit(dgm.mu + X[r] @ b)
        yv[r] = np.random.default_rng([seed, i, 2]).random(nval) < pt
    beta = np.zeros((count, p + 1))
    status = np.zeros(count, dtype=np.int8)
    _simkernels.fit_rows(X, y, beta, status, 30)
    # singular or constant-outcome sets cannot give a model; a separated set (status 2: the MLE
    # does not exist) keeps the coefficients where Newton stopped (|β| > 50), as samplesizedev's
    # fastLR keeps its last iterate — its slope is near 0, so it counts against the target
    beta[status >= 3] = np.nan
    val = np.empty((count, 7))
    _simkernels.validate_rows(xv, pt, yv, beta, val)
    if full:
        val[:, 5] = _cstats(xv, yv, beta)
    return np.column_stack([val, status.astype(float)])


def _cstats(xv: np.ndarray, yv: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Mann–Whitney C of each model's linear predictor on the validation set (ranks by sort;
    the linear predictor of continuous predictors has no ties)."""
    ok = np.isfinite(beta[:, 0])
    out = np.full(beta.shape[0], np.nan)
    if not ok.any():
        return out
    eta = beta[ok, 1:] @ xv.T  # the intercept does not change ranks
    o = np.argsort(eta, axis=1)
    ranks = np.empty_like(o)
    rows = np.arange(o.shape[0])[:, None]
    ranks[rows, o] = np.arange(1, o.shape[1] + 1)
    y = yv[ok]
    n1 = y.sum(axis=1).astype(float)
    n0 = y.shape[1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        out[ok] = (np.where(y, ranks, 0).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return out


def _simulate(dgm: DGM, n: int, simulations: int, seed: int, nval: int, full: bool,
              ex: Any, progress: Callable[[int, int], None] | None) -> np.ndarray:
    from myorisk.modeling.executor import ThreadExecutor

    ex = ex or ThreadExecutor()
    # chunks of CHUNK simulations, fewer for large n (≤ ~200 MB of predictors per chunk); they
    # depend on (n, p) only, never on the executor
    chunk = int(max(1, min(CHUNK, 200e6 // (8.0 * n * (dgm.parameters + 2)))))
    tasks = [(int(n), s, min(chunk, simulations - s), int(seed), int(nval), bool(full))
             for s in range(0, simulations, chunk)]
    done = [0]

    def tick(i: int) -> None:
        done[0] += tasks[i][2]
        if progress is not None:
            progress(done[0], simulations)

    parts = ex.run(_sim_chunk, tasks, shared=(dgm,), progress=tick)
    return np.vstack(parts)


def _median_mcse(v: np.ndarray) -> float:
    """MCSE of a sample median: half the width of the ±1 SE order-statistic interval."""
    s = v.size
    if s < 10:
        return float("nan")
    se = math.sqrt(0.25 / s)
    lo, hi = np.quantile(v, [0.5 - se, 0.5 + se])
    return float((hi - lo) / 2.0)


@dataclass(frozen=True)
class ExpectedPerformance:
    """Sampling distribution of the performance of a model developed on n patients.

    Attributes
    ----------
    n : int
        Development sample size.
    prevalence, cstatistic : float
        Anticipated outcome proportion and C-statistic.
    parameters : int
        Predictors.
    simulations : int
        Simulated development sets S.
    validation_size : int
        Validation set size.
    seed : int
        Seed of every random stream.
    bounds : tuple of float
        Interval of acceptable calibration slope.
    slope_mean, slope_median, slope_sd : float
        Calibration slope over the simulations.
    prob_acceptable : float
        P(bounds[0] < slope < bounds[1]).
    mape_mean, mape_median, mape_sd : float
        Mean absolute prediction error against the true risks (samplesizedev prints the median
        as "Mean MAPE").
    c_mean, c_sd : float
        Validation C-statistic (NaN when not computed).
    brier_mean : float
        Validation Brier score.
    mean_risk_sd : float
        SD of the mean predicted risk.
    mcse : dict
        Monte-Carlo standard errors of slope mean/median, prob_acceptable, mape_mean, c_mean,
        brier_mean.
    failed : int
        Simulations without a model (singular design, one outcome class) or recalibration; left out.
    separated : int
        Simulated development sets with (quasi-)complete separation; kept, with the diverging
        coefficients where the fit stopped (their calibration slopes are near 0).
    dgm : DGM
        The data-generating mechanism.
    seconds : float
        Wall time.
    executor : dict
        Where the simulations ran.
    """

    n: int
    prevalence: float
    cstatistic: float
    parameters: int
    simulations: int
    validation_size: int
    seed: int
    bounds: tuple[float, float]
    slope_mean: float
    slope_median: float
    slope_sd: float
    prob_acceptable: float
    mape_mean: float
    mape_median: float
    mape_sd: float
    c_mean: float
    c_sd: float
    brier_mean: float
    mean_risk_sd: float
    mcse: dict[str, float]
    failed: int
    separated: int
    dgm: DGM
    seconds: float = 0.0
    executor: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{n, slope:{mean, median, sd}, prob_acceptable, mape, c, brier, mcse, …}``."""
        from myorisk._json import clean

        return clean({
            "n": self.n,
            "prevalence": self.prevalence,
            "cstatistic": self.cstatistic,
            "parameters": self.parameters,
            "simulations": self.simulations,
            "validation_size": self.validation_size,
            "seed": self.seed,
            "bounds": list(self.bounds),
            "slope": {"mean": self.slope_mean, "median": self.slope_median, "sd": self.slope_sd},
            "prob_acceptable": self.prob_acceptable,
            "mape": {"mean": self.mape_mean, "median": self.mape_median, "sd": self.mape_sd},
            "c": {"mean": self.c_mean, "sd": self.c_sd},
            "brier": {"mean": self.brier_mean},
            "mean_risk_sd": self.mean_risk_sd,
            "mcse": dict(self.mcse),
            "failed": self.failed,
            "separated": self.separated,
            "dgm": {"mu": self.dgm.mu, "variance": self.dgm.variance, "beta": self.dgm.beta[0]},
            "seconds": self.seconds,
            "executor": dict(self.executor),
        })

    def to_frame(self):  # noqa: ANN201 - pandas imported lazily
        """One row per measure: ``measure, value, mcse``."""
        import pandas as pd

        m = self.mcse
        rows = [
            ("mean calibration slope", self.slope_mean, m.get("slope_mean")),
            ("median calibration slope", self.slope_median, m.get("slope_median")),
            ("SD of calibration slope", self.slope_sd, None),
            (f"P({self.bounds[0]:g} < slope < {self.bounds[1]:g})", self.prob_acceptable,
             m.get("prob_acceptable")),
            ("mean MAPE", self.mape_mean, m.get("mape_mean")),
            ("median MAPE", self.mape_median, None),
            ("SD of MAPE", self.mape_sd, None),
            ("mean C-statistic", self.c_mean, m.get("c_mean")),
            ("SD of C-statistic", self.c_sd, None),
            ("mean Brier score", self.brier_mean, m.get("brier_mean")),
            ("SD of mean predicted risk", self.mean_risk_sd, None),
        ]
        return pd.DataFrame(rows, columns=["measure", "value", "mcse"])


def _summarise(res: np.ndarray, *, n: int, dgm: DGM, simulations: int, nval: int, seed: int,
               bounds: tuple[float, float], seconds: float, ex: Any) -> ExpectedPerformance:
    ok = np.isfinite(res[:, 0])
    r = res[ok]
    S = int(ok.sum())
    if S < 2:
        raise InputError(f"n = {n}: fewer than 2 of {simulations} simulated models could be fitted "
                         "(too few events for this many predictors)")
    cs = r[:, 0]
    acc = (cs > bounds[0]) & (cs < bounds[1])
    pa = float(acc.mean())
    cvals = r[:, 5]
    rt = math.sqrt(S)

    def sd(v: np.ndarray) -> float:
        return float(np.std(v, ddof=1))

    c_ok = np.isfinite(cvals).any()
    return ExpectedPerformance(
        n=int(n), prevalence=dgm.prevalence, cstatistic=dgm.cstatistic, parameters=dgm.parameters,
        simulations=int(simulations), validation_size=int(nval), seed=int(seed),
        bounds=(float(bounds[0]), float(bounds[1])),
        slope_mean=float(cs.mean()), slope_median=float(np.median(cs)), slope_sd=sd(cs),
        prob_acceptable=pa,
        mape_mean=float(r[:, 2].mean()), mape_median=float(np.median(r[:, 2])), mape_sd=sd(r[:, 2]),
        c_mean=float(np.mean(cvals)) if c_ok else float("nan"),
        c_sd=sd(cvals) if c_ok else float("nan"),
        brier_mean=float(r[:, 3].mean()), mean_risk_sd=sd(r[:, 4]),
        mcse={
            "slope_mean": sd(cs) / rt,
            "slope_median": _median_mcse(cs),
            "prob_acceptable": math.sqrt(max(pa * (1.0 - pa), 1.0 / S) / S),
            "mape_mean": sd(r[:, 2]) / rt,
            "c_mean": sd(cvals) / rt if c_ok else float("nan"),
            "brier_mean": sd(r[:, 3]) / rt,
        },
        failed=int(simulations - S), separated=int(np.sum(res[:, 7] == 2)), dgm=dgm, seconds=float(seconds),
        executor=ex.describe() if ex is not None else {"kind": "threads"},
    )


def _check_run(n: int | None, simulations: int, nval: int, seed: int) -> None:
    if n is not None and (int(n) != n or n < 10):
        raise InputError(f"n {n} is not a whole number of at least 10")
    if simulations < 10:
        raise InputError(f"simulations {simulations}: use at least 10 (samplesizedev recommends ≥ 500)")
    if nval < 1000:
        raise InputError(f"validation size {nval}: use at least 1000 (samplesizedev recommends ≥ 10,000)")
    if seed < 0:
        raise InputError(f"seed {seed} must be a whole number ≥ 0")


def expected_performance(
    n: int, prevalence: float, cstatistic: float, parameters: int, *,
    simulations: int = 1000, nval: int = 25000, seed: int = 2022,
    bounds: tuple[float, float] = (0.85, 1.15), cstat: bool = True,
    executor: Any = None, progress: Callable[[int, int], None] | None = None,
) -> ExpectedPerformance:
    """Sampling distribution of calibration slope, MAPE, C and Brier at sample size ``n``.

    Parameters
    ----------
    n : int
        Development sample size.
    prevalence, cstatistic : float
        Anticipated outcome proportion and C-statistic.
    parameters : int
        Number of (candidate) predictors.
    simulations : int, default=1000
        Simulated development sets.
    nval : int, default=25000
        Validation set size.
    seed : int, default=2022
        Seed; the result depends on it alone (not on the executor or its workers).
    bounds : tuple of float, default=(0.85, 1.15)
        Acceptable calibration slopes.
    cstat : bool, default=True
        Compute the validation C-statistic (a sort per simulation).
    executor : myorisk.modeling.executor.Executor, optional
        Threads by default.
    progress : callable, optional
        ``progress(done, total)`` after each chunk.

    Returns
    -------
    ExpectedPerformance
    """
    _check_run(n, simulations, nval, seed)
    dgm = DGM.make(prevalence, cstatistic, parameters)
    if n <= parameters + 1:
        raise InputError(f"n {n} must exceed the number of parameters + 1 ({parameters + 1})")
    t0 = time.perf_counter()
    res = _simulate(dgm, int(n), int(simulations), int(seed), int(nval), cstat, executor, progress)
    return _summarise(res, n=int(n), dgm=dgm, simulations=simulations, nval=nval, seed=seed,
                      bounds=bounds, seconds=time.perf_counter() - t0, ex=executor)


# ----------------------------------------------------------------------------- required n
@dataclass(frozen=True)
class SimulatedSize:
    """Sample size that reaches a calibration target, by simulation, and its closed forms.

    Attributes
    ----------
    statistic : {"median_slope", "prob_acceptable"}
        What is targeted.
    target : float
        Target value.
    n_required : int
        Smallest n whose simulated statistic reaches the target (interpolated between the
        evaluated sizes, rounded up).
    n_interval : tuple of int
        n at which the statistic is within ±1 MCSE of the target (local linear slope).
    rvs : int
        Riley et al. criterion 1 (target shrinkage = target slope, or 0.9 for a probability target).
    analytical_corrected : int
        Criterion 1 with samplesizedev's adjusted C-statistic.
    c_adjusted : float
        That adjusted C-statistic.
    analytical_prob : int or None
        samplesizedev's analytical PrAP size (probability target only).
    r2_cs : float
        Cox–Snell R² implied by the C-statistic.
    evaluations : tuple of (int, float, float)
        (n, statistic, MCSE) at each size simulated during the search.
    performance : ExpectedPerformance
        Full simulation at ``n_required``.
    seconds : float
        Total wall time.
    """

    statistic: str
    target: float
    n_required: int
    n_interval: tuple[int, int]
    rvs: int
    analytical_corrected: int
    c_adjusted: float
    analytical_prob: int | None
    r2_cs: float
    evaluations: tuple[tuple[int, float, float], ...]
    performance: ExpectedPerformance
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The performance at ``n_required`` (as :meth:`ExpectedPerformance.to_dict`) plus
        ``n_required`` and the search."""
        from myorisk._json import clean

        d = self.performance.to_dict()
        d.update({
            "n_required": self.n_required,
            "target": {"statistic": self.statistic, "value": self.target},
            "n_interval": list(self.n_interval),
            "rvs": self.rvs,
            "analytical_corrected": self.analytical_corrected,
            "c_adjusted": self.c_adjusted,
            "analytical_prob": self.analytical_prob,
            "r2_cs": self.r2_cs,
            "evaluations": [{"n": a, "value": b, "mcse": c} for a, b, c in self.evaluations],
            "seconds": self.seconds,
        })
        return clean(d)

    def to_frame(self):  # noqa: ANN201
        """The search: ``n, value, mcse`` per evaluated size."""
        import pandas as pd

        return pd.DataFrame(list(self.evaluations), columns=["n", "value", "mcse"])


def simulated_size(
    prevalence: float, cstatistic: float, parameters: int, *,
    target_slope: float | None = None, target_prob: float | None = None,
    simulations: int = 1000, nval: int = 25000, seed: int = 2022,
    bounds: tuple[float, float] = (0.85, 1.15), max_evaluations: int = 8,
    executor: Any = None, progress: Callable[[int, int], None] | None = None,
) -> SimulatedSize:
    """Smallest n whose median calibration slope (or PrAP) reaches the target, by simulation.

    Parameters
    ----------
    prevalence, cstatistic, parameters
        As :func:`expected_performance`.
    target_slope : float, optional
        Target median calibration slope (samplesizedev ``S``, e.g. 0.9).
    target_prob : float, optional
        Target probability of a slope within ``bounds`` (samplesizedev ``PrAP_s``, e.g. 0.8).
    simulations, nval, seed, bounds, executor
        As :func:`expected_performance`.
    max_evaluations : int, default=8
        Sizes simulated during the search at most.
    progress : callable, optional
        ``progress(done, total)`` over all simulations of the search (total grows as needed).

    Returns
    -------
    SimulatedSize
    """
    if (target_slope is None) == (target_prob is None):
        raise InputError("give exactly one target: a median calibration slope or a probability of acceptable calibration")
    _check_run(None, simulations, nval, seed)
    dgm = DGM.make(prevalence, cstatistic, parameters)
    phi = min(prevalence, 1.0 - prevalence)
    shrink = target_slope if target_slope is not None else 0.9
    if target_slope is not None and not 0.5 < target_slope < 1.0:
        raise InputError(f"target slope {target_slope} must be between 0.5 and 1")
    if target_prob is not None and not 0.0 < target_prob < 1.0:
        raise InputError(f"target probability {target_prob} must be between 0 and 1")
    rvs, r2 = criterion1(phi, cstatistic, parameters, shrink)
    c_adj = adjusted_c(phi, cstatistic, parameters)
    n_corr, _ = criterion1(phi, c_adj, parameters, shrink)
    n_prob = analytical_prob_n(phi, cstatistic, parameters, target_prob, bounds, r2=r2) if target_prob else None
    t0 = time.perf_counter()
    stat = "median_slope" if target_slope is not None else "prob_acceptable"
    target = float(target_slope if target_slope is not None else target_prob)
    evals: dict[int, tuple[float, float]] = {}
    total = [0]
    n_min = parameters + 10

    def g(n: int) -> float:
        n = max(n_min, int(n))
        if n not in evals:
            base = total[0]
            cb = None if progress is None else (lambda d, t: progress(base + d, base + t))
            res = _simulate(dgm, n, simulations, seed, nval, False, executor, cb)
            cs = res[:, 0][np.isfinite(res[:, 0])]
            total[0] += simulations
            if cs.size < 2:
                evals[n] = (float("-inf"), float("nan"))
            elif stat == "median_slope":
                evals[n] = (float(np.median(cs)), _median_mcse(cs))
            else:
                pa = float(np.mean((cs > bounds[0]) & (cs < bounds[1])))
                evals[n] = (pa, math.sqrt(max(pa * (1 - pa), 1.0 / cs.size) / cs.size))
        return evals[n][0]

    # x: 1/n for the slope (1 − slope ≈ a/n), log n for the probability
    def fx(n: float) -> float:
        return 1.0 / n if stat == "median_slope" else math.log(n)

    def inv(x: float) -> float:
        return 1.0 / x if stat == "median_slope" else math.exp(x)

    def fit_line() -> tuple[float, float]:
        """Least-squares line v = α + β·x through every finite evaluation."""
        pts = [(fx(n), v) for n, (v, _s) in evals.items() if np.isfinite(v)]
        xs = np.array([t[0] for t in pts])
        vs = np.array([t[1] for t in pts])
        if xs.size < 2 or np.ptp(xs) == 0:
            return float("nan"), float("nan")
        beta1, alpha = np.polyfit(xs, vs, 1)
        return float(alpha), float(beta1)

    n0 = max(n_min, n_corr if stat == "median_slope" else (n_prob or n_corr))
    v0 = g(n0)
    if stat == "median_slope" and np.isfinite(v0) and v0 < 1.0:
        n1 = n0 * (1.0 - v0) / (1.0 - target)
    else:
        n1 = n0 * (1.25 if v0 < target else 0.8)
    # a second point at least 15% away, so that the line is not fitted to noise
    n1 = min(max(n1, n0 / 3.0), n0 * 3.0)
    if abs(n1 - n0) < 0.15 * n0:
        n1 = n0 * (1.15 if n1 >= n0 else 0.85)
    g(int(round(max(n1, n_min))))
    n_star = float("nan")
    for _ in range(max_evaluations - 2):
        alpha, beta1 = fit_line()
        if not (np.isfinite(beta1) and beta1 != 0.0):
            break
        x_star = (target - alpha) / beta1
        n_star = inv(x_star) if (stat != "median_slope" or x_star > 0) else float("inf")
        if not np.isfinite(n_star) or n_star > 2_000_000:
            raise InputError(f"the target {target:g} is not reached below n = 2,000,000")
        n_star = max(n_star, float(n_min))
        near = min(abs(n - n_star) for n in evals)
        if near <= max(2.0, 0.02 * n_star):
            break
        lo_n, hi_n = min(evals) / 3.0, max(evals) * 3.0
        g(int(round(min(max(n_star, lo_n), hi_n))))
    alpha, beta1 = fit_line()
    if not (np.isfinite(beta1) and beta1 != 0.0):
        raise InputError(f"the simulated {stat.replace('_', ' ')} does not change with n; the target "
                         f"{target:g} cannot be located")
    x_star = (target - alpha) / beta1
    if stat == "median_slope" and x_star <= 0:
        raise InputError(f"the target {target:g} is not reached at any n")
    n_req = max(n_min, int(math.ceil(inv(x_star))))
    # dv/dn at the root, and the n within ±1 MCSE of the target
    dvdn = beta1 * (-1.0 / n_req**2 if stat == "median_slope" else 1.0 / n_req)
    nearest = min(evals, key=lambda n: abs(n - n_req))
    mc = evals[nearest][1]
    if np.isfinite(mc) and dvdn > 0:
        half = mc / dvdn
        interval = (int(math.floor(n_req - half)), int(math.ceil(n_req + half)))
    else:
        interval = (n_req, n_req)
    perf = expected_performance(n_req, prevalence, cstatistic, parameters, simulations=simulations,
                                nval=nval, seed=seed, bounds=bounds, executor=executor)
    return SimulatedSize(
        statistic=stat, target=target, n_required=int(n_req), n_interval=interval, rvs=rvs,
        analytical_corrected=n_corr, c_adjusted=c_adj, analytical_prob=n_prob, r2_cs=r2,
        evaluations=tuple((n, v, s) for n, (v, s) in sorted(evals.items())),
        performance=perf, seconds=time.perf_counter() - t0,
    )
