"""EULAR/ACR 2017 criteria: worked examples computed by hand from shared/spec/clinical-scores.md §1.

Weights (without | with biopsy): age 18-<40 1.3|1.5, age >=40 2.1|2.2, upper 0.7|0.7,
lower 0.8|0.5, neck flexors 1.9|1.6, leg prox<distal 0.9|1.2, heliotrope 3.1|3.2, Gottron's
papules 2.1|2.7, Gottron's sign 3.3|3.7, dysphagia 0.7|0.6, anti-Jo-1 3.9|3.8, enzymes 1.3|1.4,
endomysial -|1.7, perimysial -|1.2, perifascicular atrophy -|1.9, rimmed vacuoles -|3.1.
Cut-offs: 5.3/5.5/7.5 without, 6.5/6.7/8.7 with biopsy. P = 1/(1+exp(c - score)), c 5.33|6.49.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.myositis.criteria import eular_acr_2017
from myorisk.myositis.schema import CRITERIA_BIOPSY_ITEMS, CRITERIA_ITEMS

pytestmark = pytest.mark.unit


def patient(pid: str = "P1", age: float = 50, biopsy: bool = False, **items: int) -> dict:
    row = {"patient_id": pid, "age_onset": age, "biopsy_done": int(biopsy)}
    row.update(dict.fromkeys(CRITERIA_ITEMS, 0))
    for c in CRITERIA_BIOPSY_ITEMS:
        row[c] = 0 if biopsy else np.nan
    row.update(items)
    return row


def one(**kw) -> pd.Series:
    return eular_acr_2017(pd.DataFrame([patient(**kw)], index=[2])).table.iloc[0]


def test_adult_dm_without_biopsy_worked_example():
    # 2.1 (age 45) + 3.1 heliotrope + 0.7 upper + 0.8 lower + 1.3 enzymes = 8.0 >= 7.5: definite
    r = one(age=45, heliotrope=1, weak_prox_upper=1, weak_prox_lower=1, enzymes_raised=1)
    assert r["score"] == 8.0
    assert r["variant"] == "without biopsy"
    assert r["category"] == "definite IIM"
    assert r["probability"] == pytest.approx(1 / (1 + math.exp(5.33 - 8.0)), rel=1e-12)
    assert (r["subgroup"], r["subgroup_branch"]) == (
        "DM", "age at onset >= 18, typical rash, muscle weakness -> DM")
    assert not r["biopsy_recommended"]


@pytest.mark.parametrize(
    ("items", "score", "category"),
    [
        # 3.9 anti-Jo-1 + 1.3 enzymes = 5.2 (age < 18 scores 0): just below 5.3
        ({"age": 12, "anti_jo1": 1, "enzymes_raised": 1}, 5.2, "not IIM"),
        # 2.1 + 1.9 neck + 1.3 enzymes = 5.3: exactly the possible cut-off
        ({"neck_flexor_weak": 1, "enzymes_raised": 1}, 5.3, "possible IIM"),
        # 2.1 + 1.9 + 0.7 + 0.8 = 5.5: exactly the probable cut-off
        ({"neck_flexor_weak": 1, "weak_prox_upper": 1, "weak_prox_lower": 1}, 5.5,
         "probable IIM"),
        # 3.9 + 2.1 + 0.7 + 0.8 = 7.5: exactly the definite cut-off
        ({"anti_jo1": 1, "weak_prox_upper": 1, "weak_prox_lower": 1}, 7.5, "definite IIM"),
    ],
)
def test_cutoffs_without_biopsy_are_inclusive(items, score, category):
    r = one(**items)
    assert r["score"] == score
    assert r["category"] == category


def test_probability_can_disagree_with_category_at_the_cutoff():
    # score 5.5 is "probable" (>= 55% by the paper's cut-off) but 1/(1+exp(5.33-5.5)) = 0.5424
    r = one(neck_flexor_weak=1, weak_prox_upper=1, weak_prox_lower=1)
    assert r["category"] == "probable IIM"
    assert r["probability"] == pytest.approx(0.5424, abs=5e-5)
    # 7.5: 1/(1+exp(-2.17)) = 0.8975 (spec: 0.897)
    r = one(anti_jo1=1, weak_prox_upper=1, weak_prox_lower=1)
    assert r["probability"] == pytest.approx(0.8975, abs=5e-5)


@pytest.mark.parametrize(
    ("items", "score", "category"),
    [
        # with biopsy: 2.2 (age) + 3.8 anti-Jo-1 + 0.5 lower = 6.5: possible (edge)
        ({"anti_jo1": 1, "weak_prox_lower": 1}, 6.5, "possible IIM"),
        # 2.2 + 3.8 + 0.7 upper = 6.7: probable (edge)
        ({"anti_jo1": 1, "weak_prox_upper": 1}, 6.7, "probable IIM"),
        # 2.2 + 3.2 heliotrope + 1.7 endomysial + 1.6 neck = 8.7: definite (edge)
        ({"heliotrope": 1, "bx_endomysial": 1, "neck_flexor_weak": 1}, 8.7, "definite IIM"),
        # 2.2 + 3.8 + 0.6 dysphagia = 6.6: possible, below 6.7
        ({"anti_jo1": 1, "dysphagia": 1}, 6.6, "possible IIM"),
    ],
)
def test_cutoffs_with_biopsy(items, score, category):
    r = one(biopsy=True, **items)
    assert r["variant"] == "with biopsy"
    assert r["score"] == score
    assert r["category"] == category


def test_with_and_without_biopsy_scores_for_the_same_patient():
    # clinical items: age 50, heliotrope, neck flexors; biopsy: endomysial infiltrate
    # without biopsy weights: 2.1 + 3.1 + 1.9 = 7.1 (biopsy items never score) -> probable
    # with biopsy weights:    2.2 + 3.2 + 1.6 + 1.7 = 8.7 -> definite
    df = pd.DataFrame([patient(biopsy=True, heliotrope=1, neck_flexor_weak=1, bx_endomysial=1)])
    auto = eular_acr_2017(df).table.iloc[0]
    assert auto["score_without_biopsy"] == 7.1
    assert auto["score_with_biopsy"] == 8.7
    assert (auto["score"], auto["category"]) == (8.7, "definite IIM")
    assert auto["probability"] == pytest.approx(1 / (1 + math.exp(6.49 - 8.7)))  # 0.901
    forced = eular_acr_2017(df, biopsy="without").table.iloc[0]
    assert (forced["score"], forced["category"]) == (7.1, "probable IIM")
    assert forced["probability"] == pytest.approx(1 / (1 + math.exp(5.33 - 7.1)))


def test_maximum_totals():
    # spec §1.1: 20.8 without biopsy, 29.5 with biopsy
    every = dict.fromkeys(CRITERIA_ITEMS, 1)
    assert one(**every)["score"] == 20.8
    assert one(biopsy=True, **every, **dict.fromkeys(CRITERIA_BIOPSY_ITEMS, 1))["score"] == 29.5


@pytest.mark.parametrize(
    ("age", "without", "with_"),
    [(17.9, 0.0, 0.0), (18, 1.3, 1.5), (39.9, 1.3, 1.5), (40, 2.1, 2.2), (80, 2.1, 2.2)],
)
def test_age_rows(age, without, with_):
    assert one(age=age)["score"] == without
    assert one(age=age, biopsy=True)["score"] == with_


def test_every_subgroup_branch():
    rows = [
        # age 10: 3.1 + 3.3 + 0.7 = 7.1 probable, rash -> JDM
        patient("jdm", age=10, heliotrope=1, gottron_sign=1, weak_prox_upper=1),
        # age 10: 3.9 + 1.3 + 1.9 = 7.1, no rash -> juvenile other
        patient("jother", age=10, anti_jo1=1, enzymes_raised=1, neck_flexor_weak=1),
        # 2.1 + 3.1 + 0.7 + 0.8 + 1.3 = 8.0, rash + weakness -> DM
        patient("dm", heliotrope=1, weak_prox_upper=1, weak_prox_lower=1, enzymes_raised=1),
        # 2.1 + 3.1 + 2.1 = 7.3, rash, no weakness item -> ADM
        patient("adm", heliotrope=1, gottron_papules=1),
        # biopsy: 2.2 + 3.1 rimmed vacuoles + 1.4 + 0.5 = 7.2 >= 6.7 -> IBM (vacuoles)
        patient("ibm_rv", biopsy=True, bx_rimmed_vacuoles=1, enzymes_raised=1,
                weak_prox_lower=1),
        # 2.1 + 3.9 + 1.3 = 7.3, finger flexors weak and no response -> IBM
        {**patient("ibm_ff", anti_jo1=1, enzymes_raised=1), "finger_flexor_weak": 1,
         "treatment_response": 0},
        # same but responded to treatment -> PM
        {**patient("pm_resp", anti_jo1=1, enzymes_raised=1), "finger_flexor_weak": 1,
         "treatment_response": 1},
        # 2.1 + 1.9 + 0.7 + 0.8 + 1.3 = 6.8, no rash -> PM
        patient("pm", neck_flexor_weak=1, weak_prox_upper=1, weak_prox_lower=1,
                enzymes_raised=1),
        # 2.1 + 1.9 + 1.3 = 5.3: possible only -> no subgroup at the default "probable"
        patient("possible", neck_flexor_weak=1, enzymes_raised=1),
    ]
    t = eular_acr_2017(pd.DataFrame(rows)).table.set_index("patient_id")
    expected = {"jdm": "JDM", "jother": "juvenile other", "dm": "DM", "adm": "ADM",
                "ibm_rv": "IBM", "ibm_ff": "IBM", "pm_resp": "PM", "pm": "PM"}
    for pid, sub in expected.items():
        assert t.loc[pid, "subgroup"] == sub, pid
    assert "rimmed vacuoles" in t.loc["ibm_rv", "subgroup_branch"]
    assert "finger-flexor" in t.loc["ibm_ff", "subgroup_branch"]
    assert t.loc["adm", "subgroup_branch"].endswith("no muscle weakness -> ADM")
    assert t.loc["jother", "subgroup_branch"].startswith("age at onset < 18 without")
    assert pd.isna(t.loc["possible", "subgroup"])
    assert t.loc["possible", "subgroup_branch"].startswith("not classified as IIM")
    # classify_at="possible" sends the 5.3 patient down the tree: no rash, not IBM -> PM
    t2 = eular_acr_2017(pd.DataFrame(rows), classify_at="possible").table.set_index("patient_id")
    assert t2.loc["possible", "subgroup"] == "PM"


def test_biopsy_recommended_only_without_rash_and_without_biopsy():
    rows = [patient("no_rash", anti_jo1=1), patient("no_rash_bx", biopsy=True, anti_jo1=1),
            patient("rash", gottron_sign=1)]
    t = eular_acr_2017(pd.DataFrame(rows)).table.set_index("patient_id")
    assert t["biopsy_recommended"].tolist() == [True, False, False]
    assert "biopsy is recommended" in t.loc["no_rash", "message"]
    # the flag never changes the score: 2.1 + 3.9 = 6.0
    assert t.loc["no_rash", "score"] == 6.0


def test_auto_variant_without_biopsy_done_column_uses_recorded_biopsy_items():
    df = pd.DataFrame([patient("a", anti_jo1=1), patient("b", biopsy=True, anti_jo1=1)])
    t = eular_acr_2017(df.drop(columns="biopsy_done")).table
    assert t["variant"].tolist() == ["without biopsy", "with biopsy"]
    assert t["score"].tolist() == [6.0, 6.0]  # 2.1 + 3.9 and 2.2 + 3.8


def test_missing_items_error_absent_skip():
    df = pd.DataFrame([patient("a", anti_jo1=1), patient("b", anti_jo1=1)], index=[2, 3])
    df.loc[3, "heliotrope"] = np.nan
    with pytest.raises(InputError, match=r"row 3, column 'heliotrope': missing"):
        eular_acr_2017(df, source="c.csv")
    absent = eular_acr_2017(df, missing="absent").table
    assert absent["complete"].tolist() == [True, False]
    assert absent.loc[3, "score"] == 6.0
    skip = eular_acr_2017(df, missing="skip").table
    assert np.isnan(skip.loc[3, "score"]) and skip.loc[2, "score"] == 6.0


def test_bad_cells_listed_in_one_error():
    df = pd.DataFrame([patient("a"), patient("b")], index=[2, 3])
    df = df.astype({"heliotrope": object, "age_onset": object})
    df.loc[2, "heliotrope"] = "maybe"
    df.loc[3, "age_onset"] = "old"
    with pytest.raises(InputError) as exc:
        eular_acr_2017(df, source="c.csv")
    msg = str(exc.value)
    assert msg.startswith("c.csv: ")
    assert "row 2, column 'heliotrope': 'maybe' is not 0/1" in msg
    assert "row 3, column 'age_onset': 'old' is not a number" in msg


def test_to_dict_contract():
    d = eular_acr_2017(pd.DataFrame([patient(anti_jo1=1)], index=[2])).to_dict()
    row = d["rows"][0]
    assert {"patient_id", "score", "probability", "category", "subgroup", "biopsy"} <= set(row)
    assert row["biopsy"] == {"done": False, "recommended": True,
                             "message": row["biopsy"]["message"]}
    assert row["row"] == 2
    assert d["parameters"]["c_without"] == 5.33
