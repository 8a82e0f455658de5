"""``myorisk fit --impute M | --imputations FILE``: a logistic model pooled over imputations."""

from __future__ import annotations

import warnings
from pathlib import Path

from myorisk.commands import _common as common
from myorisk.commands import _impute
from myorisk.commands._common import out


def fit_pooled(data: Path, outcome: str, preds: list[str], *, firth: bool, level: float, cats: list[str],
               reference: dict, event: str | None, impute: int | None, seed: int | None,
               imputations: Path | None, column: str, auxiliary: str | None, maxit: int,
               save: Path | None, name: str | None, as_json: bool, read: tuple = (None, None, None)) -> None:
    """Fit to every completed data set, pool by Rubin's rules, print (or --json) and --save."""
    from myorisk.modeling.imputation import fit_imputed

    imp = None
    if imputations is not None:
        sets = _impute.read_imputations(imputations, column, read)
        method, src = "given", imputations.name
    else:
        seed = _impute.drawn_seed(seed)
        df = common.read(data, *read)
        sets, imp = _impute.imputed_sets(df, outcome, preds, m=impute, seed=seed, maxit=maxit,
                                         categorical=cats, auxiliary=auxiliary, source=data.name)
        method, src = "mice", data.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_imputed(sets, outcome, preds, firth=firth, level=level, categorical=cats, reference=reference,
                          event=event, source=src, method=method, seed=seed if imp is not None else None,
                          imputation=imp.info() if imp is not None else {"file": str(imputations), "column": column})
    if save is not None:
        from myorisk.modeling.spec import ModelSpec, save_spec

        spec = ModelSpec.from_fit(res.as_logistic_fit(), sets[0], name=name or save.stem, source=src)
        save_spec(spec, save)
    if as_json:
        common.dump(res.to_dict())
    else:
        fr = res.to_frame()[["term", "coef", "se", "p", "or", "or_low", "or_high", "df", "fmi", "riv"]]
        how = (f"{res.m} imputations by chained equations (seed {seed})" if imp is not None
               else f"{res.m} imputations from {imputations.name}")
        out.print(common.table(fr, title=f"Logistic regression pooled by Rubin's rules over {how}, outcome "
                                         f"{outcome} = {res.event}; {int(level * 100)}% CI on Barnard–Rubin df",
                               formats={"p": common.fmt_p}))
        out.print(f"n = {res.n}, events = {res.events}; pooled apparent C {res.c:.4f} (logit scale), "
                  f"Brier {res.brier:.4f}, Nagelkerke R² {res.r2_nagelkerke:.4f} (mean over imputations)")
        if imp is not None and imp.imputed:
            meth = ", ".join(f"{k} {v}" for k, v in imp.methods.items() if v)
            out.print(f"imputed: {meth}; {100 * imp.share_incomplete:.1f}% of rows incomplete; "
                      f"{imp.maxit} iterations")
        if save is not None:
            out.print(f"model spec written to {save}")
    for w in res.warnings:
        common.note(w)


def _sets(data, outcome, preds, *, impute, seed, imputations, column, auxiliary, maxit, cats,
          read: tuple = (None, None, None)):
    if imputations is not None:
        return _impute.read_imputations(imputations, column, read), None, None, imputations.name
    seed = _impute.drawn_seed(seed)
    sets, imp = _impute.imputed_sets(common.read(data, *read), outcome, preds, m=impute, seed=seed, maxit=maxit,
                                     categorical=cats, auxiliary=auxiliary, source=data.name)
    return sets, imp, seed, data.name


def univariate_pooled(data: Path, outcome: str, preds: list[str], *, level: float, cats: list[str], reference: dict,
                      event: str | None, impute: int | None, seed: int | None, imputations: Path | None,
                      column: str, auxiliary: str | None, maxit: int, as_json: bool,
                      read: tuple = (None, None, None)) -> None:
    """univariate --impute/--imputations: each candidate pooled by Rubin's rules."""
    from myorisk.modeling.imputation import univariate_imputed

    sets, imp, seed, src = _sets(data, outcome, preds, impute=impute, seed=seed, imputations=imputations,
                                 column=column, auxiliary=auxiliary, maxit=maxit, cats=cats, read=read)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = univariate_imputed(sets, outcome, preds, level=level, categorical=cats, reference=reference,
                                 event=event, source=src)
    info = imp.info() if imp is not None else {"m": len(sets), "method": "given", "file": str(imputations)}
    if as_json:
        common.dump({**res.to_dict(), "imputation": info})
        return
    cols = ["variable", "term", "n", "events", "or", "or_low", "or_high", "p", "term_p", "df", "fmi"]
    out.print(common.table(res.rows[cols], title=f"Univariate logistic regression pooled over {len(sets)} imputations "
                                                 f"(Rubin's rules; {int(level * 100)}% CI), outcome {outcome} = {res.event}",
                           formats={"p": common.fmt_p, "term_p": common.fmt_p}))
    out.print("term_p: Rubin's t test for one column, D1 (Li, Raghunathan & Rubin 1991) for a variable with several")


def select_pooled(data: Path, outcome: str, preds: list[str], *, alpha: float, cats: list[str], reference: dict,
                  event: str | None, impute: int | None, seed: int | None, imputations: Path | None,
                  column: str, auxiliary: str | None, maxit: int, as_json: bool,
                  read: tuple = (None, None, None)) -> None:
    """select --impute/--imputations: p-value screen on pooled tests (Wood et al. 2008)."""
    from myorisk.modeling.imputation import select_pscreen_imputed

    sets, imp, seed, src = _sets(data, outcome, preds, impute=impute, seed=seed, imputations=imputations,
                                 column=column, auxiliary=auxiliary, maxit=maxit, cats=cats, read=read)
    info = imp.info() if imp is not None else {"m": len(sets), "method": "given", "file": str(imputations)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steps, selected, final = select_pscreen_imputed(sets, outcome, preds, alpha=alpha, categorical=cats,
                                                        reference=reference, event=event, source=src,
                                                        imputation=info)
    if as_json:
        common.dump({"method": "pscreen", "alpha": alpha, "candidates": preds, "selected": list(selected),
                     "steps": steps.to_dict(orient="records"), "model": final.to_dict(), "imputation": info})
        return
    out.print(common.table(steps, title=f"Selection steps (pscreen on pooled p over {len(sets)} imputations)",
                           formats={"p": common.fmt_p}))
    out.print(f"selected: {', '.join(selected)}")
    fr = final.to_frame()[["term", "coef", "se", "p", "or", "or_low", "or_high", "df", "fmi"]]
    out.print(common.table(fr, title="Final model (pooled by Rubin's rules)", formats={"p": common.fmt_p}))
    common.note("apparent performance of a selected model is optimistic: validate it with selection repeated "
                "inside the bootstrap (myorisk validate --select pscreen --impute M)")
