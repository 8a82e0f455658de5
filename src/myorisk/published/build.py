"""Build the published model spec files (``redmi``, ``pmdm-noninvasive``, ``pmdm-comprehensive``).

Run ``python -m myorisk.published.build [--docs docs/published-models.md]``: writes the three
JSON files next to this module (and the documentation page). Nothing in the JSON files is typed
by hand: published numbers come from ``myorisk/datasets/published_targets.json`` (copied from the
papers), and every reconstructed number is computed here, by a documented rule:

* **Study A intercepts** (not published). Maximum-likelihood logistic fits with an intercept
  satisfy the score equation Σ p̂ᵢ = Σ yᵢ: the mean predicted risk in the training set equals the
  observed 19/64. We solve that equation for the intercept with the published slopes, taking the
  training set's predictor distribution from the published summaries only: per outcome group,
  the printed proportion of men (and of bundle atrophy) and an mSUVmax distribution with the
  printed median and quartiles (split log-normal), independent within a group.
  :func:`pmdm_intercept` does it; the same rule applied to the synthetic training cohort is
  reported as a check.
* **Study A mSUVmax direction.** The printed ORs (0.016; 0.01) are below 1 although
  non-responders have the higher mSUVmax (1.1 vs 0.6); the coefficient is ``−log(printed OR)``.
* **ReDMI intercept** (not published): the paper says the predicted probability is about 0.25 at
  the lowest index, i.e. a patient without anti-TIF1-γ, without alopecia and with GI VAS 0:
  intercept = logit(0.25).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, logit

from myorisk.modeling.spec import ModelSpec, VariableSpec
from myorisk.published.files import save_spec

__all__ = ["pmdm_intercept", "redmi_intercept", "build_specs", "write_specs", "render_markdown"]

HERE = Path(__file__).resolve().parent
MSUVMAX_RANGE = (0.1, 3.0)

_SOURCE_A = ("Predictive models for non-response to conventional treatment in polymyositis and "
             "dermatomyositis (two-centre retrospective cohort, Affiliated Hospital of Qingdao "
             "University and Liaocheng People's Hospital, 2010-2024); training set n = 64 "
             "(19 non-responders).")
_SOURCE_B = ("Refractory DermatoMyositis Index (ReDMI): prospective cohort of 168 adults with "
             "dermatomyositis (57 refractory), Instituto Nacional de Ciencias Médicas y Nutrición "
             "Salvador Zubirán (INCMNSZ), Mexico City.")

_ERRATA_A = [
    "mSUVmax ORs are printed below 1 (univariate 0.02; comprehensive 0.01, 0.000-0.207; "
    "non-invasive 0.016, 0.001-0.210) although non-responders have the higher mSUVmax "
    "(median 1.1 vs 0.6): the direction was reversed in reporting; this spec uses the "
    "corrected, positive coefficient −log(printed OR).",
    "The abstract's non-invasive AUCs (0.857, 0.742, 0.765) disagree with the results section "
    "(0.869, 0.792, 0.810); the CIs are centred on the results-section values, which are used.",
    "Comprehensive AUC 0.900 is printed with CI 0.813-1.009: the upper limit exceeds 1 and the "
    "interval is not centred on 0.900.",
    "Values printed as 'mean ± SD' for age and mSUVmax are standard errors (e.g. age 57.7 ± 1.5).",
    "Liaocheng sex percentages are swapped between cells; non-responder EMG 12/30 is 40.0%, not "
    "40.4%; the age OR is printed '0.02' with CI 0.98-1.06.",
    "No intercept is published: the model cannot be applied as printed without reconstruction.",
]
_CAVEATS_A = [
    "Developed on 64 patients with 19 events (about 6-10 events per parameter): the ORs are very "
    "imprecise (e.g. male 7.565, 95% CI 1.578-36.271) and optimism is likely.",
    "Externally validated only on 22 patients from one other centre.",
    "mSUVmax depends on the PET/CT scanner, protocol and the liver-normalisation described in "
    "the paper (mean of the 16 highest muscle SUVmax / mean liver SUV); values from other "
    "protocols may not be comparable.",
    "The valid mSUVmax range 0.1-3.0 is a reconstruction: the development data's range is not "
    "published (upper quartile of non-responders 1.3); values far above it are extrapolation.",
]


# ----------------------------------------------------------------------------- targets
def _targets() -> dict:
    from myorisk.datasets.generate import load_targets

    return load_targets()


def pmdm_slopes(form: str) -> dict[str, float]:
    """Published slopes of a study A model with the mSUVmax direction corrected."""
    mv = _targets()["pmdm"]["multivariable"][form]
    return {k: (-math.log(v[0]) if k == "msuvmax" else math.log(v[0])) for k, v in mv.items()}


def _split_lognormal_grid(q1: float, med: float, q3: float, n: int = 20000) -> np.ndarray:
    """Quantiles at (k − ½)/n of the split log-normal with the given quartiles."""
    u = (np.arange(n) + 0.5) / n
    z = stats.norm.ppf(u)
    z75 = stats.norm.ppf(0.75)
    m = math.log(med)
    s_lo, s_hi = (m - math.log(q1)) / z75, (math.log(q3) - m) / z75
    return np.exp(m + np.where(z < 0, z * s_lo, z * s_hi))


def pmdm_intercept(form: str) -> float:
    """Intercept of a study A model from published summaries (score equation Σp̂ = Σy).

    Per outcome group g (45 responders, 19 non-responders): P(male) and P(bundle atrophy) are the
    printed proportions; mSUVmax follows a split log-normal with the printed median and IQR; the
    three are independent within a group. The intercept solves
    Σ_g n_g · E_g[expit(b0 + b·x)] = 19.
    """
    t = _targets()["pmdm"]
    slopes = pmdm_slopes(form)
    n_g = t["groups"]["train"]
    counts = t["counts_table2_train"]
    ms = t["continuous"]["train"]["msuvmax"]

    def expected_events(b0: float) -> float:
        tot = 0.0
        for g in (0, 1):
            grid = _split_lognormal_grid(ms["q1"][g], ms["median"][g], ms["q3"][g])
            pm = counts["sex_male"][g] / n_g[g]
            mix = [(pm, slopes["sex=male"]), (1 - pm, 0.0)]
            if "biopsy_bundle_atrophy" in slopes:
                pb = counts["biopsy_bundle_atrophy"][g] / n_g[g]
                mix = [(w * pw, a + b) for w, a in mix
                       for pw, b in ((pb, slopes["biopsy_bundle_atrophy"]), (1 - pb, 0.0))]
            e = sum(w * float(np.mean(expit(b0 + a + slopes["msuvmax"] * grid))) for w, a in mix)
            tot += n_g[g] * e
        return tot

    events = n_g[1]
    return float(optimize.brentq(lambda b: expected_events(b) - events, -30, 30, xtol=1e-12))


def pmdm_intercept_on_cohort(form: str, df) -> float:  # noqa: ANN001 - DataFrame
    """Check: the same score equation solved on the synthetic training cohort."""
    slopes = pmdm_slopes(form)
    lp = slopes["sex=male"] * (df["sex"] == "male").to_numpy() + \
        slopes["msuvmax"] * df["msuvmax"].to_numpy(dtype=float)
    if "biopsy_bundle_atrophy" in slopes:
        lp = lp + slopes["biopsy_bundle_atrophy"] * df["biopsy_bundle_atrophy"].to_numpy(float)
    y = df["nonresponse"].to_numpy(dtype=float)
    return float(optimize.brentq(lambda b: float(np.sum(expit(b + lp)) - y.sum()), -30, 30,
                                 xtol=1e-12))


def redmi_intercept() -> float:
    """ReDMI intercept: logit of the printed probability (≈ 0.25) at the lowest index."""
    return float(logit(_targets()["redmi"]["performance"]["p_lowest"]))


# ----------------------------------------------------------------------------- specs
def _sex() -> VariableSpec:
    return VariableSpec("sex", "categorical", label="Sex", levels=("female", "male"),
                        reference="female", description="Sex (reference: female).")


def _msuvmax() -> VariableSpec:
    return VariableSpec(
        "msuvmax", "numeric", label="mSUVmax", unit="ratio to mean liver SUV",
        min=MSUVMAX_RANGE[0], max=MSUVMAX_RANGE[1],
        description="18F-FDG PET/CT: mean of the 16 highest SUVmax over bilateral pectoralis "
        "major, deltoid, triceps, biceps, psoas, gluteus, quadriceps and adductors, divided by "
        "the mean liver SUV (two readers × two measurements averaged).")


def _bundle() -> VariableSpec:
    return VariableSpec("biopsy_bundle_atrophy", "binary", label="Muscle bundle atrophy",
                        min=0.0, max=1.0, description="Muscle biopsy: bundle (perifascicular) "
                        "atrophy present (1) or absent (0).")


def _published_list_a(form: str) -> list[dict]:
    t = _targets()["pmdm"]
    mv, pv = t["multivariable"][form], t["multivariable_p"][form]
    where = "Table 3 and section 3.2" if form == "comprehensive" else "section 3.2 and Figure 3A"
    out = []
    for k, (o, lo, hi) in mv.items():
        item = {"what": f"OR {k}", "value": o, "ci95": [lo, hi], "p": pv[k], "where": where}
        if k == "msuvmax":
            item["note"] = "printed direction reversed; the spec uses 1/OR (coefficient −log OR)"
        out.append(item)
    auc = t["auc"][form]
    for split, (a, lo, hi) in auc.items():
        out.append({"what": f"AUC ({split})", "value": a, "ci95": [lo, hi], "where": "section 3.3"})
    return out


def _pmdm_spec(form: str) -> ModelSpec:
    from myorisk import __version__
    from myorisk.datasets import load_dataset

    slopes = pmdm_slopes(form)
    b0 = pmdm_intercept(form)
    check = pmdm_intercept_on_cohort(form, load_dataset("pmdm-train"))
    coefs = {"Intercept": b0, "sex=male": slopes["sex=male"], "msuvmax": slopes["msuvmax"]}
    variables = [_sex(), _msuvmax()]
    if form == "comprehensive":
        coefs["biopsy_bundle_atrophy"] = slopes["biopsy_bundle_atrophy"]
        variables.append(_bundle())
    printed = _targets()["pmdm"]["multivariable"][form]["msuvmax"][0]
    reconstructed = [
        {"what": "Intercept", "value": b0,
         "method": "Score equation of the maximum-likelihood fit (mean predicted risk = observed "
         "19/64 in the training set) solved with the published slopes over the training set's "
         "published per-group summaries: proportions of men" +
         (" and of bundle atrophy" if form == "comprehensive" else "") +
         " (Table 2) and an mSUVmax split log-normal with the printed median and quartiles, "
         "independent within outcome group (myorisk.published.build.pmdm_intercept).",
         "check": {"synthetic_training_cohort_intercept": check,
                   "note": "the same equation solved on the SYNTHETIC pmdm-train cohort"}},
        {"what": "msuvmax coefficient direction", "value": slopes["msuvmax"],
         "method": f"−log(printed OR {printed:g}): the printed direction contradicts the data "
         "(non-responders have higher mSUVmax)."},
        {"what": "valid range of msuvmax", "value": list(MSUVMAX_RANGE),
         "method": "not published; 0.1-3.0 covers the printed quartiles (0.5-1.3) with room."},
    ]
    if form == "comprehensive":
        reconstructed[1]["method"] += (" The printed 0.01 has one significant figure; its CI "
                                       "(upper 0.207) and p = 0.004 imply 0.006-0.008 "
                                       "(coefficient 4.8-5.1); the printed value is used.")
    title = {"noninvasive": "PM/DM non-response to conventional therapy — non-invasive model "
                            "(male sex, mSUVmax)",
             "comprehensive": "PM/DM non-response to conventional therapy — comprehensive model "
                              "(male sex, mSUVmax, muscle bundle atrophy)"}[form]
    perf = {"source": "published (study A)", "auc": {
        k: {"value": v[0], "ci95": [v[1], v[2]]}
        for k, v in _targets()["pmdm"]["auc"][form].items()}}
    return ModelSpec(
        name=f"pmdm-{form}",
        title=title,
        outcome={"name": "nonresponse", "event": "1",
                 "description": "Non-response to 12 weeks of glucocorticoid + one conventional "
                 "immunosuppressant: ACR/EULAR 2016 Total Improvement Score < 20."},
        variables=tuple(variables),
        coefficients=coefs,
        provenance={
            "status": "reconstructed",
            "source": _SOURCE_A,
            "published": _published_list_a(form),
            "reconstructed": reconstructed,
            "errata": list(_ERRATA_A),
            "caveats": list(_CAVEATS_A) + (
                ["Requires a muscle biopsy."] if form == "comprehensive" else []),
        },
        lineage=({"step": "build", "by": "myorisk.published.build", "from": "published "
                  "summary statistics (datasets/published_targets.json)"},),
        performance=perf,
        software={"myorisk": __version__},
    )


def _redmi_spec() -> ModelSpec:
    from myorisk import __version__
    from myorisk.datasets import load_dataset

    t = _targets()["redmi"]
    mv = {k: v for k, v in t["multivariable"].items() if not k.startswith("_")}
    b0 = redmi_intercept()
    coefs = {"Intercept": b0, **{k: math.log(v[0]) for k, v in mv.items()}}
    df = load_dataset("redmi-cohort")
    lp = sum(coefs[k] * df[k].to_numpy(dtype=float) for k in mv) + b0
    check_mean = float(optimize.brentq(
        lambda b: float(np.sum(expit(lp - b0 + b)) - df["refractory"].sum()), -30, 30))
    p_top = float(expit(b0 + coefs["anti_tif1g"] + coefs["alopecia"] + 10 * coefs["gi_vas"]))
    gi_087 = (float(logit(t["performance"]["p_highest"])) - b0 - coefs["anti_tif1g"]
              - coefs["alopecia"]) / coefs["gi_vas"]
    perf = t["performance"]
    return ModelSpec(
        name="redmi",
        title="Refractory DermatoMyositis Index (ReDMI): anti-TIF1-γ, alopecia, GI disease "
              "activity VAS",
        outcome={"name": "refractory", "event": "1",
                 "description": "Refractory dermatomyositis: persistent disease activity 3 months "
                 "after an adequate course of glucocorticoids and at least one immunosuppressant "
                 "(prospective follow-up, median 46 months)."},
        variables=(
            VariableSpec("anti_tif1g", "binary", label="Anti-TIF1-γ", min=0.0, max=1.0,
                         description="Anti-TIF1-γ antibody positive (1) or negative (0) "
                         "(EUROLINE immunoblot)."),
            VariableSpec("alopecia", "binary", label="Alopecia", min=0.0, max=1.0,
                         description="Alopecia present (1) or absent (0) at baseline."),
            VariableSpec("gi_vas", "numeric", label="GI disease activity VAS", unit="cm",
                         min=0.0, max=10.0, description="MDAAT gastrointestinal disease-activity "
                         "visual analogue scale (0-10 cm) at baseline."),
        ),
        coefficients=coefs,
        provenance={
            "status": "reconstructed",
            "source": _SOURCE_B,
            "published": [
                {"what": f"OR {k}", "value": v[0], "ci95": [v[1], v[2]],
                 "where": "Table IV and Results"} for k, v in mv.items()
            ] + [
                {"what": "Nagelkerke R2", "value": perf["r2_nagelkerke"], "where": "Results"},
                {"what": "AUC", "value": perf["auc"], "where": "Results"},
                {"what": "Somers' Dxy", "value": perf["dxy"], "where": "Results"},
                {"what": "predicted probability at lowest / highest index",
                 "value": [perf["p_lowest"], perf["p_highest"]], "where": "Results, Figure 3"},
            ],
            "reconstructed": [
                {"what": "Intercept", "value": b0,
                 "method": "logit(0.25): the paper's predicted probability 'approximately 0.25 "
                 "for the lowest index values', i.e. anti-TIF1-γ negative, no alopecia, GI VAS 0 "
                 "(myorisk.published.build.redmi_intercept).",
                 "check": {
                     "synthetic_cohort_mean_risk_intercept": check_mean,
                     "probability_at_maximum_index_gi_vas_10": p_top,
                     "gi_vas_at_which_probability_is_0.87_with_both_binary_factors": gi_087,
                     "note": "the paper's 0.87 at the highest index corresponds to a highest "
                             "observed GI VAS near this value; the SYNTHETIC cohort check solves "
                             "mean predicted = observed 57/168"}},
            ],
            "errata": [
                "No intercept is published; the '≈ 0.25 at the lowest index' statement is the "
                "only anchor for it.",
                "The index is said to be the linear predictor of the final model, but as a single "
                "predictor it has OR 3.57 (1.71-7.59) per unit, whereas the linear predictor "
                "would refit with slope 1 (OR e ≈ 2.72): the index's scaling is not described. "
                "This spec's linear predictor is the model's logit (log-odds).",
                "Percentages in the text do not match the group sizes (anti-TIF1-γ '17.1% vs "
                "3.6%', calcinosis '3.1% vs 11.7%'); counts and ORs agree with 57 / 111.",
                "Printed ORs are truncated, not rounded, to 2 decimals.",
            ],
            "caveats": [
                "Moderate discrimination (AUC 0.67, Nagelkerke R² 0.13) and internal (bootstrap) "
                "validation only; the authors state it needs external validation.",
                "One centre, Hispanic adults with DM (2017 EULAR/ACR); refractoriness defined "
                "after an adequate course of glucocorticoids and ≥ 1 immunosuppressant.",
            ],
        },
        lineage=({"step": "build", "by": "myorisk.published.build", "from": "published "
                  "summary statistics (datasets/published_targets.json)"},),
        performance={"source": "published (study B)", "auc": perf["auc"],
                     "r2_nagelkerke": perf["r2_nagelkerke"], "dxy": perf["dxy"],
                     "calibration_slope": perf["calibration_slope"],
                     "calibration_intercept": perf["calibration_intercept"], "emax": perf["emax"],
                     "mae": perf["mae"], "mse": perf["mse"]},
        software={"myorisk": __version__},
    )


def build_specs() -> dict[str, ModelSpec]:
    """The three published model specs, by name."""
    return {"redmi": _redmi_spec(), "pmdm-noninvasive": _pmdm_spec("noninvasive"),
            "pmdm-comprehensive": _pmdm_spec("comprehensive")}


def write_specs(out_dir: str | Path = HERE) -> list[Path]:
    """Write ``NAME.json`` for each published model into ``out_dir``."""
    return [save_spec(s, Path(out_dir) / f"{n}.json") for n, s in build_specs().items()]


# ----------------------------------------------------------------------------- docs
def render_markdown() -> str:
    """Text of ``docs/published-models.md`` (numbers from the spec files themselves)."""
    import pandas as pd

    from myorisk.modeling.spec import predict
    from myorisk.published.files import load_spec

    lines = [
        "# Published models",
        "",
        "<!-- Written by `python -m myorisk.published.build --docs docs/published-models.md`; "
        "do not edit by hand. -->",
        "",
        "myorisk ships the three models of the seed studies as model spec files "
        "(`src/myorisk/published/NAME.json`, format `myorisk-model/1`). **All three are "
        "RECONSTRUCTED**: neither paper publishes an intercept, so each intercept was derived "
        "by documented code (`myorisk.published.build`), and study A's mSUVmax direction is "
        "corrected. The spec files say so in `provenance`; `ModelSpec.notice()` returns the "
        "line every face (CLI, report, web) must show with a prediction.",
        "",
        "Use: `myorisk predict --model NAME --input cohort.csv --output scored.csv`, or one "
        "patient as JSON on stdin (`--json`); `myorisk evaluate DATA --model NAME` for external "
        "validation, with `--recalibrate intercept|logistic|refit --save NEW.json` writing an "
        "updated spec whose `lineage` records the parent, data and parameters.",
        "",
    ]
    for name in ("pmdm-noninvasive", "pmdm-comprehensive", "redmi"):
        s = load_spec(name)
        lines += [f"## `{name}` — {s.title}", "", f"> {s.notice()}", "",
                  f"Outcome: `{s.outcome['name']}` = {s.outcome['event']}: "
                  f"{s.outcome['description']}", "", "| variable | kind | unit | valid range / "
                  "levels | label |", "|---|---|---|---|---|"]
        for v in s.variables:
            lines.append(f"| `{v.name}` | {v.kind} | {v.unit} | {v.range_text()} | {v.label} |")
        lines += ["", "| coefficient | value | OR | status |", "|---|---|---|---|"]
        rec = {r["what"] for r in s.provenance["reconstructed"]}
        for c, b in s.coefficients.items():
            if c == "Intercept":
                st = "reconstructed"
            elif c == "msuvmax" and "msuvmax coefficient direction" in rec:
                st = "published magnitude, direction corrected"
            else:
                st = "published"
            lines.append(f"| `{c}` | {b:.6f} | {math.exp(b):.4g} | {st} |")
        lines += ["", "**Reconstructed:**", ""]
        for r in s.provenance["reconstructed"]:
            val = r["value"]
            vtxt = f"{val:.6f}" if isinstance(val, float) else str(val)
            lines.append(f"* {r['what']} = {vtxt}: {r['method']}")
            if "check" in r:
                chk = ", ".join(f"{k} = {v:.4f}" for k, v in r["check"].items()
                                if isinstance(v, float))
                lines.append(f"  Check: {chk}.")
        lines += ["", "**Errata in the source (handled):**", ""]
        lines += [f"* {e}" for e in s.provenance["errata"]]
        lines += ["", "**Caveats:**", ""]
        lines += [f"* {e}" for e in s.provenance["caveats"]]
        # worked example
        ex = {}
        for v in s.variables:
            if v.kind == "categorical":
                ex[v.name] = v.levels[-1]
            elif v.kind == "binary":
                ex[v.name] = 1
            else:
                ex[v.name] = {"msuvmax": 1.1, "gi_vas": 2.0}.get(v.name, v.min)
        r = predict(s, pd.DataFrame([ex]), "example").iloc[0]
        terms = " + ".join(
            f"{s.coefficients[c]:.4f}×{1 if '=' in c or s.variable(c).kind == 'binary' else ex[c]}"
            for c in s.coefficients if c != "Intercept")
        lines += ["", f"**Worked example** ({', '.join(f'{k} = {v}' for k, v in ex.items())}): "
                  f"linear predictor = {s.coefficients['Intercept']:.4f} + {terms} = "
                  f"{r['linear_predictor']:.4f}; probability = 1/(1 + e^−lp) = "
                  f"{r['probability']:.4f}; nomogram total points = {r['points_total']:.1f}.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m myorisk.published.build [--docs PATH]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for p in write_specs():
        print(p)
    if "--docs" in argv:
        path = Path(argv[argv.index("--docs") + 1])
        path.write_text(render_markdown(), encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
