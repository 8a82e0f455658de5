"""``myorisk fit DATA`` where DATA is Parquet (a folder of files, a glob or one file): a logistic fit
from per-partition sufficient statistics, each partition read where it is processed (threads, or
Dask workers with ``--workers``/``--scheduler``), never concatenated here.

Called from :func:`myorisk.commands.regression.fit`; see docs/scale-out.md.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from myorisk.commands import _common as common
from myorisk.commands._common import out
from myorisk.errors import InputError, ModelError

__all__ = ["fit_parquet", "is_parquet"]


def is_parquet(data: Path | str) -> bool:
    """DATA names a Parquet data set (folder, glob or ``.parquet`` file)."""
    from myorisk.partitions import is_parquet_source

    return is_parquet_source(data)


def _refuse(unsupported: dict[str, bool]) -> None:
    given = [k for k, v in unsupported.items() if v]
    if given:
        raise InputError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not available for Parquet data "
                         "(partitioned fits are maximum likelihood with Wald intervals on numeric predictors); "
                         "for those, export the data to CSV and fit it in memory")


def _terms(preds: list[str]) -> tuple[list[str], list[tuple[str, str]], list]:
    """The predictor columns and the interactions (pairs) of ``-x``; splines are refused."""
    from myorisk.modeling.terms import parse_terms

    exprs = parse_terms(preds)  # also refuses an interaction without its main effects, as fit does
    for e in exprs:
        if e.kind == "rcs":
            raise InputError(f"--predictors: rcs({e.name}, …) is a restricted cubic spline; partitioned fits take "
                             "plain columns and their products (make the spline columns in the data, or fit the "
                             "data in memory)")
    variables = [e.name for e in exprs if e.kind == "var"]
    return variables, [tuple(e.parents) for e in exprs if e.kind == "interaction"], exprs


def _boolean(path: str, column: str) -> bool:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return bool(pa.types.is_boolean(pq.read_schema(path).field(column).type))


def _check_design(scan, names: list[str], events: int, n: int, source: str) -> list[str]:
    """Constant or collinear predictors (from the first pass's min, max and XᵀX), and the EPV note."""
    k = len(names)
    for j in range(1, k):
        if scan.minimum[j] == scan.maximum[j]:
            raise ModelError(f"{source}: predictor '{names[j]}' is constant ({common.fmt_value(scan.minimum[j])}) "
                             f"in the {n} rows used; it cannot be estimated — remove it")
    g = scan.gram
    norms = np.sqrt(np.diag(g))
    gn = g / np.outer(norms, norms)
    for j in range(1, k):
        prev = gn[:j, :j]
        v = gn[:j, j]
        coef = np.linalg.lstsq(prev, v, rcond=None)[0]
        if gn[j, j] - v @ coef < 1e-13:  # R's QR tolerance 1e-7, squared
            involved = [names[c] for c in range(1, j) if abs(coef[c]) > 1e-8]
            raise ModelError(f"{source}: predictor column '{names[j]}' is collinear with "
                             f"{', '.join(repr(x) for x in involved) or 'the intercept'} (it is a linear "
                             "combination of them); remove one of them")
    small = float(min(events, n - events))
    npar = k - 1
    if npar and small / npar < 10:
        return [f"{small:.0f} events in the smaller outcome group for {npar} parameter{'s' if npar > 1 else ''}: "
                f"{small / npar:.1f} events per parameter, below 10; estimates may be overfitted"]
    return []


def fit_parquet(data: Path, outcome: str, predictors: str, *, level: float, workers: int | None,
                scheduler: str | None, as_json: bool, unsupported: dict[str, bool],
                categorical: str | None = None, reference: list[str] | None = None,
                save: Path | None = None, name: str | None = None) -> None:
    """Fit a logistic regression on a Parquet data set partition by partition and print it as ``fit`` does."""
    from myorisk.modeling.sufficient import C_WIDTH, fit_partitioned
    from myorisk.partitions import collect_levels, design_names, parquet_partitions, scan_partitions

    _refuse(unsupported)
    terms = common.columns_list(predictors)
    preds, pairs, exprs = _terms(terms)
    if outcome in preds:
        raise InputError(f"--predictors: '{outcome}' is the outcome")
    if not 0.0 < level < 1.0:
        raise InputError(f"--level must be between 0 and 1, not {level}")
    cats = common.categorical_list(categorical, terms)
    refs = common.refs(reference)
    parts = parquet_partitions(data, outcome, preds, categorical=cats, interactions=pairs)  # text: categories
    common.guard_output(save, "--save", *sorted({p.path for p in parts}))
    for k in refs:
        if k not in preds:
            raise InputError(f"reference level given for {k!r}, which is not a predictor")
        if k not in parts[0].categorical:
            raise InputError(f"reference level given for {k!r}, which is numeric (declare it categorical)")
    source = Path(str(data)).name or str(data)
    with common.executor_for(workers, scheduler) as ex, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = collect_levels(parts, refs, ex, source)  # a first pass when there are categories
        scan = scan_partitions(parts, ex)
        n = scan.n_rows - scan.n_dropped
        if scan.n_rows and n == 0:
            raise InputError(f"{source}: every row has a missing value in {', '.join([outcome, *preds])}: "
                             "nothing to analyse")
        empty = [c for c, k in scan.by_column.items() if scan.n_rows and k == scan.n_rows]
        if empty:
            raise InputError(f"{source}: column '{empty[0]}' is 100% missing (no value in any of the "
                             f"{scan.n_rows} rows)")
        if scan.events in (0, n):
            raise InputError(f"{source}: outcome '{outcome}' takes a single value ({0 if scan.events == 0 else 1}) "
                             f"in all {n} rows used: a model needs both events and non-events")
        names = design_names(parts[0])
        notes = [scan.message()] if scan.message() else []
        notes += _check_design(scan, names, scan.events, n, source)
        try:
            res = fit_partitioned(parts, names=names, executor=ex, level=level, outcome=outcome,
                                  missing=scan.missing(), warnings=notes, counts=(n, scan.events))
        except ModelError as e:
            if "did not converge" in str(e) or "separat" in str(e):
                raise ModelError(f"{source}: {e}; fit the data in memory to see which predictor separates it, "
                                 "or use --firth there") from None
            raise ModelError(f"{source}: {e}") from None
    if _boolean(parts[0].path, outcome):  # as fit names a true/false outcome's event
        from dataclasses import replace

        res = replace(res, event="True")
    if save is not None:
        from myorisk.published.files import save_spec

        save_spec(_spec(res, scan, parts[0], exprs, name or save.stem, source), save)
    if as_json:
        common.dump(res.to_dict())
    else:
        fr = res.to_frame()
        out.print(common.table(fr, title=f"Logistic regression (maximum likelihood, from {res.partitions} Parquet "
                                         f"partitions), outcome {outcome} = {res.event}; {int(level * 100)}% wald CI",
                               formats={"p": common.fmt_p}))
        out.print(
            f"n = {res.n}, events = {res.events}; log-likelihood {res.loglik:.4f}, AIC {res.aic:.3f}; "
            f"LR χ² {res.lr_chi2:.3f} on {res.lr_df} d.f., p {common.fmt_p(res.lr_p)}; "
            f"Nagelkerke R² {res.r2_nagelkerke:.4f}; C {res.c:.4f}, Dxy {res.dxy:.4f}; Brier {res.brier:.4f}"
        )
        ex_d = res.executor
        where = (f"{ex_d.get('workers')} Dask worker{'s' if ex_d.get('workers') != 1 else ''}"
                 if ex_d.get("kind") == "dask" else f"{ex_d.get('workers')} threads")
        exact = ("equal to the exact C: pairs sharing a cell are true ties" if res.c_error == 0 else
                 f"within {res.c_error:.1e} of the exact C")
        out.print(f"read partition by partition on {where} ({res.iterations} Newton iterations); "
                  f"C from linear-predictor cells of width {C_WIDTH:g} ({exact}; rms 6.5's printed C "
                  f"{res.c_rms65:.4f} is exact); Gini's g and gp are not computed (they need the sorted rows)")
        if save is not None:
            out.print(f"model spec written to {save}")
    for w in res.warnings:
        common.note(w)


def _spec(res, scan, part, exprs, name: str, source: str):  # noqa: ANN001, ANN202
    """The model spec ``fit --save`` writes, from the partitioned fit and the scan's ranges.

    :meth:`ModelSpec.from_fit` reads the terms and statistics of a fit and the observed range of
    each numeric predictor from the rows used; here the rows stay in their files, so it is given
    a three-row frame per predictor holding the scan's minimum and maximum (and a value between
    them when the column is not 0/1 only), which gives it the same ranges and binary flags.
    """
    import pandas as pd

    from myorisk.modeling.design import Term
    from myorisk.modeling.spec import ModelSpec

    levels = dict(zip(part.categorical, part.levels, strict=False))
    terms, frame, mains, j = [], {}, {}, 1
    for c in part.predictors:
        if c in part.categorical:
            lv = levels[c]
            mains[c] = Term(name=c, kind="categorical", levels=tuple(lv), columns=tuple(f"{c}={v}" for v in lv[1:]))
            terms.append(mains[c])
            j += len(lv) - 1
            continue
        mains[c] = Term(name=c, kind="numeric", columns=(c,))
        terms.append(mains[c])
        lo, hi = float(scan.minimum[j]), float(scan.maximum[j])
        frame[c] = [lo, hi, hi if scan.binary[j] else (lo + hi) / 2.0]
        j += 1
    for e in exprs:
        if e.kind == "interaction":
            a, b = (mains[v] for v in e.parents)
            terms.append(Term(name=e.name, kind="interaction", parents=(a, b), restricted=e.restricted,
                              columns=tuple(f"{ca} * {cb}" for cb in b.columns for ca in a.columns)))
    fit_like = _FitView(res, tuple(terms))
    return ModelSpec.from_fit(fit_like, pd.DataFrame(frame, index=range(3)), name, source=source)


class _FitView:
    """The attributes of a LogisticFit that ModelSpec.from_fit reads, from a PartitionedFit."""

    def __init__(self, res, terms) -> None:  # noqa: ANN001
        self.terms = terms
        self.outcome, self.event, self.n, self.events = res.outcome, res.event, res.n, res.events
        self.c, self.brier, self.r2_nagelkerke = res.c, res.brier, res.r2_nagelkerke
        self.names, self.cov = res.names, res.cov
        self.coef = dict(zip(res.names, map(float, res.beta), strict=True))
        self.method, self.penalty, self.effective_df, self.shrinkage = "ml", 0.0, None, None
        self.warnings = res.warnings
        self.missing = {"rows": []}
