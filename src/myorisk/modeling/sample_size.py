"""Minimum sample size for developing a binary-outcome prediction model (Riley et al. 2020).

Reproduces R ``pmsampsize(type = "b")`` (Ensor, Martin & Riley; version 1.1.x, the one whose
``tests/testthat/test_bin.R`` gives 623, 662, 221 → 662 for prevalence 0.174, 24 parameters and
Cox–Snell R² 0.288). With P candidate parameters, prevalence φ, anticipated Cox–Snell R² R²
and target shrinkage S:

1. expected shrinkage ≥ S: n₁ = ⌈P / ((S − 1)·ln(1 − R²/S))⌉;
2. optimism in Nagelkerke R² ≤ δ = 0.05: max R²_CS = 1 − exp(2·[φ ln φ + (1−φ) ln(1−φ)]),
   S₂ = R² / (R² + δ·max R²_CS), n₂ = ⌈P / ((S₂ − 1)·ln(1 − R²/S₂))⌉;
3. overall risk within ± ``mmoe``: n₃ = ⌈(1.96 / mmoe)²·φ(1−φ)⌉;

final n = max(n₁, n₂, n₃); events = n·φ; EPP = events / P.

The anticipated R² can be given as ``csrsquared`` (Cox–Snell), ``nagrsquared`` (converted with
R²_CS = round(R²_N·max R²_CS, 3), as pmsampsize does) or ``cstatistic`` (Riley, Van Calster &
Collins 2021 approximation ``cstat2rsq``: 10⁶ simulated linear predictors, N(0, 1) for
φ·10⁶ non-events and N(√2·Φ⁻¹(C), 1) for the rest, a logistic fit, R²_CS = 1 − exp(−LR/n),
rounded to 4 decimals; seed 123456).

The C-statistic route replays R's random number stream: R's ``set.seed`` initial scrambling,
its Mersenne-Twister and the ``Inversion`` normal generator are re-created on numpy's MT19937,
so the simulated values are R's. The only remaining difference is the normal quantile function
(scipy ``ndtri`` vs R ``qnorm``, both accurate to a few ulp), which cannot move a value rounded
to 4 decimals except in a freak case; ``rng="numpy"`` uses numpy's own generator instead and
then differs slightly from R (as the Python port of pmsampsize does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri

from myorisk.errors import InputError, Problem
from myorisk.modeling._newton import newton_logistic

__all__ = [
    "Adequacy",
    "Criterion",
    "SampleSize",
    "adequacy",
    "cstat_to_r2cs",
    "max_r2_cs",
    "r_rnorm",
    "riley_binary",
    "riley_validation",
    "ValidationSampleSize",
    "ValidationCriterion",
    "r_rbeta",
    "r_rbinom1",
]

_DELTA = 0.05  # acceptable optimism in Nagelkerke R² (pmsampsize fixes it)
_Z = 1.96  # pmsampsize uses 1.96, not qnorm(0.975)


@dataclass(frozen=True)
class Criterion:
    """One of Riley's three criteria.

    Attributes
    ----------
    name : str
        ``"shrinkage"``, ``"optimism"`` or ``"intercept"``.
    description : str
        What the criterion guarantees, in words.
    n : int
        Sample size it requires.
    shrinkage : float
        Shrinkage column of pmsampsize's table (criterion 3 shows max(S, S₂), as pmsampsize).
    events : float
        n·φ.
    epp : float
        Events per candidate parameter (full precision; pmsampsize rounds to 2 decimals).
    """

    name: str
    description: str
    n: int
    shrinkage: float
    events: float
    epp: float


@dataclass(frozen=True)
class SampleSize:
    """Riley et al. minimum sample size for a binary-outcome prediction model.

    Attributes
    ----------
    prevalence : float
        Anticipated outcome proportion φ.
    parameters : int
        Candidate predictor parameters P.
    shrinkage_target : float
        Target expected shrinkage S (criterion 1).
    mmoe : float
        Absolute margin of error for the overall risk (criterion 3).
    r2_source : str
        ``"csrsquared"``, ``"nagrsquared"`` or ``"cstatistic"``.
    r2_input : float
        The value given for that source.
    r2_cs : float
        Cox–Snell R² used by the formulas.
    max_r2_cs : float
        Largest Cox–Snell R² possible at this prevalence.
    r2_nagelkerke : float
        r2_cs / max_r2_cs.
    criteria : tuple of Criterion
        Criteria 1–3.
    n : int
        Minimum sample size, max of the criteria.
    events : float
        n·φ (pmsampsize prints its ceiling).
    epp : float
        events / P.
    final_shrinkage : float
        max(S, S₂): the shrinkage expected at ``n``.
    binding : str
        Name of the criterion that sets ``n``.
    """

    prevalence: float
    parameters: int
    shrinkage_target: float
    mmoe: float
    r2_source: str
    r2_input: float
    r2_cs: float
    max_r2_cs: float
    r2_nagelkerke: float
    criteria: tuple[Criterion, ...]
    n: int
    events: float
    epp: float
    final_shrinkage: float
    binding: str

    def to_frame(self) -> pd.DataFrame:
        """pmsampsize's results table: one row per criterion and a ``final`` row.

        Columns ``criterion, n, shrinkage, parameters, r2_cs, max_r2_cs, r2_nagelkerke,
        events, epp`` at full precision.
        """
        rows = [
            {"criterion": c.name, "n": c.n, "shrinkage": c.shrinkage} | self._common(c.events)
            for c in self.criteria
        ]
        rows.append({"criterion": "final", "n": self.n, "shrinkage": self.final_shrinkage}
                    | self._common(self.events))
        return pd.DataFrame(rows)

    def _common(self, events: float) -> dict[str, float]:
        return {
            "parameters": self.parameters,
            "r2_cs": self.r2_cs,
            "max_r2_cs": self.max_r2_cs,
            "r2_nagelkerke": self.r2_nagelkerke,
            "events": events,
            "epp": events / self.parameters,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "criteria"}
        d["criteria"] = [dict(c.__dict__) for c in self.criteria]
        return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in d.items()}

    def summary(self) -> str:
        """One plain-language sentence, as pmsampsize prints it."""
        return (
            f"Minimum sample size {self.n} ({math.ceil(self.events)} events at prevalence "
            f"{self.prevalence:g}, {self.epp:.2f} events per candidate parameter); set by the "
            f"{self.binding} criterion."
        )


# ---------------------------------------------------------------------------------------------
# R's random number stream (Mersenne-Twister + Inversion), for cstat2rsq parity
# ---------------------------------------------------------------------------------------------
def _r_mt_state(seed: int) -> np.random.MT19937:
    """numpy MT19937 holding the state R's ``set.seed(seed)`` produces (default RNG kind)."""
    s = seed & 0xFFFFFFFF
    for _ in range(50):  # initial scrambling (RNG.c: RNG_Init)
        s = (69069 * s + 1) & 0xFFFFFFFF
    key = np.empty(625, dtype=np.uint64)
    for j in range(625):  # i_seed[0] is mti (dummy), i_seed[1..624] the MT state
        s = (69069 * s + 1) & 0xFFFFFFFF
        key[j] = s
    bg = np.random.MT19937()
    # FixupSeeds: mti = 624 -> the next draw regenerates the whole block
    bg.state = {"bit_generator": "MT19937",
                "state": {"key": key[1:].astype(np.uint32), "pos": 624}}
    return bg


def _r_unif(bg: np.random.MT19937, size: int) -> np.ndarray:
    u = bg.random_raw(size).astype(np.float64) * 2.3283064365386963e-10  # MT_genrand
    i2_32m1 = 2.328306437080797e-10
    u = np.where(u <= 0.0, 0.5 * i2_32m1, u)  # fixup()
    return np.where(1.0 - u <= 0.0, 1.0 - 0.5 * i2_32m1, u)


def r_rnorm(n: int, mean: float, sd: float, bg: np.random.MT19937) -> np.ndarray:
    """R's ``rnorm`` under the default ``Inversion`` method, drawing from ``bg``.

    Each value uses two uniforms: u = ⌊2²⁷·u₁⌋ + u₂, then Φ⁻¹(u / 2²⁷).
    """
    big = 134217728.0
    u = _r_unif(bg, 2 * n).reshape(n, 2)
    v = np.floor(big * u[:, 0]) + u[:, 1]
    return mean + sd * ndtri(v / big)


def cstat_to_r2cs(
    cstatistic: float, prevalence: float, *, seed: int = 123456,
    rng: Literal["r", "numpy"] = "r", n: int = 1_000_000,
) -> float:
    """Cox–Snell R² implied by a C-statistic (pmsampsize ``cstat2rsq``), unrounded.

    Parameters
    ----------
    cstatistic : float
        Anticipated C-statistic (0.5 < C < 1).
    prevalence : float
        Outcome proportion φ.
    seed : int
        Seed (pmsampsize's default 123456).
    rng : {"r", "numpy"}
        ``"r"`` replays R's ``set.seed``/``rnorm`` stream (parity with R); ``"numpy"`` uses
        ``numpy.random.default_rng(seed)``.
    n : int
        Simulated sample size (10⁶ in pmsampsize).

    Returns
    -------
    float
    """
    mu = math.sqrt(2.0) * float(ndtri(cstatistic))
    n0 = int(prevalence * n)  # R truncates non-integer lengths
    n1 = int((1.0 - prevalence) * n)
    if rng == "r":
        bg = _r_mt_state(seed)
        lp = np.concatenate([r_rnorm(n0, 0.0, 1.0, bg), r_rnorm(n1, mu, 1.0, bg)])
    elif rng == "numpy":
        g = np.random.default_rng(seed)
        lp = np.concatenate([g.normal(0.0, 1.0, n0), g.normal(mu, 1.0, n1)])
    else:
        raise InputError(f"rng must be 'r' or 'numpy', not {rng!r}")
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    fit = newton_logistic(np.column_stack([np.ones(lp.size), lp]), y)
    m = lp.size
    ll0 = n1 * math.log(n1 / m) + n0 * math.log(n0 / m)
    lr = 2.0 * (fit.loglik - ll0)
    return float(1.0 - math.exp(-lr / n))  # pmsampsize divides by n, not by n0 + n1


def max_r2_cs(prevalence: float) -> float:
    """Largest attainable Cox–Snell R² at outcome proportion φ: 1 − exp(2·lnL_null/n)."""
    p = prevalence
    return 1.0 - math.exp(2.0 * (p * math.log(p) + (1.0 - p) * math.log(1.0 - p)))


def _n_for_shrinkage(parameters: int, s: float, r2: float) -> int:
    return math.ceil(parameters / ((s - 1.0) * math.log(1.0 - r2 / s)))


def _riley_error(text: str) -> InputError:
    return InputError(problems=[Problem("riley_binary", rule=text)])


def riley_binary(
    *,
    prevalence: float,
    parameters: int,
    csrsquared: float | None = None,
    nagrsquared: float | None = None,
    cstatistic: float | None = None,
    shrinkage: float = 0.9,
    mmoe: float = 0.05,
    seed: int = 123456,
    rng: Literal["r", "numpy"] = "r",
) -> SampleSize:
    """Minimum sample size for a binary-outcome model by Riley et al.'s three criteria.

    Parameters
    ----------
    prevalence : float
        Anticipated outcome proportion (0 < φ < 1).
    parameters : int
        Candidate predictor parameters (dummy variables and spline terms each count).
    csrsquared, nagrsquared, cstatistic : float, optional
        Exactly one: anticipated Cox–Snell R², Nagelkerke R², or C-statistic.
    shrinkage : float
        Target expected shrinkage (criterion 1), 0.9 by default.
    mmoe : float
        Margin of error of the overall risk (criterion 3), 0.05 by default.
    seed : int
        Seed of the C-statistic simulation.
    rng : {"r", "numpy"}
        Random stream of the C-statistic simulation (see :func:`cstat_to_r2cs`).

    Returns
    -------
    SampleSize

    Raises
    ------
    InputError
        Missing or conflicting R² inputs or values out of range.
    """
    given = {k: v for k, v in (("csrsquared", csrsquared), ("nagrsquared", nagrsquared),
                               ("cstatistic", cstatistic)) if v is not None}
    if len(given) != 1:
        raise _riley_error(
            "give exactly one of csrsquared, nagrsquared or cstatistic "
            f"(got {', '.join(given) or 'none'})"
        )
    if not 0.0 < prevalence < 1.0:
        raise _riley_error(f"prevalence {prevalence} is not between 0 and 1")
    if int(parameters) != parameters or parameters < 1:
        raise _riley_error(f"parameters {parameters} is not a positive integer")
    parameters = int(parameters)
    if not 0.0 < shrinkage < 1.0:
        raise _riley_error(f"shrinkage {shrinkage} is not between 0 and 1")
    if not 0.0 < mmoe < 1.0:
        raise _riley_error(f"mmoe {mmoe} is not between 0 and 1")
    source, value = next(iter(given.items()))
    mx = max_r2_cs(prevalence)
    if source == "csrsquared":
        if not 0.0 < value < 1.0:
            raise _riley_error(f"csrsquared {value} is not between 0 and 1")
        r2 = float(value)
    elif source == "nagrsquared":
        if not 0.0 < value < 1.0:
            raise _riley_error(f"nagrsquared {value} is not between 0 and 1")
        r2 = round(value * mx, 3)
    else:
        if not 0.5 < value < 1.0:
            raise _riley_error(f"cstatistic {value} is not between 0.5 and 1")
        r2 = round(cstat_to_r2cs(value, prevalence, seed=seed, rng=rng), 4)
    if r2 <= 0:
        raise _riley_error(f"the anticipated Cox–Snell R² ({r2}) is not positive")
    if r2 > mx:
        raise _riley_error(
            f"Cox–Snell R² {r2} exceeds the maximum possible at prevalence "
            f"{prevalence} ({mx:.4f})"
        )
    if r2 >= shrinkage:
        raise _riley_error(
            f"Cox–Snell R² {r2} is not below the target shrinkage {shrinkage}"
        )
    n1 = _n_for_shrinkage(parameters, shrinkage, r2)
    s2 = r2 / (r2 + _DELTA * mx)
    n2 = _n_for_shrinkage(parameters, s2, r2)
    n3 = math.ceil((_Z / mmoe) ** 2 * prevalence * (1.0 - prevalence))
    s_final = max(shrinkage, s2)

    def crit(name: str, desc: str, n: int, s: float) -> Criterion:
        ev = n * prevalence
        return Criterion(name, desc, n, s, ev, ev / parameters)

    criteria = (
        crit("shrinkage", f"expected shrinkage of predictor effects ≥ {shrinkage:g}", n1,
             shrinkage),
        crit("optimism", f"optimism in Nagelkerke R² ≤ {_DELTA:g}", n2, s2),
        crit("intercept", f"overall risk estimated within ±{mmoe:g}", n3, s_final),
    )
    n = max(n1, n2, n3)
    binding = next(c.name for c in criteria if c.n == n)
    return SampleSize(
        prevalence=float(prevalence), parameters=parameters, shrinkage_target=float(shrinkage),
        mmoe=float(mmoe), r2_source=source, r2_input=float(value), r2_cs=r2, max_r2_cs=mx,
        r2_nagelkerke=r2 / mx, criteria=criteria, n=n, events=n * prevalence,
        epp=n * prevalence / parameters, final_shrinkage=s_final, binding=binding,
    )


# ---------------------------------------------------------------------------------------------
# adequacy of an actual data set
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adequacy:
    """How an actual development data set compares with the sample-size requirements.

    Attributes
    ----------
    n, events, parameters : int
        Patients, events (the less frequent outcome counts for EPP) and candidate parameters.
    prevalence : float
        Outcome proportion used for the requirement.
    epp : float
        min(events, non-events) / parameters.
    epp_threshold : float
        Rule-of-thumb threshold (10).
    requirement : SampleSize or None
        Riley requirement (None when no R² was given).
    expected_shrinkage : float
        Expected uniform shrinkage at the actual n: Riley's S = 1 + P / (n·ln(1 − R²_CS / S))
        solved for S (NaN without an anticipated R², or when no solution exists).
    adequate : bool
        True when n ≥ the Riley requirement (or, without R², EPP ≥ threshold).
    findings : tuple of str
        Plain-language statements for reports.
    """

    n: int
    events: int
    parameters: int
    prevalence: float
    epp: float
    epp_threshold: float
    requirement: SampleSize | None
    expected_shrinkage: float
    adequate: bool
    findings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "requirement"}
        d["findings"] = list(self.findings)
        d["expected_shrinkage"] = (None if not math.isfinite(self.expected_shrinkage)
                                   else float(self.expected_shrinkage))
        d["requirement"] = None if self.requirement is None else self.requirement.to_dict()
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row per finding."""
        return pd.DataFrame({"finding": list(self.findings)})


def _expected_shrinkage(n: int, parameters: int, r2: float) -> float:
    """Solve S = 1 + P / (n·ln(1 − R²/S)) (Riley 2020 eq. for the expected shrinkage)."""
    if n <= 0:
        return math.nan

    def f(s: float) -> float:
        return s - 1.0 - parameters / (n * math.log(1.0 - r2 / s))

    lo, hi = r2 + 1e-12, 1.0
    if f(lo) * f(hi) > 0:  # no solution in (R², 1): the model cannot be fitted sensibly
        return math.nan
    for _ in range(200):  # bisection; f is monotone on (R², 1)
        mid = 0.5 * (lo + hi)
        if f(lo) * f(mid) <= 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def adequacy(
    n: int,
    events: int,
    parameters: int,
    prevalence: float | None = None,
    *,
    r2_cs: float | None = None,
    nagrsquared: float | None = None,
    cstatistic: float | None = None,
    shrinkage: float = 0.9,
    epp_threshold: float = 10.0,
) -> Adequacy:
    """Compare an actual data set with the events-per-parameter rule and Riley's criteria.

    Parameters
    ----------
    n : int
        Patients in the development data.
    events : int
        Patients with the outcome.
    parameters : int
        Candidate predictor parameters considered (not only those kept).
    prevalence : float, optional
        Outcome proportion for the requirement; ``events / n`` by default.
    r2_cs, nagrsquared, cstatistic : float, optional
        At most one anticipated performance measure for the Riley requirement.
    shrinkage : float
        Target shrinkage.
    epp_threshold : float
        Events-per-parameter rule of thumb (10).

    Returns
    -------
    Adequacy
    """
    if int(n) != n or n < 1:
        raise InputError(f"adequacy: n {n} is not a positive integer")
    if int(events) != events or not 0 <= events <= n:
        raise InputError(f"adequacy: events {events} must be an integer between 0 and n = {n}")
    if int(parameters) != parameters or parameters < 1:
        raise InputError(f"adequacy: parameters {parameters} is not a positive integer")
    n, events, parameters = int(n), int(events), int(parameters)
    phi = events / n if prevalence is None else float(prevalence)
    limiting = min(events, n - events)
    epp = limiting / parameters
    kind = "events" if events <= n - events else "non-events"
    findings = []
    rel = "below" if epp < epp_threshold else "at or above"
    findings.append(
        f"{limiting} {kind} for {parameters} candidate parameter{'s' if parameters != 1 else ''}: "
        f"{_fmt1(epp)} {kind} per parameter, {rel} {epp_threshold:g}"
    )
    requirement = None
    exp_s = math.nan
    adequate = epp >= epp_threshold
    n_given = sum(v is not None for v in (r2_cs, nagrsquared, cstatistic))
    if n_given > 1:
        raise InputError("adequacy: give at most one of r2_cs, nagrsquared or cstatistic")
    if n_given == 1:
        if not 0 < phi < 1:
            raise InputError(f"adequacy: prevalence {phi} must be strictly between 0 and 1")
        requirement = riley_binary(prevalence=phi, parameters=parameters, csrsquared=r2_cs,
                                   nagrsquared=nagrsquared, cstatistic=cstatistic,
                                   shrinkage=shrinkage)
        adequate = n >= requirement.n
        findings.append(
            f"Riley criteria need n ≥ {requirement.n} (about {math.ceil(requirement.events)} "
            f"events); you have {n}"
            + ("" if adequate else f", {requirement.n - n} short")
        )
        for c in requirement.criteria:
            if n < c.n:
                findings.append(f"Not met: {c.description} needs n ≥ {c.n}")
        exp_s = _expected_shrinkage(n, parameters, requirement.r2_cs)
        if math.isfinite(exp_s):
            findings.append(
                f"Expected shrinkage at n = {n}: {exp_s:.2f} (target {shrinkage:g}); "
                "predictions will be over-confident unless shrunk"
                if exp_s < shrinkage else
                f"Expected shrinkage at n = {n}: {exp_s:.2f} (target {shrinkage:g})"
            )
        else:
            findings.append(
                f"With n = {n} and {parameters} parameters the anticipated R² cannot be "
                "reached without severe overfitting (no expected shrinkage in (R², 1))"
            )
    return Adequacy(n=n, events=events, parameters=parameters, prevalence=phi, epp=epp,
                    epp_threshold=epp_threshold, requirement=requirement,
                    expected_shrinkage=exp_s, adequate=adequate, findings=tuple(findings))


def _fmt1(x: float) -> str:
    return f"{x:.1f}"


# ---------------------------------------------------------------------------------------------
# external validation (Riley et al. 2021; pmvalsampsize)
# ---------------------------------------------------------------------------------------------
def r_runif(n: int, bg: np.random.MT19937) -> np.ndarray:
    """R's ``runif(n)`` (Mersenne-Twister, ``unif_rand``) drawing from ``bg``."""
    return _r_unif(bg, n)


def r_rbinom1(prob: np.ndarray | float, n: int, bg: np.random.MT19937) -> np.ndarray:
    """R's ``rbinom(n, size = 1, prob)`` drawing from ``bg`` (prob recycled as R does).

    For size 1 R's inversion algorithm uses one uniform u per draw with 0 < prob < 1 and returns
    1 when u ≥ 1 − min(prob, 1 − prob), flipped when prob > ½; prob 0 or 1 draw nothing.
    """
    p = np.broadcast_to(np.asarray(prob, dtype=float), (n,))
    out = np.zeros(n)
    out[p >= 1.0] = 1.0
    inner = (p > 0.0) & (p < 1.0)
    m = int(inner.sum())
    if m:
        u = _r_unif(bg, m)
        pi = p[inner]
        pm = np.minimum(pi, 1.0 - pi)
        ix = (u >= 1.0 - pm).astype(float)
        out[inner] = np.where(pi > 0.5, 1.0 - ix, ix)
    return out


def r_rbeta(n: int, shape1: float, shape2: float, bg: np.random.MT19937) -> np.ndarray:
    """R's ``rbeta(n, shape1, shape2)`` drawing from ``bg``: Cheng's (1978) algorithms BB
    (both shapes > 1) and BC (otherwise), two uniforms per attempt, rejections in stream order."""
    if not (shape1 > 0 and shape2 > 0 and math.isfinite(shape1) and math.isfinite(shape2)):
        raise InputError(f"beta shapes must be positive and finite, not ({shape1}, {shape2})")
    a, b = min(shape1, shape2), max(shape1, shape2)
    alpha = a + b
    expmax = 709.782712893384  # log(DBL_MAX)
    big = np.finfo(float).max
    if a <= 1.0:
        beta = 1.0 / a
        delta = 1.0 + b - a
        k1 = delta * (0.0138889 + 0.0416667 * a) / (b * beta - 0.777778)
        k2 = 0.25 + (0.5 + 0.25 / delta) * a
    else:
        beta = math.sqrt((alpha - 2.0) / (2.0 * a * b - alpha))
        gamma = a + 1.0 / beta

    def attempt(u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            v = beta * np.log(u1 / (1.0 - u1))
            w = np.where(v <= expmax, (a if a > 1.0 else b) * np.exp(np.minimum(v, expmax)), big)
            w = np.where(np.isinf(w), big, w)
            if a <= 1.0:
                y = u1 * u2
                z_lo = u1 * y
                z_hi = u1 * u1 * u2
                lo = u1 < 0.5
                z = np.where(lo, z_lo, z_hi)
                early_reject = np.where(lo, 0.25 * u2 + z_lo - y >= k1, z_hi >= k2)
                early_accept = ~lo & (z_hi <= 0.25)
                final = alpha * (np.log(alpha / (a + w)) + v) - 1.3862944 >= np.log(z)
                ok = early_accept | (~early_reject & final)
                x = np.where(shape1 == a, a / (a + w), w / (a + w))
            else:
                z = u1 * u1 * u2
                r = gamma * v - 1.3862944
                s = a + r - w
                t = np.log(z)
                ok = (s + 2.609438 >= 5.0 * z) | (s > t) | ~(r + alpha * np.log(alpha / (b + w)) < t)
                x = np.where(shape1 != a, b / (b + w), w / (b + w))
        return ok, x

    out = np.empty(n)
    got = 0
    while got < n:
        need = n - got
        m = max(16, int(need * 1.5) + 16)
        saved = bg.state
        u = _r_unif(bg, 2 * m).reshape(m, 2)
        ok, x = attempt(u[:, 0], u[:, 1])
        idx = np.flatnonzero(ok)
        if idx.size >= need:
            last = idx[need - 1]
            out[got:] = x[idx[:need]]
            bg.state = saved  # consume exactly the uniforms R would have
            _r_unif(bg, 2 * (last + 1))
            got = n
        else:
            out[got:got + idx.size] = x[idx]
            got += idx.size
    return out


@dataclass(frozen=True)
class ValidationCriterion:
    """One criterion of Riley et al. (2021) for external validation.

    Attributes
    ----------
    name : str
        ``"oe"``, ``"slope"``, ``"cstatistic"`` or ``"net_benefit"``.
    description : str
        What it guarantees.
    n : int
        Sample size it needs.
    performance : float
        Anticipated value (O/E, slope, C or standardised net benefit).
    se : float
        Target standard error.
    ci_width : float
        Target confidence-interval width (for O/E the width actually attained by the SE search).
    """

    name: str
    description: str
    n: int
    performance: float
    se: float
    ci_width: float


@dataclass(frozen=True)
class ValidationSampleSize:
    """Minimum sample size for externally validating a binary-outcome model (pmvalsampsize).

    Attributes
    ----------
    prevalence : float
        Anticipated outcome proportion.
    criteria : tuple of ValidationCriterion
        O/E, calibration slope, C statistic and, when asked, standardised net benefit.
    n : int
        Minimum sample size (largest criterion).
    events : float
        n·prevalence.
    binding : str
        Criterion that sets n.
    lp_distribution : str
        ``"normal"``, ``"beta"`` or ``"cstat"``: how the linear predictor was simulated.
    simobs : int
        Simulated observations for the slope (and net-benefit) criterion.
    seed : int
        Seed of R's random stream replayed.
    lp_cstat_mean : float or None
        Mean of the non-event LP distribution found by the ``lpcstat`` search.
    simulated_cstatistic : float or None
        C statistic of the simulated data (``lpcstat``).
    sensitivity, specificity : float or None
        Used for net benefit (given, or estimated from the simulated LP at ``threshold``).
    threshold : float or None
        Risk threshold for net benefit.
    """

    prevalence: float
    criteria: tuple[ValidationCriterion, ...]
    n: int
    events: float
    binding: str
    lp_distribution: str
    simobs: int
    seed: int
    lp_cstat_mean: float | None = None
    simulated_cstatistic: float | None = None
    sensitivity: float | None = None
    specificity: float | None = None
    threshold: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """pmvalsampsize's results table: criterion, n, performance, se, ci_width, and a final row."""
        rows = [{"criterion": c.name, "n": c.n, "performance": c.performance, "se": c.se,
                 "ci_width": c.ci_width} for c in self.criteria]
        b = next(c for c in self.criteria if c.name == self.binding)
        rows.append({"criterion": "final", "n": self.n, "performance": b.performance, "se": b.se,
                     "ci_width": b.ci_width})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        from myorisk._json import clean

        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "criteria"}
        d["criteria"] = [dict(c.__dict__) for c in self.criteria]
        return clean(d)

    def summary(self) -> str:
        """One sentence."""
        return (f"Minimum sample size for external validation {self.n} "
                f"({math.ceil(self.events)} events at prevalence {self.prevalence:g}); set by the "
                f"{self.binding} criterion.")


def _search_se(width_target: float, increment: float, width_of) -> tuple[float, float]:  # noqa: ANN001
    """pmvalsampsize's SE search: add ``increment`` until the CI width reaches the target."""
    se, width = 0.0, 0.0
    while width < width_target:
        se = se + increment
        width = width_of(se)
    return se, width


def _lp_cstat(cstatistic: float, prevalence: float, m2: float, simobs: int, tolerance: float,
              increment: float, bg: np.random.MT19937) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    var = 2.0 * float(ndtri(cstatistic)) ** 2
    sd = math.sqrt(var)

    def draw(m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        outcome = r_rbinom1(prevalence, simobs, bg)
        lp = r_rnorm(simobs, m, sd, bg)
        lp2 = r_rnorm(simobs, m + var, sd, bg)
        lp = np.where(outcome == 1, lp2, lp)
        p = np.exp(lp) / (1.0 + np.exp(lp))
        return lp, p, r_rbinom1(p, simobs, bg)

    lp, p, yt = draw(m2)
    diff = abs(prevalence - float(np.mean(yt)))
    if diff > tolerance:
        m2 = m2 + increment
        lp, p, yt = draw(m2)
        diff_new = abs(prevalence - float(np.mean(yt)))
        step = increment if diff_new < diff else -increment
        it = 0
        while diff_new > tolerance:
            it += 1
            if it > 10_000:
                raise InputError("lpcstat: the search for the non-event mean did not reach the "
                                 "prevalence tolerance; try another starting mean or increment")
            m2 = m2 + step
            lp, p, yt = draw(m2)
            diff_new = abs(prevalence - float(np.mean(yt)))
    return lp, p, yt, m2


def riley_validation(
    *,
    prevalence: float,
    cstatistic: float,
    lpnormal: tuple[float, float] | None = None,
    lpbeta: tuple[float, float] | None = None,
    lpcstat: float | None = None,
    oe: float = 1.0,
    oeciwidth: float = 0.2,
    cslope: float = 1.0,
    csciwidth: float = 0.2,
    cstatciwidth: float = 0.1,
    simobs: int = 1_000_000,
    tolerance: float = 0.0005,
    increment: float = 0.1,
    oeseincrement: float = 0.0001,
    seed: int = 123456,
    sensitivity: float | None = None,
    specificity: float | None = None,
    threshold: float | None = None,
    nbciwidth: float = 0.2,
    nbseincrement: float = 0.0001,
) -> ValidationSampleSize:
    """Minimum sample size to externally validate a binary-outcome prediction model.

    Reproduces R ``pmvalsampsize(type = "b", …)`` (Ensor, Riley et al.; criteria of Riley,
    Debray, Collins et al. 2021), including its random stream: R's ``set.seed``, ``rnorm``,
    ``rbeta`` (Cheng's algorithms) and ``rbinom`` are replayed, so simulated LP distributions are
    R's own values.

    1. O/E: the SE of ln(O/E) is searched in steps of ``oeseincrement`` until the CI
       exp(ln O/E ± 1.96·SE) is ``oeciwidth`` wide; n₁ = ⌈(1 − φ)/(φ·SE²)⌉.
    2. Calibration slope: with the LP simulated (normal, beta on the risk scale, or the
       ``lpcstat`` event/non-event normal mixture), the Fisher information of the calibration
       model at (0, 1) per patient I = mean of p(1−p)·[1, LP; LP, LP²]; with SE = ``csciwidth``/3.92,
       n₂ = ⌈I₀₀ / (SE²·(I₀₀I₁₁ − I₀₁²))⌉.
    3. C statistic: smallest n ≤ 10⁶ at which 3.92·SE(C) ≤ ``cstatciwidth``, with SE(C)² =
       C(1−C)·[1 + (n/2 − 1)(1 − C)/(2 − C) + (n/2 − 1)C/(1 + C)] / (n²φ(1 − φ)).
    4. Standardised net benefit (when ``threshold`` is given): SE searched in steps of
       ``nbseincrement`` and rounded to 3 decimals, n₄ from Riley et al.'s variance formula, with
       sensitivity and specificity given or estimated (rounded to 2 decimals) from the simulated LP.

    Parameters
    ----------
    prevalence, cstatistic : float
        Anticipated outcome proportion and C statistic.
    lpnormal, lpbeta, lpcstat
        Exactly one: (mean, sd) of a normal LP; (α, β) of a beta distribution of risks; or the
        starting non-event mean for the ``lpcstat`` search.
    oe, oeciwidth, cslope, csciwidth, cstatciwidth : float
        Anticipated values and target CI widths.
    simobs, seed : int
        Simulated observations and seed (pmvalsampsize's 10⁶ and 123456).
    tolerance, increment : float
        ``lpcstat`` search tolerance on the prevalence and step of the non-event mean.
    oeseincrement, nbseincrement : float
        Steps of the SE searches.
    sensitivity, specificity, threshold, nbciwidth : float, optional
        Net-benefit criterion.

    Returns
    -------
    ValidationSampleSize
    """
    given = [k for k, v in (("lpnormal", lpnormal), ("lpbeta", lpbeta), ("lpcstat", lpcstat)) if v is not None]
    if len(given) != 1:
        raise InputError("riley_validation: give exactly one LP distribution: lpnormal (mean, sd), "
                         f"lpbeta (alpha, beta) or lpcstat (non-event mean) (got {', '.join(given) or 'none'})")
    if not 0.0 < prevalence < 1.0:
        raise InputError(f"riley_validation: prevalence {prevalence} is not between 0 and 1")
    if not 0.5 < cstatistic < 1.0:
        raise InputError(f"riley_validation: cstatistic {cstatistic} is not between 0.5 and 1")
    for name, v in (("oe", oe), ("oeciwidth", oeciwidth), ("csciwidth", csciwidth),
                    ("cstatciwidth", cstatciwidth), ("nbciwidth", nbciwidth)):
        if not v > 0:
            raise InputError(f"riley_validation: {name} must be positive, not {v}")
    if int(simobs) != simobs or simobs < 100:
        raise InputError(f"riley_validation: simobs {simobs} must be an integer of at least 100")
    if (sensitivity is None) != (specificity is None):
        raise InputError("riley_validation: give both sensitivity and specificity, or neither")
    if sensitivity is not None and threshold is None:
        raise InputError("riley_validation: sensitivity and specificity need a threshold")
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise InputError(f"riley_validation: threshold {threshold} is not between 0 and 1")
    simobs = int(simobs)
    phi = float(prevalence)
    bg = _r_mt_state(seed)
    # 1. O/E
    lo = math.log(oe)
    se_oe, width_oe = _search_se(oeciwidth, oeseincrement,
                                 lambda s: math.exp(lo + 1.96 * s) - math.exp(lo - 1.96 * s))
    n1 = math.ceil((1.0 - phi) / (phi * se_oe ** 2))
    # 2. calibration slope
    m2 = sim_c = None
    if lpnormal is not None:
        mean, sd = lpnormal
        if not sd > 0:
            raise InputError(f"riley_validation: lpnormal sd must be positive, not {sd}")
        lp = r_rnorm(simobs, float(mean), float(sd), bg)
        dist = "normal"
    elif lpbeta is not None:
        pb = r_rbeta(simobs, float(lpbeta[0]), float(lpbeta[1]), bg)
        with np.errstate(divide="ignore"):
            lp = np.log(pb / (1.0 - pb))
        dist = "beta"
    else:
        lp, p_sim, y_sim, m2 = _lp_cstat(cstatistic, phi, float(lpcstat), simobs, tolerance,
                                        increment, bg)
        from myorisk.modeling.roc import delong_placements

        sim_c = delong_placements(p_sim[y_sim == 0], p_sim[y_sim == 1], "<")[0]
        dist = "cstat"
    with np.errstate(over="ignore", invalid="ignore"):
        el = np.exp(lp)
        b00 = el / (1.0 + el) ** 2
    b00 = np.nan_to_num(b00, nan=0.0)  # risks of exactly 0 or 1 (LP = ±inf) carry no information
    keep = b00 > 0
    i00 = math.fsum(b00) / simobs
    i01 = math.fsum(lp[keep] * b00[keep]) / simobs
    i11 = math.fsum(lp[keep] * lp[keep] * b00[keep]) / simobs
    se_cs = csciwidth / (2 * 1.96)
    n2 = math.ceil(i00 / (se_cs * se_cs * (i00 * i11 - i01 * i01)))
    # 3. C statistic
    size = np.arange(1, 1_000_001, dtype=float)
    c = cstatistic
    with np.errstate(invalid="ignore"):
        se2 = c * (1 - c) * (1 + ((size / 2) - 1) * ((1 - c) / (2 - c)) + (((size / 2) - 1) * c) / (1 + c)) \
            / (size * size * phi * (1 - phi))
        width = 2 * 1.96 * np.sqrt(se2)
    okc = np.flatnonzero(width <= cstatciwidth)
    if okc.size == 0:
        raise InputError("riley_validation: no sample size up to 1,000,000 reaches the C-statistic CI width")
    n3 = int(size[okc[0]])
    se_c = math.sqrt(c * (1 - c) * (1 + ((n3 / 2) - 1) * ((1 - c) / (2 - c)) + (((n3 / 2) - 1) * c) / (1 + c))
                     / (n3 * n3 * phi * (1 - phi)))
    criteria = [
        ValidationCriterion("oe", f"O/E within a 95% CI of width {oeciwidth:g}", n1, oe, se_oe, width_oe),
        ValidationCriterion("slope", f"calibration slope within a 95% CI of width {csciwidth:g}", n2,
                            cslope, se_cs, csciwidth),
        ValidationCriterion("cstatistic", f"C statistic within a 95% CI of width {cstatciwidth:g}", n3,
                            c, se_c, cstatciwidth),
    ]
    sens = spec = None
    if threshold is not None:
        t = float(threshold)
        if sensitivity is not None:
            sens, spec = float(sensitivity), float(specificity)  # type: ignore[arg-type]
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                nb_p = np.exp(lp) / (1.0 + np.exp(lp))
            nb_y = r_rbinom1(nb_p, simobs, bg)
            cls = (nb_p >= t).astype(float)
            sens = round(float(cls[nb_y == 1].sum() / (nb_y == 1).sum()), 2)
            spec = round(float(((nb_y == 0).sum() - cls[nb_y == 0].sum()) / (nb_y == 0).sum()), 2)
        nb = sens * phi - (1 - spec) * (1 - phi) * (t / (1 - t))
        snb = nb / phi
        w = ((1 - phi) / phi) * (t / (1 - t))
        se_nb, _ = _search_se(nbciwidth, nbseincrement, lambda s: (snb + 1.96 * s) - (snb - 1.96 * s))
        se_nb = round(se_nb, 3)
        n4 = math.ceil((1 / se_nb ** 2) * ((sens * (1 - sens)) / phi
                                           + w * w * spec * (1 - spec) / (1 - phi)
                                           + w * w * (1 - spec) * (1 - spec) / (phi * (1 - phi))))
        criteria.append(ValidationCriterion("net_benefit", f"standardised net benefit at {t:g} within a 95% "
                                            f"CI of width {nbciwidth:g}", n4, snb, se_nb, nbciwidth))
    n = max(cr.n for cr in criteria)
    binding = [cr.name for cr in criteria if cr.n == n][-1]  # ties: the last, as order() in R
    return ValidationSampleSize(
        prevalence=phi, criteria=tuple(criteria), n=n, events=n * phi, binding=binding,
        lp_distribution=dist, simobs=simobs, seed=int(seed),
        lp_cstat_mean=m2, simulated_cstatistic=sim_c, sensitivity=sens, specificity=spec,
        threshold=threshold,
    )
