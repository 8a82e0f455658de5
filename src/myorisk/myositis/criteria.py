"""2017 EULAR/ACR classification criteria for adult and juvenile idiopathic inflammatory myopathies.

Lundberg IE et al., Ann Rheum Dis 2017;76:1955-1964 and Arthritis Rheumatol 2017;69:2271-2282.
Weights, cut-offs, probability constants and the subgroup tree follow
``shared/spec/clinical-scores.md`` §1 and its decision 1; ``docs/instruments.md`` explains them.

Scores are summed in integer tenths of a point (every weight has one decimal), so a score that
is exactly on a cut-off (5.5, 8.7 ...) is classified as on the cut-off, never a rounding error
below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.myositis._cells import CellErrors, records, require_columns
from myorisk.myositis.schema import CRITERIA_BIOPSY_ITEMS, CRITERIA_ITEMS

__all__ = [
    "CATEGORIES",
    "CUTOFFS",
    "SUBGROUPS",
    "WEIGHTS",
    "CriteriaResult",
    "eular_acr_2017",
]

#: Item weights in tenths of a point: ``item -> (without biopsy, with biopsy)``; biopsy items
#: score only in the biopsy variant. Age rows: 18 <= age < 40 and age >= 40 (age < 18 scores 0).
WEIGHTS: dict[str, tuple[int, int]] = {
    "age_18_40": (13, 15),
    "age_40": (21, 22),
    "weak_prox_upper": (7, 7),
    "weak_prox_lower": (8, 5),
    "neck_flexor_weak": (19, 16),
    "leg_prox_weaker_distal": (9, 12),
    "heliotrope": (31, 32),
    "gottron_papules": (21, 27),
    "gottron_sign": (33, 37),
    "dysphagia": (7, 6),
    "anti_jo1": (39, 38),
    "enzymes_raised": (13, 14),
    "bx_endomysial": (0, 17),
    "bx_perimysial": (0, 12),
    "bx_perifascicular_atrophy": (0, 19),
    "bx_rimmed_vacuoles": (0, 31),
}
#: Lower score cut-offs in tenths ``(possible, probable, definite)`` without / with biopsy.
CUTOFFS: dict[str, tuple[int, int, int]] = {"without": (53, 55, 75), "with": (65, 67, 87)}
#: Category labels, lowest first.
CATEGORIES: tuple[str, ...] = ("not IIM", "possible IIM", "probable IIM", "definite IIM")
#: Subgroup labels of the classification tree.
SUBGROUPS: tuple[str, ...] = ("JDM", "juvenile other", "DM", "ADM", "IBM", "PM")

RASHES: tuple[str, ...] = ("heliotrope", "gottron_papules", "gottron_sign")
WEAKNESS: tuple[str, ...] = ("weak_prox_upper", "weak_prox_lower", "neck_flexor_weak",
                             "leg_prox_weaker_distal")
BIOPSY_MESSAGE = ("no heliotrope rash, Gottron's papules or Gottron's sign and no muscle biopsy: "
                  "a biopsy is recommended to classify IIM (score unchanged)")
_CLASSIFY_AT = {"possible": 1, "probable": 2, "definite": 3}


@dataclass(frozen=True)
class CriteriaResult:
    """EULAR/ACR 2017 classification of each row.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per input row (same index). Columns: ``patient_id``; ``score_without_biopsy``
        and ``score_with_biopsy`` (points; the latter NaN when no biopsy data);
        ``variant`` (``"with biopsy"``/``"without biopsy"``, the one applied); ``score``;
        ``probability`` (the paper's logistic formula, see ``c_without``/``c_with``);
        ``category`` (:data:`CATEGORIES`); ``iim`` (category at or above ``classify_at``);
        ``subgroup`` (:data:`SUBGROUPS`, missing when not IIM); ``subgroup_branch`` (the tree
        branch that decided it, in words); ``biopsy_done``; ``biopsy_recommended``;
        ``message``; ``complete`` (False when missing items were counted as absent).
        Rows skipped for missing items (``missing="skip"``) hold missing values.
    c_without, c_with : float
        Constants of P = 1 / (1 + exp(c - score)).
    classify_at : str
        Lowest category counted as IIM for the subgroup tree.
    missing : str
        How missing items were handled.
    """

    table: pd.DataFrame
    c_without: float
    c_with: float
    classify_at: str
    missing: str
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """Tidy copy of :attr:`table`."""
        return self.table.copy()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{rows: [{patient_id, row, score, ..., biopsy: {...}}], parameters}``."""
        rows = []
        for r, rec in zip(self.table.index, records(self.table), strict=True):
            rows.append({
                "patient_id": rec["patient_id"],
                "row": int(r) if isinstance(r, int | np.integer) else r,
                "score": rec["score"],
                "score_without_biopsy": rec["score_without_biopsy"],
                "score_with_biopsy": rec["score_with_biopsy"],
                "variant": rec["variant"],
                "probability": rec["probability"],
                "category": rec["category"],
                "iim": rec["iim"],
                "subgroup": rec["subgroup"],
                "subgroup_branch": rec["subgroup_branch"],
                "complete": rec["complete"],
                "biopsy": {"done": rec["biopsy_done"], "recommended": rec["biopsy_recommended"],
                           "message": rec["message"]},
            })
        return {"rows": rows,
                "parameters": {"c_without": self.c_without, "c_with": self.c_with,
                               "classify_at": self.classify_at, "missing": self.missing,
                               "probability_note": "constants 5.33/6.49 unverified; "
                                                   "categories use the score cut-offs"},
                "notes": list(self.notes)}


def _category(tenths: int, variant: str) -> int:
    cuts = CUTOFFS[variant]
    return sum(tenths >= c for c in cuts)


def _subgroup(age: float, items: dict[str, float]) -> tuple[str | None, str]:
    """Walk the classification tree (spec §1.3) for one IIM patient."""
    rash = any(items.get(k) == 1 for k in RASHES)
    if math.isnan(age):
        return None, "age at onset missing: subgroup undetermined"
    if age < 18:
        if rash:
            return "JDM", "age at onset < 18 with a typical rash -> JDM"
        return "juvenile other", "age at onset < 18 without a typical rash -> juvenile other"
    if rash:
        if any(items.get(k) == 1 for k in WEAKNESS):
            return "DM", "age at onset >= 18, typical rash, muscle weakness -> DM"
        return "ADM", "age at onset >= 18, typical rash, no muscle weakness -> ADM"
    if items.get("bx_rimmed_vacuoles") == 1:
        return "IBM", "age at onset >= 18, no typical rash, rimmed vacuoles -> IBM"
    if items.get("finger_flexor_weak") == 1 and items.get("treatment_response") == 0:
        return "IBM", ("age at onset >= 18, no typical rash, finger-flexor weakness and no "
                       "response to treatment -> IBM")
    return "PM", "age at onset >= 18, no typical rash, not IBM -> PM (IMNM included)"


def eular_acr_2017(
    df: pd.DataFrame,
    *,
    biopsy: str = "auto",
    missing: str = "error",
    classify_at: str = "probable",
    c_without: float = 5.33,
    c_with: float = 6.49,
    source: str = "data",
) -> CriteriaResult:
    """Score and classify the 2017 EULAR/ACR criteria for IIM, with the subgroup tree.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical columns: ``age_onset`` (years) and the 0/1 items ``weak_prox_upper``,
        ``weak_prox_lower``, ``neck_flexor_weak``, ``leg_prox_weaker_distal``, ``heliotrope``,
        ``gottron_papules``, ``gottron_sign``, ``dysphagia``, ``anti_jo1``,
        ``enzymes_raised``; for the biopsy variant ``bx_endomysial``, ``bx_perimysial``,
        ``bx_perifascicular_atrophy``, ``bx_rimmed_vacuoles`` (and ``biopsy_done``);
        optionally ``finger_flexor_weak`` and ``treatment_response`` (tree only; missing counts
        as absent) and ``patient_id``.
    biopsy : {"auto", "without", "with"}, default "auto"
        Which weights and cut-offs apply. ``auto``: "with biopsy" where ``biopsy_done`` is 1
        (without a ``biopsy_done`` column: where any biopsy item is recorded), else "without".
    missing : {"error", "absent", "skip"}, default "error"
        A missing item (or age) is an error; or counts as absent (0 points; the row is marked
        ``complete=False``); or leaves that row's results missing.
    classify_at : {"possible", "probable", "definite"}, default "probable"
        Lowest category counted as IIM (the paper recommends probable, >= 55%).
    c_without, c_with : float, default 5.33, 6.49
        Constants of the probability formula P = 1/(1 + exp(c - score)); unverified (spec §1.2),
        so categories use the published score cut-offs, and P can fall just below 55% or 90%
        at a score exactly on the cut-off.
    source : str, default "data"
        File name for error messages.

    Returns
    -------
    CriteriaResult

    Raises
    ------
    myorisk.errors.InputError
        A needed column is absent, a cell is not 0/1 or not a number, an age is out of 0-120,
        or (``missing="error"``) an item is missing; one message lists every bad cell.

    Notes
    -----
    The score sums the weights of the items present (spec §1.1): age at onset 18-<40 scores
    1.3/1.5, >= 40 scores 2.1/2.2, < 18 scores 0 (without/with biopsy). Categories:
    not IIM < 5.3/6.5 <= possible < 5.5/6.7 <= probable < 7.5/8.7 <= definite. When none of the
    three typical rashes is present and no biopsy was done, ``biopsy_recommended`` is set.
    """
    if biopsy not in ("auto", "without", "with"):
        raise InputError(f"biopsy must be 'auto', 'without' or 'with', not {biopsy!r}")
    if missing not in ("error", "absent", "skip"):
        raise InputError(f"missing must be 'error', 'absent' or 'skip', not {missing!r}")
    if classify_at not in _CLASSIFY_AT:
        raise InputError(f"classify_at must be one of {', '.join(_CLASSIFY_AT)}, not "
                         f"{classify_at!r}")
    require_columns(df, ("age_onset", *CRITERIA_ITEMS), source, "the EULAR/ACR 2017 criteria")
    if biopsy == "with":
        require_columns(df, CRITERIA_BIOPSY_ITEMS, source, "the biopsy variant")
    n = len(df)
    errs = CellErrors(source)
    age = errs.numbers(df, "age_onset", low=0, high=120)
    items = {c: errs.binary(df, c) for c in CRITERIA_ITEMS}
    for c in (*CRITERIA_BIOPSY_ITEMS, "biopsy_done", "finger_flexor_weak", "treatment_response"):
        items[c] = errs.binary(df, c) if c in df.columns else np.full(n, np.nan)
    errs.raise_if_any()

    has_bx_data = np.zeros(n, bool)
    for c in CRITERIA_BIOPSY_ITEMS:
        has_bx_data |= ~np.isnan(items[c])
    if biopsy == "with":
        use_bx = np.ones(n, bool)
    elif biopsy == "without":
        use_bx = np.zeros(n, bool)
    elif "biopsy_done" in df.columns:
        use_bx = items["biopsy_done"] == 1
    else:
        use_bx = has_bx_data
    bx_done = np.where(np.isnan(items["biopsy_done"]), has_bx_data, items["biopsy_done"] == 1)

    # Missing items: which rows lack something their variant needs.
    needed_missing: list[list[str]] = [[] for _ in range(n)]
    for i in range(n):
        if np.isnan(age[i]):
            needed_missing[i].append("age_onset")
        for c in CRITERIA_ITEMS:
            if np.isnan(items[c][i]):
                needed_missing[i].append(c)
        if use_bx[i]:
            needed_missing[i].extend(c for c in CRITERIA_BIOPSY_ITEMS if np.isnan(items[c][i]))
    if missing == "error":
        for r, miss in zip(df.index, needed_missing, strict=True):
            for c in miss:
                errs.add(r, c, "missing (EULAR/ACR 2017 item)")
        errs.raise_if_any(hint="pass missing='absent' or 'skip' to allow",
                          option=("missing", ("absent", "skip")))

    def points(variant: int) -> np.ndarray:
        total = np.zeros(n, dtype=np.int64)
        a18 = (age >= 18) & (age < 40)
        a40 = age >= 40
        total += np.where(a18, WEIGHTS["age_18_40"][variant], 0)
        total += np.where(a40, WEIGHTS["age_40"][variant], 0)
        for c, w in WEIGHTS.items():
            if c in items:
                total += np.where(items[c] == 1, w[variant], 0)
        return total

    t_without, t_with = points(0), points(1)
    out: dict[str, list[object]] = {k: [] for k in (
        "score_without_biopsy", "score_with_biopsy", "variant", "score", "probability",
        "category", "iim", "subgroup", "subgroup_branch", "biopsy_done", "biopsy_recommended",
        "message", "complete")}
    min_cat = _CLASSIFY_AT[classify_at]
    for i in range(n):
        skip = missing == "skip" and bool(needed_missing[i])
        no_rash = all(items[c][i] != 1 for c in RASHES)
        recommend = bool(no_rash and not bx_done[i])
        if skip:
            for k in out:
                out[k].append(np.nan)
            out["biopsy_done"][-1] = bool(bx_done[i])
            out["complete"][-1] = False
            out["message"][-1] = "not scored: missing " + ", ".join(needed_missing[i])
            continue
        variant = "with" if use_bx[i] else "without"
        tenths = int(t_with[i] if use_bx[i] else t_without[i])
        score = tenths / 10
        c = c_with if use_bx[i] else c_without
        cat = _category(tenths, variant)
        iim = cat >= min_cat
        row_items = {k: float(v[i]) for k, v in items.items()}
        if iim:
            sub, branch = _subgroup(float(age[i]), row_items)
        else:
            sub, branch = None, f"not classified as IIM (below {classify_at}): no subgroup"
        out["score_without_biopsy"].append(t_without[i] / 10)
        out["score_with_biopsy"].append(t_with[i] / 10 if (use_bx[i] or has_bx_data[i])
                                        else np.nan)
        out["variant"].append(f"{variant} biopsy")
        out["score"].append(score)
        out["probability"].append(1.0 / (1.0 + math.exp(c - score)))
        out["category"].append(CATEGORIES[cat])
        out["iim"].append(bool(iim))
        out["subgroup"].append(sub)
        out["subgroup_branch"].append(branch)
        out["biopsy_done"].append(bool(bx_done[i]))
        out["biopsy_recommended"].append(recommend)
        msgs = [BIOPSY_MESSAGE] if recommend else []
        if needed_missing[i]:
            msgs.append("counted as absent: " + ", ".join(needed_missing[i]))
        out["message"].append("; ".join(msgs) if msgs else None)
        out["complete"].append(not needed_missing[i])
    ids = df["patient_id"] if "patient_id" in df.columns else pd.Series(df.index, index=df.index)
    table = pd.DataFrame({"patient_id": ids.to_numpy(), **out}, index=df.index)
    for col in ("score_without_biopsy", "score_with_biopsy", "score", "probability"):
        table[col] = table[col].astype(float)
    notes: list[str] = []
    if biopsy == "auto" and "biopsy_done" not in df.columns and has_bx_data.any():
        given = np.column_stack([items[c] for c in CRITERIA_BIOPSY_ITEMS])
        if np.nanmax(given) == 0:  # zeros switch on the with-biopsy weights: maybe no biopsy at all
            notes.append(
                f"{source}: the biopsy items are 0 in every row and no biopsy_done column says a "
                f"biopsy was done, yet {int(has_bx_data.sum())} row(s) were scored with the "
                "with-biopsy weights; if no biopsy was done, leave the biopsy items empty, add "
                "biopsy_done (0/1), or choose the variant (--biopsy without)")
    return CriteriaResult(table, c_without, c_with, classify_at, missing, notes=tuple(notes))
