"""``myorisk demo``: both seed studies on the synthetic cohorts, one command (its time is measured in
bench/, not asserted here: no wall-clock assertion in tests)."""

from __future__ import annotations

import pytest

from myorisk.cli import _run

pytestmark = pytest.mark.slow


def test_demo_command_writes_both_reports(tmp_path, capsys):
    out = tmp_path / "myorisk-demo"
    assert _run(["demo", "--out", str(out), "--quiet", "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert str(out / "index.html") in printed
    for study in ("study-a", "study-b"):
        report = out / study / "report.html"
        assert report.exists(), study
        html = report.read_text()
        assert "SYNTHETIC DATA" in html and "TRIPOD+AI" in html
        assert "B = 50" in html
        assert (out / study / "results.json").exists()
        # the demo shows what was published: primary published forms, sensitivity analyses, the table
        assert "Published vs reproduced" in html and "sensitivity analysis" in html
        assert (out / study / "tables" / "published_vs_reproduced.csv").exists()
    assert (out / "study-b" / "figures" / "index_curve.png").exists()
    # running again replaces the earlier demo output
    assert _run(["demo", "--out", str(out), "--quiet", "--bootstrap", "20"]) == 0
    assert "B = 20" in (out / "study-a" / "report.html").read_text()


def test_demo_refuses_folder_with_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert _run(["demo", "--out", str(tmp_path), "--quiet"]) == 2
    assert "holds other files" in capsys.readouterr().err


def test_study_command_json(tmp_path, capsys):
    import json
    from importlib import resources

    from myorisk.study.demo import DEMO_STUDIES

    ref = resources.files("myorisk.study").joinpath("configs", DEMO_STUDIES["study-b"])
    with resources.as_file(ref) as cfg:
        code = _run(["study", str(cfg), "--out", str(tmp_path / "b"), "-B", "20", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["synthetic"] is True
    assert summary["performance"][0]["model"] == "redmi"
    assert (tmp_path / "b" / "report.html").exists()
