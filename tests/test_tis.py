"""ACR/EULAR 2016 TIS: worked examples computed by hand from shared/spec/clinical-scores.md §2.

Points per band (<=5 | >5-15 | >15-25 | >25-40 | >40 %): pga 0/7.5/15/17.5/20, ptga 0/2.5/5/7.5/10,
haq 0/5/7.5/7.5/10, enzyme 0/2.5/5/7.5/7.5, extramuscular 0/7.5/12.5/15/20; MMT (<=2 | >2-10 |
>10-20 | >20-30 | >30 %) 0/10/20/27.5/32.5. Thresholds adult 20/40/60, juvenile 30/45/70.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.myositis.tis import improvement_points, percent_improvement, total_improvement_score

pytestmark = pytest.mark.unit


def visit(pid="P1", pga=(5, 5), ptga=(5, 5), mmt8=(60, 60), haq=(1, 1), ck=(1000, 1000),
          extramuscular=(2, 2), **extra) -> dict:
    row = {"patient_id": pid}
    for name, (bl, fu) in (("pga", pga), ("ptga", ptga), ("mmt8", mmt8), ("haq", haq),
                           ("ck", ck), ("extramuscular", extramuscular)):
        row[f"{name}_bl"], row[f"{name}_fu"] = bl, fu
    row.update(extra)
    return row


def tis(*rows, **kw) -> pd.DataFrame:
    kw.setdefault("enzyme", "ck")
    return total_improvement_score(pd.DataFrame(list(rows)), **kw).table


def test_worked_example_adult_and_juvenile():
    # pga 8 -> 6.8: (8-6.8)/8 = 15% exactly (1.2000000000000002/8*100 in floats) -> 7.5
    # ptga 5 -> 3: 40% exactly -> 7.5          mmt8 60 -> 66: +10% exactly -> 10
    # haq 2 -> 1: 50% -> 10                    ck 1000 -> 800: 20% -> 5
    # extramuscular 4 -> 4: 0% -> 0            TIS = 7.5+7.5+10+10+5+0 = 40
    row = visit(pga=(8, 6.8), ptga=(5, 3), mmt8=(60, 66), haq=(2, 1), ck=(1000, 800),
                extramuscular=(4, 4))
    adult = tis(row).iloc[0]
    assert [adult[f"points_{m}"] for m in ("pga", "ptga", "mmt8", "haq", "enzyme",
                                           "extramuscular")] == [7.5, 7.5, 10, 10, 5, 0]
    assert adult["pct_pga"] == 15.0
    assert adult["tis"] == 40.0
    assert adult["category"] == "moderate"  # adult moderate starts at exactly 40
    assert (adult["response"], adult["nonresponse"]) == (1.0, 0.0)
    juvenile = tis(row, population="juvenile").iloc[0]
    assert juvenile["tis"] == 40.0
    assert juvenile["category"] == "minimal"  # juvenile: 30 <= 40 < 45


@pytest.mark.parametrize(
    ("measure", "pct", "points"),
    [
        ("pga", -10, 0), ("pga", 5, 0), ("pga", 5.000001, 7.5), ("pga", 15, 7.5),
        ("pga", 15.000001, 15), ("pga", 25, 15), ("pga", 40, 17.5), ("pga", 40.000001, 20),
        ("ptga", 40, 7.5), ("ptga", 41, 10),
        ("haq", 20, 7.5), ("haq", 30, 7.5), ("haq", 41, 10),  # flat step kept as published
        ("enzyme", 30, 7.5), ("enzyme", 90, 7.5),  # flat step: max 7.5
        ("extramuscular", 15, 7.5), ("extramuscular", 16, 12.5), ("extramuscular", 40, 15),
        ("mmt8", 2, 0), ("mmt8", 2.1, 10), ("mmt8", 10, 10), ("mmt8", 20, 20),
        ("mmt8", 30, 27.5), ("mmt8", 30.1, 32.5),
    ],
)
def test_band_edges(measure, pct, points):
    assert improvement_points(measure, np.array([pct]))[0] == points


def test_percent_change_rounding_keeps_exact_edges():
    # 8 -> 6.8 is 15.000000000000002 % in binary floating point before rounding
    raw = (8 - 6.8) / 8 * 100
    assert raw != 15.0
    pct = percent_improvement(np.array([8.0]), np.array([6.8]), higher_is_better=False)
    assert pct[0] == 15.0
    # 10 -> 6: 40% exactly -> pga 17.5, not 20
    row = visit(pga=(10, 6))
    assert tis(row).iloc[0]["points_pga"] == 17.5


@pytest.mark.parametrize(
    ("rows", "adult_cat", "juvenile_cat"),
    [
        # pga 10->8 (20%: 15) + ptga 10->9.4 (6%: 2.5) + ck 100->90 (10%: 2.5) = 20
        (dict(pga=(10, 8), ptga=(10, 9.4), ck=(100, 90)), "minimal", "none"),
        # same without the enzyme change: 17.5
        (dict(pga=(10, 8), ptga=(10, 9.4)), "none", "none"),
        # mmt8 40->50 (25%: 27.5): adult minimal, juvenile none
        (dict(mmt8=(40, 50)), "minimal", "none"),
        # mmt8 40->46 (15%: 20) + ptga 10->5 (50%: 10) = 30: juvenile minimal edge
        (dict(mmt8=(40, 46), ptga=(10, 5)), "minimal", "minimal"),
        # pga 10->5 (20) + mmt8 40->46 (20) + ptga 10->8 (20%: 5) = 45: juvenile moderate edge
        (dict(pga=(10, 5), mmt8=(40, 46), ptga=(10, 8)), "moderate", "moderate"),
        # 20 + 10 + 32.5 (mmt8 40->60, 50%) + extramuscular 10->9 (10%: 7.5) = 70
        (dict(pga=(10, 5), ptga=(10, 5), mmt8=(40, 60), extramuscular=(10, 9)), "major",
         "major"),
        # every measure in its top band: 20+10+32.5+10+7.5+20 = 100
        (dict(pga=(10, 5), ptga=(10, 5), mmt8=(40, 60), haq=(2, 1), ck=(1000, 500),
              extramuscular=(10, 5)), "major", "major"),
    ],
)
def test_threshold_edges(rows, adult_cat, juvenile_cat):
    a = tis(visit(**rows)).iloc[0]
    j = tis(visit(**rows), population="juvenile").iloc[0]
    assert a["tis"] == j["tis"]
    assert a["category"] == adult_cat
    assert j["category"] == juvenile_cat
    assert a["response"] == float(adult_cat != "none")
    assert j["nonresponse"] == float(juvenile_cat == "none")


def test_totals_of_threshold_cases():
    assert tis(visit(pga=(10, 8), ptga=(10, 9.4), ck=(100, 90))).iloc[0]["tis"] == 20.0
    assert tis(visit(pga=(10, 5), ptga=(10, 5), mmt8=(40, 60), haq=(2, 1), ck=(1000, 500),
                     extramuscular=(10, 5))).iloc[0]["tis"] == 100.0


def test_population_auto_uses_age_at_onset():
    rows = [visit("kid", mmt8=(40, 50), age_onset=12), visit("adult", mmt8=(40, 50),
                                                             age_onset=30)]
    t = tis(*rows, population="auto").set_index("patient_id")
    assert t.loc["kid", "population"] == "juvenile" and t.loc["kid", "category"] == "none"
    assert t.loc["adult", "category"] == "minimal"  # 27.5


def test_zero_baseline():
    # extramuscular 0 -> 0: 0 points; haq 0 -> 0.5 (worsening from 0): 0 points
    row = visit(extramuscular=(0, 0), haq=(0, 0.5), pga=(10, 5))
    r = tis(row).iloc[0]
    assert r["points_extramuscular"] == 0 and r["points_haq"] == 0
    assert r["pct_extramuscular"] == 0.0
    assert r["tis"] == 20.0  # pga 50% -> 20
    with pytest.raises(InputError, match=r"row 0, column 'extramuscular_bl': baseline is 0"):
        tis(row, zero_baseline="error")


def test_enzyme_choice():
    # CK 400/ULN 200 = 2x; LDH 750/ULN 250 = 3x -> LDH is the most abnormal
    # LDH 750 -> 675: 10% -> 2.5;  CK 400 -> 200: 50% -> 7.5
    row = visit(ck=(400, 200), ck_uln=200, ldh_bl=750, ldh_fu=675, ldh_uln=250)
    most = tis(row, enzyme="most_abnormal").iloc[0]
    assert most["enzyme_used"] == "ldh" and most["points_enzyme"] == 2.5
    ck = tis(row, enzyme="ck").iloc[0]
    assert ck["enzyme_used"] == "ck" and ck["points_enzyme"] == 7.5
    nouln = visit(ck=(400, 200), ck_uln=np.nan, ldh_bl=750, ldh_fu=675, ldh_uln=250)
    with pytest.raises(InputError, match="column 'ck_uln': missing"):
        tis(nouln, enzyme="most_abnormal")


def test_missing_measure_error_or_incomplete():
    row = visit(pga=(10, 5), ptga=(10, 5), mmt8=(40, 60))  # 20 + 10 + 32.5 = 62.5
    row["haq_fu"] = np.nan
    with pytest.raises(InputError, match=r"row 0, column 'haq_fu': missing"):
        tis(row)
    r = tis(row, missing="allow").iloc[0]
    assert not r["complete"]
    assert np.isnan(r["points_haq"])
    assert r["tis"] == 62.5
    assert r["response"] == 1.0  # already >= 20 whatever HAQ adds
    assert r["category"] == "major"  # >= 60 already: cannot change
    low = visit(pga=(10, 8))  # pga 20% -> 15
    low["haq_fu"] = np.nan
    r = tis(low, missing="allow").iloc[0]
    assert r["tis"] == 15.0
    # HAQ could add up to 10: 15 + 10 = 25 >= 20, so neither response nor category is known
    assert np.isnan(r["response"]) and pd.isna(r["category"])
    none = visit()
    none["haq_fu"] = np.nan
    r = tis(none, missing="allow").iloc[0]
    # 0 + at most 10 < 20: non-response is certain even without HAQ
    assert (r["tis"], r["response"], r["category"]) == (0.0, 0.0, "none")


def test_range_and_type_errors_listed_together():
    rows = [visit(pga=(12, 5)), visit(mmt8=(60, 90))]
    df = pd.DataFrame(rows, index=[2, 3]).astype({"haq_bl": object})
    df.loc[3, "haq_bl"] = "high"
    with pytest.raises(InputError) as exc:
        total_improvement_score(df, enzyme="ck", source="v.csv")
    msg = str(exc.value)
    assert "row 2, column 'pga_bl': 12 is out of range" in msg
    assert "row 3, column 'mmt8_fu': 90 is out of range (must be <= 80" in msg
    assert "row 3, column 'haq_bl': 'high' is not a number" in msg
    # the declared 0-150 scale accepts 90
    ok = total_improvement_score(pd.DataFrame([visit(mmt8=(60, 90))]), enzyme="ck",
                                 mmt8_max=150).table.iloc[0]
    assert ok["points_mmt8"] == 32.5  # +50%


def test_to_dict_contract():
    d = total_improvement_score(pd.DataFrame([visit(pga=(10, 5))]), enzyme="ck").to_dict()
    row = d["rows"][0]
    assert set(row["points"]) == {"pga", "ptga", "mmt8", "haq", "enzyme", "extramuscular"}
    assert row["tis"] == 20.0 and row["category"] == "minimal" and row["response"] == 1.0
    assert d["parameters"]["enzyme"] == "ck"
