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
