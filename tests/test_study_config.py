"""Study configuration: every problem is found before any work, named by key, file, row, column."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from myorisk.cli import _run
from myorisk.errors import InputError
from myorisk.study.config import load_config, parse_config
from myorisk.study.demo import DEMO_STUDIES, demo_config
from myorisk.study.pipeline import prepare

pytestmark = pytest.mark.unit

BASE = {
    "data": {"sets": {"training": {"dataset": "pmdm-train"}, "external": {"dataset": "pmdm-external"}}},
    "outcome": {"column": "nonresponse"},
    "predictors": {"candidates": ["sex", "msuvmax", "emg_abundant_sp"], "categorical": ["sex"]},
    "selection": {"method": "pscreen"},
}


def cfg(**changes):
    d = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = d
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is _DEL:
            node.pop(keys[-1])
        else:
            node[keys[-1]] = value
    return d


_DEL = object()


def err(d) -> str:
    with pytest.raises(InputError) as e:
        parse_config(d, source="s.yaml")
    return str(e.value)


def test_minimal_config_defaults():
    c = parse_config(BASE, source="s.yaml")
    assert c.bootstrap.B == 1000  # the user's default
    assert c.sets_to_validate == ["training", "external"]
    assert c.data.development == "training"
    assert [m.name for m in c.models] == ["model"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"selecton": {}}, "s.yaml: unknown key 'selecton' (did you mean 'selection'?)"),
        ({"selection__alfa": 0.1}, "unknown key 'selection.alfa' in 'selection' (did you mean 'alpha'?)"),
        ({"selection__alpha": 2}, "key 'selection.alpha'"),
        ({"selection__method": "lasso"}, "key 'selection.method'"),
        ({"bootstrap": {"B": "many"}}, "key 'bootstrap.B'"),
        ({"bootstrap": {"B": 3}}, "key 'bootstrap.B'"),
        ({"outcome": _DEL}, "key 'outcome' is required"),
        ({"data__sets__training": {"dataset": "pmdm-train", "file": "x.csv"}},
         "key 'data.sets.training': give exactly one of 'file', 'dataset' or 'split'"),
        ({"models": [{"name": "a", "exclude": ["mri"]}]}, "key 'models[0].exclude': 'mri' is not a candidate"),
        ({"models": [{"name": "a b"}]}, "key 'models[0].name'"),
        ({"models": [{"name": "a"}, {"name": "a"}]}, "key 'models': model name 'a' is used twice"),
        ({"validate_on": ["externl"]}, "key 'validate_on': 'externl' is not a set"),
        ({"index": {"model": "nope"}}, "key 'index.model'"),
        ({"predictors__categorical": ["subtyp"]}, "key 'predictors.categorical'"),
        ({"predictors__candidates": ["sex", "sex"]}, "key 'predictors.candidates'"),
        ({"selection__method": "fixed"}, "key 'models[0].predictors': required when selection.method is 'fixed'"),
        ({"data__split_column": "split"}, "'split_column' is given but no set has a 'split' value"),
    ],
)
def test_config_errors_name_the_key(changes, expected):
    assert expected in err(cfg(**changes))


def test_yaml_syntax_error_names_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("data:\n  sets: [unclosed\noutcome: y\n")
    with pytest.raises(InputError, match=r"bad.yaml: YAML syntax error at line \d+, column \d+"):
        load_config(p)


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def _write_study(tmp_path: Path, rows: pd.DataFrame, **changes) -> Path:
    rows.to_csv(tmp_path / "cohort.csv", index=False)
    d = cfg(**changes)
    d["data"] = {"sets": {"training": {"file": "cohort.csv"}}}
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True, sort_keys=False))
    return p


def _cohort() -> pd.DataFrame:
    from myorisk.datasets import load_dataset

    return load_dataset("pmdm-train").reset_index(drop=True)


def test_bad_number_names_file_row_and_column(tmp_path):
    df = _cohort().astype({"msuvmax": object})
    df.loc[6, "msuvmax"] = "1,2x"  # line 8 of the file
    p = _write_study(tmp_path, df)
    with pytest.raises(InputError) as e:
        prepare(load_config(p))
    msg = str(e.value)
    assert "cohort.csv" in msg and "row 8" in msg and "msuvmax" in msg


def test_missing_column_names_key(tmp_path):
    p = _write_study(tmp_path, _cohort().drop(columns=["msuvmax"]))
    with pytest.raises(InputError, match=r"cohort.csv: column 'msuvmax' not found \(key 'predictors.candidates'"):
        prepare(load_config(p))


def test_missing_data_file_is_named(tmp_path):
    d = cfg()
    d["data"] = {"sets": {"training": {"file": "nowhere.csv"}}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(InputError, match="data file 'nowhere.csv' not found"):
        prepare(load_config(p))


def test_unknown_level_in_other_set(tmp_path):
    df = _cohort()
    df.to_csv(tmp_path / "train.csv", index=False)
    ext = df.copy()
    ext.loc[3, "sex"] = "unknown"
    ext.to_csv(tmp_path / "ext.csv", index=False)
    d = cfg()
    d["data"] = {"sets": {"training": {"file": "train.csv"}, "external": {"file": "ext.csv"}}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(InputError, match=r"ext.csv: row 5, column 'sex': level 'unknown'"):
        prepare(load_config(p))


def test_split_column(tmp_path):
    from myorisk.datasets import load_dataset

    both = pd.concat([load_dataset("pmdm-train"), load_dataset("pmdm-internal")], ignore_index=True)
    both.to_csv(tmp_path / "all.csv", index=False)
    d = cfg()
    d["data"] = {"file": "all.csv", "split_column": "split",
                 "sets": {"training": {"split": "train"}, "internal": {"split": "internal"}}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    prep = prepare(load_config(p))
    assert [len(v) for v in prep.frames.values()] == [64, 20]
    assert prep.synthetic == {"training": True, "internal": True}  # synthetic column = 1
    d["data"]["sets"]["internal"]["split"] = "intern"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(InputError, match="no row has split = 'intern'"):
        prepare(load_config(p))


def test_cli_bad_config_exits_2_with_one_line(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(cfg(selection={"method": "pscreen", "alpha": 1.5}), sort_keys=False))
    assert _run(["study", str(p), "-q"]) == 2
    e = capsys.readouterr().err.strip()
    assert len(e.splitlines()) == 1 and "key 'selection.alpha'" in e
    assert not (tmp_path / "s-report").exists()


def test_cli_check_only(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(BASE, sort_keys=False))
    assert _run(["study", str(p), "--check"]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(DEMO_STUDIES))
def test_bundled_demo_configs_are_valid(name):
    c = demo_config(name, B=200)
    assert c.bootstrap.B == 200 and "B = 200" in c.bootstrap_note
    prepare(c)


def test_fixed_model_predictor_missing_names_its_key(tmp_path):
    p = _write_study(tmp_path, _cohort(), models=[{"name": "m", "predictors": ["sex", "msuvmaxx"]}])
    with pytest.raises(InputError, match=r"column 'msuvmaxx' not found \(key 'models\[0\].predictors'"):
        prepare(load_config(p))


def test_fixed_model_predictor_outside_candidates_is_type_checked(tmp_path):
    df = _cohort().astype({"age": object})
    df.loc[2, "age"] = "sixty"
    p = _write_study(tmp_path, df, models=[{"name": "m", "predictors": ["sex", "age"]}])
    with pytest.raises(InputError, match=r"row 4, column 'age'"):
        prepare(load_config(p))


def test_a_mapping_file_renames_the_users_columns(tmp_path):
    df = _cohort().rename(columns={"msuvmax": "PET mSUVmax", "nonresponse": "NR at 12 weeks"})
    df.to_csv(tmp_path / "mine.csv", index=False)
    (tmp_path / "map.yaml").write_text("msuvmax: PET mSUVmax\nnonresponse: NR at 12 weeks\n")
    d = cfg()
    d["data"] = {"sets": {"training": {"file": "mine.csv", "mapping": "map.yaml"}}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    prep = prepare(load_config(p))
    assert {"msuvmax", "nonresponse"} <= set(prep.frames["training"].columns)
    assert prep.frames["training"]["msuvmax"].tolist() == df["PET mSUVmax"].tolist()
    d["data"]["sets"]["training"]["mapping"] = "nomap.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    with pytest.raises(InputError, match=r"mapping file 'nomap.yaml' not found \(key 'data.sets.training.mapping'"):
        prepare(load_config(p))


def test_cli_refuses_a_foreign_output_folder_before_any_work(tmp_path, capsys, monkeypatch):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(BASE, sort_keys=False))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    import myorisk.study.pipeline as pl

    def no_work(*a, **k):
        raise AssertionError("the analysis started")

    monkeypatch.setattr(pl, "prepare", no_work)
    assert _run(["study", str(p), "-q", "--out", str(busy)]) == 2
    e = capsys.readouterr().err.strip()
    assert len(e.splitlines()) == 1 and "not an earlier myorisk report" in e
    assert (busy / "keep.txt").read_text() == "mine"


def test_single_predictor_roc_direction_follows_the_development_medians(tmp_path):
    # a skewed marker whose logistic slope is negative while cases have the higher median
    import numpy as np

    from myorisk.study.pipeline import run

    rng = np.random.default_rng(3)
    n = 120
    y = rng.uniform(size=n) < 0.4
    marker = np.where(y, rng.lognormal(5.6, 0.4, n), rng.lognormal(5.2, 0.4, n))
    marker[np.flatnonzero(~y)[:3]] = 20000.0  # three extreme controls pull the slope down
    df = pd.DataFrame({"y": y.astype(int), "marker": marker, "score": rng.normal(size=n) + y})
    df.to_csv(tmp_path / "d.csv", index=False)
    d = {"data": {"sets": {"dev": {"file": "d.csv"}}}, "outcome": {"column": "y"},
         "predictors": {"candidates": ["marker", "score"]},
         "models": [{"name": "m", "predictors": ["marker", "score"]}], "bootstrap": {"B": 20, "seed": 1}}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    res = run(prepare(load_config(p)))
    single = {s.variable: s for e in res.evaluations for s in e.singles}["marker"]
    assert np.median(marker[y]) > np.median(marker[~y])
    assert single.direction == "<" and single.roc.auc > 0.5
