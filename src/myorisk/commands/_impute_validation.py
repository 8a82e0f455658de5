"""``myorisk validate|calibrate --impute M`` and ``--ci``: the optimism bootstrap within each imputed
data set, combined across imputations, with location-shifted intervals (Noma et al. 2021)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from myorisk.commands import _common as common
from myorisk.commands import _impute
from myorisk.commands._common import out
from myorisk.errors import InputError


def _designs(data: Path, outcome: str, predictors: str, categorical, reference, event, *, impute, seed,
             maxit, auxiliary, read: tuple = (None, None, None)):
    from myorisk.modeling.design import build_design

    preds = common.columns_list(predictors)
    cats = common.split(categorical)
    refs = common.refs(reference)
    df = common.read(data, *read)
    if impute is None:
        design = build_design(df, outcome, preds, categorical=cats, reference=refs, event=event, source=data.name)
        msg = design.missing.message()
        if msg:
            common.note(msg)
        return [design], None
    sets, imp = _impute.imputed_sets(df, outcome, preds, m=impute, seed=seed, maxit=maxit, categorical=cats,
                                     auxiliary=auxiliary, source=data.name)
    designs = [build_design(s, outcome, preds, categorical=cats, reference=refs, event=event,
                            source=f"{data.name} (imputation {i})") for i, s in enumerate(sets, start=1)]
    return designs, imp


def _selection(select, alpha, screen_alpha):
    from myorisk.modeling.validation import SelectionSpec

    if select is None:
        return None
    if select not in ("pscreen", "aic"):
        raise InputError(f"with --impute/--imputations, --select must be pscreen or aic, not {select!r} "
                         "(LASSO inside the bootstrap is available on complete data)")
    return SelectionSpec(method="pscreen" if select == "pscreen" else "backward_aic", alpha=alpha,
                         screen_alpha=screen_alpha)


def _check(impute, ci, resamples, auxiliary, level):
    if resamples is not None and (impute is not None or ci):
        raise InputError("--resamples replays one data set's resamples; it does not go with --impute or --ci")
    if auxiliary and impute is None:
        raise InputError("--auxiliary goes with --impute M")
    if not 0.0 < level < 1.0:
        raise InputError(f"--level must be between 0 and 1, not {level}")


def _default_b() -> int:
    from myorisk.commands.validation import DEFAULT_B

    return DEFAULT_B


def _how(imp, seed) -> str:
    if imp is None:
        return f"seed {seed}"
    return f"{imp.m} imputations by chained equations, seed {seed}"


def _run_imputed(engine, data, outcome, predictors, *, bootstrap, seed, select, alpha, screen_alpha, resamples,
                 failure_policy, categorical, reference, event, impute, ci, level, maxit, auxiliary,
                 workers=None, scheduler=None, read=(None, None, None)):  # noqa: ANN001, ANN202
    """Check the options, impute (or take the complete data) and run ``engine`` over the designs
    (the resamples on ``--workers``/``--scheduler``'s Dask cluster when given, else on threads)."""
    _check(impute, ci, resamples, auxiliary, level)
    seed = _impute.drawn_seed(seed)
    selection = _selection(select, alpha, screen_alpha)
    designs, imp = _designs(data, outcome, predictors, categorical, reference, event, impute=impute, seed=seed,
                            maxit=maxit, auxiliary=auxiliary, read=read)
    dask = workers is not None or scheduler is not None
    with common.executor_for(workers, scheduler) as ex, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = engine(designs, B=bootstrap or _default_b(), seed=seed, selection=selection,
                     failure_policy=failure_policy, ci=ci, level=level,
                     imputation=imp.info() if imp is not None else None, executor=ex if dask else None)
    return res, imp, seed


def run_validate(data, outcome, predictors, *, as_json: bool, **options) -> None:  # noqa: ANN001
    """validate with --impute and/or --ci."""
    from myorisk.modeling.mi_validation import CI_METHOD, validate_imputed

    res, imp, seed = _run_imputed(validate_imputed, data, outcome, predictors, **options)
    ci, level = options["ci"], options["level"]
    if as_json:
        common.dump({**res.to_dict(), "seed": seed})
        return
    out.print(common.table(res.to_frame(), title=f"Bootstrap validation (B = {res.B} per data set, {_how(imp, seed)}, "
                                                 f"{res.seconds:.2f} s)"))
    if imp is not None:
        out.print("optimism bootstrap within each imputed data set; indexes averaged over imputations "
                  "(impute, then bootstrap: Wahl et al. 2016, as rms processMI)")
    if ci:
        out.print(f"corrected_low/high: {int(round(100 * level))}% {CI_METHOD}: percentile interval of the "
                  "bootstrap-sample (training) index shifted by the optimism; for Intercept, Slope, Emax and U "
                  "(fixed in the training data) the percentile interval of the test values, centred on corrected"
                  + ("; per-imputation intervals combined by Rubin's rules" if imp is not None else ""))
    if res.n_failed:
        common.note(f"{res.n_failed} resamples failed and were skipped ({options['failure_policy']})")
    if res.selection_frequency:
        fr = pd.DataFrame([{"variable": k, "selected": v} for k, v in res.selection_frequency.items()])
        out.print(common.table(fr, title="How often each candidate was selected (mean over imputations)"))


def run_calibrate(data, outcome, predictors, *, as_json: bool, **options) -> None:  # noqa: ANN001
    """calibrate with --impute and/or --ci."""
    from myorisk.modeling.mi_validation import CI_METHOD, calibrate_imputed

    res, imp, seed = _run_imputed(calibrate_imputed, data, outcome, predictors, **options)
    ci, level = options["ci"], options["level"]
    if as_json:
        common.dump({**res.to_dict(), "seed": seed})
        return
    out.print(common.table(res.to_frame(), title=f"Bootstrap calibration (B = {res.B} per data set, "
                                                 f"{_how(imp, seed)}, {res.seconds:.2f} s)"))
    if ci:
        out.print(f"corrected_low/high: pointwise {int(round(100 * level))}% {CI_METHOD}")
    out.print(f"Mean absolute error {res.mean_abs_error:.4f}; mean squared error {res.mean_sq_error:.5f}; "
              f"0.9 quantile of absolute error {res.e90:.4f}" + (" (means over imputations)" if imp else ""))
