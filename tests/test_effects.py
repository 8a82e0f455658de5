"""Partial effects against rms 6.5 Predict (tests/results/effects.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.modeling.effects import effects
from myorisk.modeling.logistic import fit_logistic

from conftest import RESULTS, load_r

pytestmark = pytest.mark.r_parity

R = load_r("effects")


@pytest.mark.r_parity
@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_effects_equal_rms_predict(case):
    df = pd.read_csv(RESULTS / "data" / f"{case['dataset']}.csv")
    fit = fit_logistic(df, case["outcome"], case["predictors"])
    res = effects(fit, df)
    got = {e.variable: e for e in res.effects}
    for ref in case["effects"]:
        e = got[ref["variable"]]
        assert res.adjust[ref["variable"]] == case["adjust"][ref["variable"]]
        if e.kind == "categorical":
            assert list(e.x) == ref["x"]
        else:
            np.testing.assert_allclose(e.x, ref["x"], rtol=1e-12)
        np.testing.assert_allclose(e.linear_predictor, ref["yhat"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(e.lower, ref["lower"], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(e.upper, ref["upper"], rtol=1e-6, atol=1e-9)


@pytest.mark.unit
def test_odds_ratio_is_one_at_the_adjust_to_value():
    df = pd.read_csv(RESULTS / "data" / "pima_tr.csv")
    fit = fit_logistic(df, "type", ["rcs(glu, 4)", "bmi"])
    res = effects(fit, df, variables=["glu"], at={"glu": [100, 120.5, 150]})
    e = res.effects[0]
    assert e.odds_ratio[1] == pytest.approx(1.0) and e.or_lower[1] == pytest.approx(1.0)
    assert e.linear_predictor[2] > e.linear_predictor[0]


@pytest.mark.cli
def test_cli_effects_json_and_plot(tmp_path, capsys):
    import json

    from myorisk.cli import _run

    case = R["cases"][1]
    path = str(RESULTS / "data" / f"{case['dataset']}.csv")
    png = tmp_path / "eff.png"
    assert _run(["effects", path, "-y", case["outcome"], "-x", ",".join(case["predictors"]),
                 "--at", "glu=100,150", "--plot", str(png), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    glu = next(e for e in d["effects"] if e["variable"] == "glu")
    assert glu["x"] == [100.0, 150.0]
    assert png.stat().st_size > 10_000
    assert _run(["effects", path, "-y", "type", "-x", "glu", "--at", "nope=1"]) == 2


@pytest.mark.unit
def test_at_values_of_the_wrong_kind_are_input_errors():
    """--at glu=abc was an internal error (float conversion); an unknown level named 'row 0'."""
    from myorisk.errors import InputError

    df = pd.read_csv(RESULTS / "data" / "birthwt.csv")
    fit = fit_logistic(df, "low", ["lwt", "race", "smoke"], categorical=["smoke"])
    with pytest.raises(InputError, match=r"--at lwt=abc: 'lwt' is numeric"):
        effects(fit, df, at={"lwt": ["abc"]})
    with pytest.raises(InputError, match=r"--at race=asian: 'asian' is not a level of 'race' \(black, other, white\)"):
        effects(fit, df, at={"race": ["asian"]})
    with pytest.raises(InputError, match=r"--at smoke=5: '5' is not a level of 'smoke' \(0, 1\)"):
        effects(fit, df, at={"smoke": [5.0]})
    res = effects(fit, df, variables=["smoke"], at={"smoke": [1.0, 0.0]})  # typed as numbers: levels
    assert list(res.effects[0].x) == ["1", "0"]


@pytest.mark.cli
def test_cli_effects_value_column_has_one_format(capsys):
    """The value column printed 4 significant digits (76.94, 104.3, 186): decimals did not line up."""
    import re

    from myorisk.cli import _run

    path = str(RESULTS / "data" / "birthwt.csv")
    assert _run(["effects", path, "-y", "low", "-x", "lwt,age", "--variables", "lwt"]) == 0
    out = capsys.readouterr().out
    values = [line.split()[0] for line in out.splitlines() if re.match(r"^\s*\d", line)]
    assert len(values) == 9
    assert len({len(v.split(".")[1]) if "." in v else 0 for v in values}) == 1, values
