"""Options and helpers shared by the commands that take ``--impute M`` or ``--imputations FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from myorisk.commands import _common as common
from myorisk.errors import InputError

ImputeOpt = Annotated[
    int | None,
    typer.Option("--impute", min=0, help="Multiple imputation by chained equations with M imputations "
                 "(0: M from the share of incomplete rows, as White et al. advise); default complete cases."),
]
ImputationsOpt = Annotated[
    Path | None,
    typer.Option("--imputations", help="Already-imputed data in long format (as mice::complete(imp, \"long\") "
                 "writes): pool over its imputations instead of imputing."),
]
ImputationColumnOpt = Annotated[
    str, typer.Option("--imputation-column", help="Imputation-number column of --imputations.")
]
AuxiliaryOpt = Annotated[
    str | None,
    typer.Option("--auxiliary", help="Comma-separated columns used only to impute (auxiliary variables)."),
]
MaxitOpt = Annotated[int, typer.Option("--maxit", min=1, max=200, help="Iterations of each imputation chain.")]


def check(impute: int | None, imputations: Path | None, auxiliary: str | None) -> None:
    """Refuse combinations that make no sense (one line each)."""
    if impute is not None and imputations is not None:
        raise InputError("--impute and --imputations exclude each other: impute here, or pool given imputations")
    if auxiliary and impute is None:
        raise InputError("--auxiliary goes with --impute M")


def imputed_sets(df, outcome: str, predictors: list[str], *, m: int | None, seed: int | None, maxit: int,
                 categorical: list[str], auxiliary: str | None, source: str):
    """(completed data sets, MiceResult) for --impute; rows without the outcome are removed with a note."""
    from myorisk.modeling.mice import mice
    from myorisk.modeling.terms import parse_terms

    aux = common.split(auxiliary)
    # the imputation model works on the raw columns; splines and interactions are computed from the
    # imputed values afterwards ("impute, then transform")
    raw = list(dict.fromkeys(v for t in parse_terms(predictors) for v in t.variables))
    cats = [c for c in categorical if c in raw]
    cols = [outcome, *raw, *[a for a in aux if a not in raw and a != outcome]]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{source}: column '{missing[0]}' not found (columns are: "
                         f"{', '.join(map(str, df.columns[:20]))})")
    df = common.drop_missing_outcome(df, outcome, source)
    imp = mice(df[cols], m=m or None, maxit=maxit, seed=seed, categorical=cats, outcome=outcome,
               auxiliary=aux, source=source)
    if not imp.imputed:
        common.note(f"{source}: no value is missing in {', '.join(cols)}; the {imp.m} imputed data sets are "
                    "identical and the pooled result equals the complete-data one")
    return imp.completed(), imp


def read_imputations(path: Path, column: str, read: tuple = (None, None, None)):
    """Completed data sets from a long file (imputation 0, the original, is left out)."""
    from myorisk.modeling.imputation import split_long

    return split_long(common.read(path, *read), column, source=path.name)


def drawn_seed(seed: int | None) -> int:
    """The seed given, or one drawn and reported (results reproducible from it)."""
    if seed is not None:
        return seed
    import numpy as np

    return int(np.random.SeedSequence().entropy % (2**31))
