"""SYNTHETIC external-validation centres for the ReDMI model (multi-centre demo).

No published data exist for ReDMI outside its derivation centre, so these centres are invented to
show the multi-centre flow: four hypothetical dermatomyositis clinics with different case mix,
one of them miscalibrated. Each patient's predictors are drawn from simple distributions; the
outcome is drawn from the ReDMI linear predictor changed by a centre-specific intercept shift and
slope (the "truth" of that centre). Everything is defined by one seed; every row is flagged
``synthetic = 1`` and every identifier starts with ``SYN-BV``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["REDMI_CENTRES", "SEED", "generate_redmi_centres", "CentreSpec"]

#: Seed of :func:`generate_redmi_centres`.
SEED = 14


@dataclass(frozen=True)
class CentreSpec:
    """How one SYNTHETIC centre differs: size, case mix and its true calibration.

    Attributes
    ----------
    name : str
    n : int
    tif1g, alopecia : float
        Prevalences of anti-TIF1-γ and alopecia.
    gi_vas_mean : float
        Mean GI disease-activity VAS (0–10; drawn as a rounded gamma).
    age_mean : float
    shift, slope : float
        True outcome model: logit P = shift + slope · LP_ReDMI.
    description : str
    """

    name: str
    n: int
    tif1g: float
    alopecia: float
    gi_vas_mean: float
    age_mean: float
    shift: float
    slope: float
    description: str


#: The four SYNTHETIC validation centres.
REDMI_CENTRES: tuple[CentreSpec, ...] = (
    CentreSpec("North (synthetic)", 160, 0.15, 0.30, 2.0, 48, 0.0, 1.0,
               "case mix close to the derivation cohort; well calibrated"),
    CentreSpec("Coast (synthetic)", 130, 0.35, 0.35, 2.5, 58, 0.0, 0.85,
               "older referral centre with more anti-TIF1-γ (cancer-associated DM)"),
    CentreSpec("Valley (synthetic)", 210, 0.08, 0.20, 1.0, 45, -0.2, 1.0,
               "community clinic: milder disease, lower-risk case mix"),
    CentreSpec("Highland (synthetic)", 140, 0.18, 0.30, 2.0, 50, 0.9, 0.8,
               "MISCALIBRATED: refractory disease far more common than the model predicts"),
)


def generate_redmi_centres(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The SYNTHETIC validation centres, by name.

    Parameters
    ----------
    seed : int
        One seed for all centres (numpy ``default_rng``).

    Returns
    -------
    dict of str to DataFrame
        Columns ``patient_id, synthetic, centre, age, sex, anti_tif1g, alopecia, gi_vas,
        refractory``.
    """
    from myorisk.modeling.spec import linear_predictor
    from myorisk.published.files import load_spec

    spec = load_spec("redmi")
    rng = np.random.default_rng(seed)
    out = {}
    for k, c in enumerate(REDMI_CENTRES):
        n = c.n
        df = pd.DataFrame({
            "patient_id": [f"SYN-BV{k + 1}-{i + 1:03d}" for i in range(n)],
            "synthetic": 1,
            "centre": c.name,
            "age": np.clip(np.round(rng.normal(c.age_mean, 13, n)), 18, 90).astype(int),
            "sex": np.where(rng.uniform(size=n) < 0.75, "female", "male"),
            "anti_tif1g": (rng.uniform(size=n) < c.tif1g).astype(int),
            "alopecia": (rng.uniform(size=n) < c.alopecia).astype(int),
            "gi_vas": np.clip(np.round(rng.gamma(1.2, c.gi_vas_mean / 1.2, n)), 0, 10),
        })
        lp = linear_predictor(spec, df, source=c.name)
        p = 1.0 / (1.0 + np.exp(-(c.shift + c.slope * lp)))
        df["refractory"] = (rng.uniform(size=n) < p).astype(int)
        out[c.name] = df
    return out
