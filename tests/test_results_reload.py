"""Results.from_dict: a stored results.json reloads into the same Results, re-renders into the
same report, and the study pipeline's named steps compose into run()."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.study.demo import demo_config
from myorisk.study.pipeline import run
from myorisk.study.results import Results

B = 20


@pytest.fixture(scope="module")
def study_b():
    return run(demo_config("study-b", B=B))


def _html_without_images(html: str) -> str:
    return re.sub(r'src="data:image/[^"]+"', 'src=""', html)


@pytest.mark.slow
def test_stored_results_reload_and_render_the_same_report(study_b, tmp_path):
    from myorisk.report.html import render
    from myorisk.report.tables import study_tables
    from myorisk.report.write import study_figures, write

    report = write(study_b, tmp_path / "b")
    stored = json.loads((report.parent / "results.json").read_text(encoding="utf-8"))
    again = Results.from_dict(stored)
    # the reloaded object writes the same results.json
    assert json.loads(json.dumps(again.to_dict(), allow_nan=False)) == stored
    # every table is equal, cell for cell
    t1, t2 = study_tables(study_b), study_tables(again)
    assert [t.name for t in t1] == [t.name for t in t2]
    for a, b in zip(t1, t2, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame, check_dtype=False, obj=a.name)
        if a.display is not None:
            pd.testing.assert_frame_equal(a.display, b.display, obj=a.name)
    # the same figures, drawn from the same numbers
    f1, f2 = study_figures(study_b), study_figures(again)
    assert [f.name for f in f1] == [f.name for f in f2]
    for a, b in zip(f1, f2, strict=True):
        for la, lb in zip(a.fig.axes, b.fig.axes, strict=True):
            for x, y in zip(la.get_lines(), lb.get_lines(), strict=True):
                np.testing.assert_array_equal(x.get_xydata(), y.get_xydata())
    # the HTML is the same text (images aside: matplotlib's SVG ids are random)
    inline = {f.name: ("png", b"") for f in f1}
    h1 = render(study_b, f1, t1, inline)
    h2 = render(again, f2, t2, inline)
    assert _html_without_images(h1) == _html_without_images(h2)
    assert "Published vs reproduced" in h2


@pytest.mark.unit
def test_reload_refuses_foreign_or_crafted_files():
    with pytest.raises(InputError, match="no 'reload' block"):
        Results.from_dict({"title": "x"})
    crafted = {"reload": {"$": "dc", "cls": "os:system", "f": {}}}
    with pytest.raises(InputError, match="not a myorisk result"):
        Results.from_dict(crafted)
    with pytest.raises(InputError, match="unknown result type"):
        Results.from_dict({"reload": {"$": "dc", "cls": "myorisk.study.results:Nope", "f": {}}})


@pytest.mark.unit
def test_state_round_trips_awkward_values():
    from myorisk import _state

    df = pd.DataFrame({"a": [1.0, np.nan, np.inf], "b": pd.Categorical(["x", "y", "x"]),
                       "c": ["u", None, "w"]}, index=[3, 5, 9])
    obj = {"t": (1, 2.5, float("-inf")), "arr": np.array([[1.0, np.nan]]), "df": df,
           1: "int key", "$": "tag-like key", "i": np.arange(3)}
    back = _state.decode(json.loads(json.dumps(_state.encode(obj), allow_nan=False)))
    assert back["t"] == (1, 2.5, float("-inf")) and back[1] == "int key" and back["$"] == "tag-like key"
    np.testing.assert_array_equal(back["arr"], obj["arr"])
    assert back["i"].dtype == obj["i"].dtype
    pd.testing.assert_frame_equal(back["df"], df)


@pytest.mark.slow
def test_named_steps_compose_into_run(study_b):
    from myorisk.study import pipeline as P

    cfg = demo_config("study-b", B=B)
    loaded = P.load_step(cfg)
    univ = P.univariate_step(loaded)
    sel = P.selection_step(loaded, univ)
    built = P.models_step(loaded, sel)
    disc = P.discrimination_step(loaded, built)
    boot = P.bootstrap_step(loaded, built)
    for m1, m2 in zip(boot.models, study_b.models, strict=True):
        np.testing.assert_array_equal(m1.fit.coefficients, m2.fit.coefficients)
        assert m1.validation.corrected == m2.validation.corrected
    cal = P.calibration_step(loaded, disc)
    assert all(e.calibration is not None for e in cal.evaluations)
    from dataclasses import FrozenInstanceError

    with pytest.raises(FrozenInstanceError):  # frozen partial results
        loaded.notes = ()
    pub = P.published_step(loaded, boot.models, cal.evaluations, P.index_step(loaded, boot.models).index)
    pd.testing.assert_frame_equal(pub.table, study_b.published)
