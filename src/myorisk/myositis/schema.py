"""Canonical cohort variables: names, types, units, valid ranges, levels and cross-field rules.

The names follow ``shared/spec/data-dictionary.md``; the ranges follow §3 of
``shared/spec/clinical-scores.md`` ("safe to enforce now"). The schema is data: the cohort
checker (:mod:`myorisk.myositis.cohort`) reads it, and so can a report or a web form.
"""

from __future__ import annotations

from dataclasses import dataclass

from myorisk.codes import FALSE_WORDS, TRUE_WORDS

__all__ = [
    "BINARY_FALSE",
    "BINARY_TRUE",
    "BIOPSY_ITEMS",
    "CORE_SET",
    "CRITERIA_ITEMS",
    "DATE_PAIRS",
    "ENZYMES",
    "MMT8_SCALES",
    "VARIABLES",
    "Variable",
    "normalise_name",
]

#: Text tokens accepted for a 0/1 variable (compared case-insensitively, spaces trimmed); the one
#: definition is :mod:`myorisk.codes` (a mapping file's ``codes:`` block adds words).
BINARY_TRUE = TRUE_WORDS
BINARY_FALSE = FALSE_WORDS


@dataclass(frozen=True)
class Variable:
    """One canonical variable.

    Parameters
    ----------
    name : str
        Canonical column name.
    kind : {"id", "number", "binary", "category", "date", "text"}
        Type. ``binary`` holds 0/1 (text tokens such as yes/no are accepted on input);
        ``date`` holds calendar dates (ISO ``YYYY-MM-DD`` recommended).
    description : str
        One line saying what it is.
    unit : str, default ""
        Unit of a number.
    low, high : float or None
        Inclusive valid range of a number (``None``: unbounded on that side).
    low_exclusive : bool, default False
        If true the lower bound is exclusive (enzymes must be > 0).
    levels : tuple of str, default ()
        Allowed levels of a category (matched case-insensitively; stored as written here).
    """

    name: str
    kind: str
    description: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    levels: tuple[str, ...] = ()

    def range_text(self) -> str:
        """Human-readable valid range, e.g. ``"0-10"`` or ``"> 0 and <= 100000"``."""
        if self.low is None and self.high is None:
            return ""
        if self.low_exclusive:
            hi = "" if self.high is None else f" and <= {_fmt(self.high)}"
            return f"> {_fmt(self.low)}{hi}"
        if self.high is None:
            return f">= {_fmt(self.low)}"
        if self.low is None:
            return f"<= {_fmt(self.high)}"
        return f"{_fmt(self.low)}-{_fmt(self.high)}"


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def normalise_name(name: str) -> str:
    """Fold a column name for automatic matching: trim, lower case, spaces/dashes/dots -> ``_``."""
    out = str(name).strip().lower()
    for ch in " -./":
        out = out.replace(ch, "_")
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def _v(name: str, kind: str, description: str, **kw: object) -> Variable:
    return Variable(name, kind, description, **kw)  # type: ignore[arg-type]


_VARS: list[Variable] = [
    _v("patient_id", "id", "pseudonymous patient identifier (unique)"),
    _v("centre", "text", "centre, e.g. Qingdao, Liaocheng"),
    _v("split", "category", "study A's data set", levels=("train", "internal", "external")),
    _v("age", "number", "age at diagnosis", unit="years", low=18, high=100),
    _v("age_onset", "number", "age at onset of the first disease-related symptom",
       unit="years", low=0, high=100),
    _v("sex", "category", "sex (reference: female)", levels=("female", "male")),
    _v("subtype", "category", "clinical subtype", levels=("DM", "PM")),
    _v("ck", "number", "creatine kinase", unit="IU/L", low=0, high=100000, low_exclusive=True),
    _v("aldolase", "number", "aldolase", unit="U/L", low=0, high=1000, low_exclusive=True),
    _v("ldh", "number", "lactate dehydrogenase", unit="U/L", low=0, high=10000,
       low_exclusive=True),
    _v("emg_abundant_sp", "binary", "EMG: >= 2/s fibrillations or PSWs at several sites"),
    _v("mri_score", "number", "muscle MRI score, mean of readers", unit="points", low=0, high=12),
    _v("msuvmax", "number", "PET/CT mSUVmax (mean of 16 muscle SUVmax / mean liver SUV)",
       unit="ratio", low=0, high=10),
    _v("biopsy_done", "binary", "muscle biopsy done"),
    _v("gi_vas", "number", "MDAAT gastrointestinal activity VAS", unit="cm", low=0, high=10),
    _v("mitax", "number", "MITAX as a fraction of its maximum", low=0, high=1),
    _v("myoact", "number", "MYOACT as a fraction of its maximum", low=0, high=1),
    _v("mdi_extent", "number", "MDI damage extent as a fraction", low=0, high=1),
    _v("mdi_severity", "number", "MDI damage severity as a fraction", low=0, high=1),
    _v("tis_12w", "number", "ACR/EULAR 2016 Total Improvement Score at 12 weeks",
       unit="points", low=0, high=100),
    _v("nonresponse", "binary", "study A outcome: TIS < 20 at 12 weeks"),
    _v("refractory", "binary", "study B outcome"),
    _v("mmt8_max", "number", "declared MMT8 scale maximum (80 unilateral, 150 bilateral)",
       low=80, high=150),
    _v("date_bl", "date", "date of the baseline assessment"),
    _v("date_fu", "date", "date of the follow-up assessment"),
    _v("finger_flexor_weak", "binary", "finger-flexor weakness (subgroup tree only)"),
    _v("treatment_response", "binary", "response to treatment (subgroup tree only)"),
]
for _ab in ("anti_jo1", "anti_mda5", "anti_tif1g", "anti_mi2", "anti_sae", "anti_nxp2", "anti_ej"):
    _VARS.append(_v(_ab, "binary", "myositis-specific autoantibody"))
for _ab in ("anti_pmscl", "anti_rnp", "anti_ro"):
    _VARS.append(_v(_ab, "binary", "myositis-associated autoantibody"))
for _b in ("biopsy_necrosis", "biopsy_bundle_atrophy", "biopsy_fibrosis", "biopsy_fat",
           "biopsy_fasciitis"):
    _VARS.append(_v(_b, "binary", "muscle biopsy finding (missing when no biopsy)"))
for _c in ("alopecia", "dysphagia", "calcinosis", "prednisone_use", "ivig_use", "rituximab_use"):
    _VARS.append(_v(_c, "binary", "clinical feature or treatment (0/1)"))

#: EULAR/ACR 2017 clinical items (0/1), in the order of the criteria table (age is separate).
CRITERIA_ITEMS: tuple[str, ...] = (
    "weak_prox_upper", "weak_prox_lower", "neck_flexor_weak", "leg_prox_weaker_distal",
    "heliotrope", "gottron_papules", "gottron_sign", "dysphagia", "anti_jo1", "enzymes_raised",
)
#: EULAR/ACR 2017 biopsy items (0/1, missing when no biopsy).
CRITERIA_BIOPSY_ITEMS: tuple[str, ...] = (
    "bx_endomysial", "bx_perimysial", "bx_perifascicular_atrophy", "bx_rimmed_vacuoles",
)
for _c in CRITERIA_ITEMS:
    if _c not in ("dysphagia", "anti_jo1"):
        _VARS.append(_v(_c, "binary", "EULAR/ACR 2017 item"))
for _c in CRITERIA_BIOPSY_ITEMS:
    _VARS.append(_v(_c, "binary", "EULAR/ACR 2017 biopsy item (missing when no biopsy)"))

#: Every finding that may only be present when ``biopsy_done`` is 1.
BIOPSY_ITEMS: tuple[str, ...] = CRITERIA_BIOPSY_ITEMS + (
    "biopsy_necrosis", "biopsy_bundle_atrophy", "biopsy_fibrosis", "biopsy_fat",
    "biopsy_fasciitis",
)

#: Muscle enzymes usable for the TIS, with their plausible upper range (U/L).
ENZYMES: dict[str, float] = {"ck": 100000, "aldolase": 1000, "ldh": 10000, "ast": 10000,
                             "alt": 10000}
#: The six core set measures with their valid range (MMT8 handled through ``mmt8_max``).
CORE_SET: dict[str, tuple[float, float]] = {
    "pga": (0, 10), "ptga": (0, 10), "mmt8": (0, 150), "haq": (0, 3), "extramuscular": (0, 10),
}
#: Allowed MMT8 scale maxima (0-80 unilateral; 0-150 bilateral variant, declared).
MMT8_SCALES: tuple[int, ...] = (80, 150)

_CORE_LABEL = {"pga": "physician global activity VAS", "ptga": "patient global activity VAS",
               "mmt8": "MMT8 (0-80, or 0-150 when mmt8_max = 150)", "haq": "HAQ-DI",
               "extramuscular": "extramuscular global activity VAS"}
for _m, (_lo, _hi) in CORE_SET.items():
    for _t, _when in (("bl", "baseline"), ("fu", "follow-up")):
        _VARS.append(_v(f"{_m}_{_t}", "number", f"{_CORE_LABEL[_m]}, {_when}", low=_lo, high=_hi))
for _t, _when in (("bl", "baseline"), ("fu", "follow-up")):
    _VARS.append(_v(f"enzyme_{_t}", "number", f"muscle enzyme used for the TIS, {_when}",
                    unit="U/L", low=0, high=100000, low_exclusive=True))
for _e, _hi in ENZYMES.items():
    for _t, _when in (("bl", "baseline"), ("fu", "follow-up")):
        _VARS.append(_v(f"{_e}_{_t}", "number", f"{_e.upper()}, {_when}", unit="U/L", low=0,
                        high=_hi, low_exclusive=True))
    _VARS.append(_v(f"{_e}_uln", "number", f"{_e.upper()} upper limit of normal", unit="U/L",
                    low=0, high=_hi, low_exclusive=True))
_VARS.append(_v("ast", "number", "aspartate aminotransferase", unit="U/L", low=0, high=10000,
                low_exclusive=True))
_VARS.append(_v("alt", "number", "alanine aminotransferase", unit="U/L", low=0, high=10000,
                low_exclusive=True))

#: Canonical variables by name.
VARIABLES: dict[str, Variable] = {v.name: v for v in _VARS}

#: (earlier, later) date pairs: the later date may not come before the earlier one.
DATE_PAIRS: tuple[tuple[str, str], ...] = (("date_bl", "date_fu"),)
