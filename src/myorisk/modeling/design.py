"""Design matrices for binary-outcome models: outcome coding, numeric and categorical predictors.

Categorical predictors get treatment (dummy) coding against a reference level (the first level in
order R's ``factor`` gives them, ICU collation included, unless chosen), and design columns are named ``var=level`` as rms
names them. Rows with a missing outcome or predictor are removed listwise and *reported*: the
``Design`` records which rows went and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError, Problem, did_you_mean
from myorisk.modeling._collate import r_sorted

__all__ = ["Term", "Design", "build_design", "code_outcome", "MissingReport", "penalty_matrix"]


@dataclass(frozen=True)
class Term:
    """One predictor as it enters a model.

    Attributes
    ----------
    name : str
        Column name in the data.
    kind : {"numeric", "categorical", "rcs", "interaction"}
        Numeric predictors enter as one column; categorical ones as one dummy per non-reference
        level; a restricted cubic spline as x and its k − 2 nonlinear terms (rms ``rcs``); an
        interaction as the products of its two parents' columns (rms leaves out the products of two
        nonlinear terms).
    levels : tuple of str
        Categorical only: every level, the reference first.
    columns : tuple of str
        Names of this term's design columns as rms prints them (``x``, ``x=level``, ``x'``,
        ``sex=male * x``).
    knots : tuple of float
        Spline only: the knots, fixed from the development data.
    parents : tuple of Term
        Interaction only: the two main-effect terms it multiplies (``name`` is ``"a * b"``).
    restricted : bool
        Interaction only: rms ``%ia%`` (no product of two nonlinear terms) rather than ``*``.
    """

    name: str
    kind: str
    levels: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    knots: tuple[float, ...] = ()
    parents: tuple[Term, ...] = ()
    restricted: bool = False

    @property
    def variables(self) -> tuple[str, ...]:
        """The data columns this term reads."""
        return tuple(p.name for p in self.parents) if self.kind == "interaction" else (self.name,)

    @property
    def nonlinear(self) -> tuple[bool, ...]:
        """Per design column: is it a nonlinear term (a spline's x', x'', … or a product with one)?"""
        if self.kind == "rcs":
            return (False,) + (True,) * (len(self.columns) - 1)
        if self.kind == "interaction":
            return tuple(a or b for a, b in _pairs(self.parents[0].nonlinear, self.parents[1].nonlinear,
                                                   self.restricted))
        return (False,) * len(self.columns)

    def encode_frame(self, data: pd.DataFrame, source: str = "data") -> np.ndarray:
        """Design columns of this term from the data frame (no missing values allowed)."""
        if self.kind != "interaction":
            return self.encode(data[self.name], source)
        a = self.parents[0].encode(data[self.parents[0].name], source)
        b = self.parents[1].encode(data[self.parents[1].name], source)
        return self._products(a, b, data.shape[0])

    def encode_clean(self, data: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Design columns from clean values: per variable, floats for a numeric term, level labels
        (text) for a categorical one — as :meth:`encode` reads them from a column, and as a
        validated web request gives them (no pandas)."""
        if self.kind != "interaction":
            return self._encode_values(np.asarray(data[self.name]))
        a = self.parents[0]._encode_values(np.asarray(data[self.parents[0].name]))
        b = self.parents[1]._encode_values(np.asarray(data[self.parents[1].name]))
        return self._products(a, b, n)

    def _products(self, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        idx = _pair_index(self.parents[0].nonlinear, self.parents[1].nonlinear, self.restricted)
        if not idx:
            return np.zeros((n, 0))
        return np.column_stack([a[:, i] * b[:, j] for i, j in idx])

    @property
    def reference(self) -> str | None:
        """The reference level of a categorical term."""
        return self.levels[0] if self.kind == "categorical" and self.levels else None

    def encode(self, values: pd.Series, source: str = "data") -> np.ndarray:
        """Design columns of this term for ``values`` (no missing values allowed)."""
        if self.kind == "interaction":
            raise TypeError("an interaction term is encoded from the data frame: use encode_frame")
        return self._encode_values(self.clean_values(values, source))

    def clean_values(self, values: pd.Series, source: str = "data") -> np.ndarray:
        """A column as this (non-interaction) term reads it: floats for a numeric or spline term,
        level labels for a categorical one (an unknown level is refused, naming its row)."""
        if self.kind in ("numeric", "rcs"):
            return _as_numeric(values, self.name, source).to_numpy(dtype=float)
        labels = _labels(values)
        unknown = sorted(set(labels) - set(self.levels))
        if unknown:
            first = labels[labels.isin(unknown)].index[0]
            raise InputError(
                f"{source}: row {first}, column '{self.name}': level '{unknown[0]}' is not one of the "
                f"model's levels ({', '.join(self.levels)})"
            )
        return labels.to_numpy(dtype=object)

    def _encode_values(self, values: np.ndarray) -> np.ndarray:
        if self.kind == "numeric":
            return values.astype(float)[:, None]
        if self.kind == "rcs":
            from myorisk.modeling.terms import rcs_basis

            return rcs_basis(values.astype(float), self.knots)
        if self.kind == "interaction":
            raise TypeError("an interaction term is encoded from its parents: use encode_clean")
        unknown = sorted(set(values.tolist()) - set(self.levels))
        if unknown:
            raise InputError(f"column '{self.name}': level '{unknown[0]}' is not one of the model's "
                             f"levels ({', '.join(self.levels)})")
        return np.column_stack([(values == lev).astype(float) for lev in self.levels[1:]]) \
            if len(self.levels) > 1 else np.zeros((len(values), 0))

    def to_dict(self) -> dict:
        """JSON-ready description of the term."""
        d: dict = {"name": self.name, "kind": self.kind, "columns": list(self.columns)}
        if self.kind == "categorical":
            d["levels"] = list(self.levels)
            d["reference"] = self.reference
        if self.kind == "rcs":
            d["knots"] = [float(k) for k in self.knots]
        if self.kind == "interaction":
            d["parents"] = [p.to_dict() for p in self.parents]
            d["restricted"] = self.restricted
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Term:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(d["name"]),
            kind=str(d["kind"]),
            levels=tuple(str(v) for v in d.get("levels", ())),
            columns=tuple(str(c) for c in d.get("columns", (d["name"],))),
            knots=tuple(float(k) for k in d.get("knots", ())),
            parents=tuple(Term.from_dict(p) for p in d.get("parents", ())),
            restricted=bool(d.get("restricted", False)),
        )


def _pair_index(nl_a: Sequence[bool], nl_b: Sequence[bool], restricted: bool = False
                ) -> list[tuple[int, int]]:
    """Column pairs (i of a, j of b) of an interaction, in rms' order.

    ``a * b`` (R's ``*``): every product, b's columns outermost. ``a %ia% b`` (restricted): the linear
    × linear product, then a's linear part times b's nonlinear terms, then a's nonlinear terms times
    b's linear part; no product of two nonlinear terms.
    """
    if not restricted:
        return [(i, j) for j in range(len(nl_b)) for i in range(len(nl_a))]
    lin_a = [i for i in range(len(nl_a)) if not nl_a[i]]
    lin_b = [j for j in range(len(nl_b)) if not nl_b[j]]
    out = [(i, j) for j in lin_b for i in lin_a]
    out += [(i, j) for i in lin_a for j in range(len(nl_b)) if nl_b[j]]
    out += [(i, j) for i in range(len(nl_a)) if nl_a[i] for j in lin_b]
    return out


def _pairs(nl_a: Sequence[bool], nl_b: Sequence[bool], restricted: bool = False
           ) -> list[tuple[bool, bool]]:
    return [(nl_a[i], nl_b[j]) for i, j in _pair_index(nl_a, nl_b, restricted)]


@dataclass(frozen=True)
class MissingReport:
    """Rows removed because of missing values (listwise deletion).

    Attributes
    ----------
    n_rows : int
        Rows in the data before removal.
    n_dropped : int
        Rows removed.
    by_column : dict
        Column → number of missing values among the variables used.
    rows : tuple
        Row labels (as the user counts rows in their file) of the removed rows.
    """

    n_rows: int
    n_dropped: int
    by_column: dict = field(default_factory=dict)
    rows: tuple = ()

    def message(self) -> str | None:
        """One sentence describing the removal, or None when nothing was removed."""
        if not self.n_dropped:
            return None
        cols = ", ".join(f"'{c}' {k}" for c, k in self.by_column.items() if k)
        shown = ", ".join(str(r) for r in self.rows[:10]) + (" …" if len(self.rows) > 10 else "")
        return (
            f"{self.n_dropped} of {self.n_rows} rows with missing values were excluded (listwise "
            f"deletion; missing: {cols}; rows {shown})"
        )

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "n_rows": self.n_rows,
            "n_dropped": self.n_dropped,
            "by_column": {k: int(v) for k, v in self.by_column.items()},
            "rows": [_jsonable(r) for r in self.rows],
        }


@dataclass(frozen=True)
class Design:
    """A design matrix ready for fitting.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Intercept column first, then each term's columns.
    y : ndarray of shape (n,)
        Outcome coded 0/1 (1 = event).
    columns : tuple of str
        Column names, ``"Intercept"`` first.
    terms : tuple of Term
    outcome : str
        Outcome column name.
    event : str
        The outcome value coded 1, as text.
    rows : pandas.Index
        Row labels used.
    missing : MissingReport
    notes : tuple of str
        Things the user should know (e.g. which value of a 1/2-coded outcome is the event).
    """

    X: np.ndarray
    y: np.ndarray
    columns: tuple[str, ...]
    terms: tuple[Term, ...]
    outcome: str
    event: str
    rows: pd.Index
    missing: MissingReport
    notes: tuple[str, ...] = ()

    def term_slices(self) -> list[slice]:
        """Slice of ``X``'s columns belonging to each term."""
        out, start = [], 1
        for t in self.terms:
            out.append(slice(start, start + len(t.columns)))
            start += len(t.columns)
        return out


def _jsonable(v: object) -> object:
    return _clean(v)


def _level_label(v: object) -> str:
    """Text form of a category value (1.0 → '1', True → 'True')."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _labels(s: pd.Series) -> pd.Series:
    """Text labels of a column's values (each distinct value converted once)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    names = np.array([_level_label(u) for u in uniques] + [""], dtype=object)
    return pd.Series(names[codes], index=s.index, dtype=object)


def _is_missing(s: pd.Series) -> pd.Series:
    miss = s.isna()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        miss = miss | s.astype("string").str.strip().fillna("").eq("")
    return miss


def _as_numeric(s: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float)
    conv = pd.to_numeric(s.astype("string").str.strip(), errors="coerce")
    bad = conv.isna() & ~_is_missing(s)
    if bad.any():
        raise InputError(problems=[Problem(source, r, name, s[r], "is not a number")
                                   for r in s.index[bad.to_numpy()]])
    return conv.astype(float)


def _looks_numeric_with_typos(s: pd.Series) -> bool:
    """A text column most of whose values are numbers: a numeric column with bad cells."""
    vals = s[~_is_missing(s)].astype("string").str.strip()
    if vals.empty:
        return False
    conv = pd.to_numeric(vals, errors="coerce")
    return bool(conv.notna().mean() >= 0.5)


def code_outcome(
    y: pd.Series, *, event: str | None = None, name: str = "outcome", source: str = "data"
) -> tuple[np.ndarray, str]:
    """Code a two-valued outcome as 0/1.

    Numeric 0/1 and booleans keep their coding (1/True = event). Any other pair of values is
    ordered as R orders factor levels (sorted) and the second is the event, unless ``event`` names it.

    Returns
    -------
    y01 : ndarray of float
    event : str
        The value coded 1, as text.
    """
    vals = y.dropna()
    labels = _labels(vals)
    uniq = r_sorted(labels)
    if len(uniq) > 2:
        shown = ", ".join(uniq[:6]) + (" …" if len(uniq) > 6 else "")
        # the row of the value least often seen: the likely typo
        counts = labels.value_counts()
        rare = str(counts.idxmin())
        row = labels.index[(labels == rare).to_numpy()][0]
        raise InputError(
            f"{source}: outcome '{name}' has {len(uniq)} distinct values ({shown}); a binary outcome "
            f"needs exactly 2 (the rarest, '{rare}', is at row {row})"
        )
    if len(uniq) < 2:
        only = uniq[0] if uniq else "none"
        raise InputError(
            f"{source}: outcome '{name}' takes a single value ({only}) in all {len(vals)} rows: "
            "a model needs both events and non-events"
        )
    if event is None:
        event = "1" if set(uniq) == {"0", "1"} else ("True" if set(uniq) == {"False", "True"} else uniq[1])
    elif str(event) not in uniq:
        raise InputError(
            f"{source}: event value '{event}' does not occur in outcome '{name}' (values: {', '.join(uniq)})"
        )
    return (labels == str(event)).to_numpy(dtype=float), str(event)


def outcome_coding_note(y: pd.Series, event: str | None, chosen: str, name: str) -> str | None:
    """A note saying which value is the event when numbers other than 0/1 code the outcome.

    With ``event`` not given, a 1/2 (or any two-number) coding takes the larger value as the
    event, as R orders factor levels; the note says so and how to choose the other value.
    """
    if event is not None:
        return None
    vals = y.dropna()
    if not (pd.api.types.is_numeric_dtype(vals.dtype) and not pd.api.types.is_bool_dtype(vals.dtype)):
        return None
    uniq = r_sorted(_labels(vals))
    if len(uniq) != 2 or set(uniq) == {"0", "1"}:
        return None
    other = uniq[0] if chosen == uniq[1] else uniq[1]
    return (f"outcome '{name}' is coded {uniq[0]}/{uniq[1]}: {chosen} counts as the event (as R orders "
            f"the values); if {other} is the event, say so (--event {other})")


def build_design(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    source: str = "data",
) -> Design:
    """Build the design matrix of a logistic model.

    Parameters
    ----------
    data : DataFrame
        One row per patient; the index labels rows in messages (file line numbers when read by
        myorisk's readers).
    outcome : str
        Binary outcome column.
    predictors : sequence of str
        Predictor columns, in model order.
    categorical : sequence of str, optional
        Columns to treat as categorical even when numeric. Text columns are categorical anyway.
    reference : mapping, optional
        Reference level per categorical column (default: the first level in sorted order).
    event : str, optional
        Outcome value that counts as the event (default: 1, True, or the second sorted value).
    source : str
        Name of the data (file name) used in messages.

    Raises
    ------
    InputError
        Missing columns, a text value in a numeric column, an outcome without exactly two values.
    """
    from myorisk.modeling.terms import parse_terms, rcs_knots

    items = [str(p).strip() for p in predictors]
    dup = sorted({p for p in items if items.count(p) > 1})
    if dup:
        raise InputError(f"predictor {dup[0]!r} is listed twice")
    exprs = parse_terms(items)
    predictors = list(dict.fromkeys(v for e in exprs for v in e.variables))
    categorical = set(categorical or ())
    reference = dict(reference or {})
    missing_cols = [c for c in [outcome, *predictors] if c not in data.columns]
    if missing_cols:
        raise InputError(
            f"{source}: column{'s' if len(missing_cols) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing_cols)} not found (columns are: "
            f"{', '.join(map(str, data.columns[:20]))}{' …' if len(data.columns) > 20 else ''})"
            + did_you_mean(missing_cols[0], list(data.columns)),
            problems=[Problem(source, None, c, None, "not found") for c in missing_cols],
        )
    if outcome in predictors:
        raise InputError(f"the outcome {outcome!r} is also listed as a predictor")
    unknown_ref = [k for k in reference if k not in predictors]
    if unknown_ref:
        raise InputError(f"reference level given for {unknown_ref[0]!r}, which is not a predictor")
    if data.shape[0] == 0:
        raise InputError(f"{source}: no data rows")

    kinds: dict[str, str] = {}
    for p in predictors:
        s = data[p]
        if p in categorical:
            kinds[p] = "categorical"
        elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            kinds[p] = "numeric"
        elif _looks_numeric_with_typos(s):
            _as_numeric(s, p, source)  # raises with the bad cells named
            kinds[p] = "numeric"
        else:
            kinds[p] = "categorical"
        if p in reference and kinds[p] != "categorical":
            raise InputError(
                f"reference level given for {p!r}, which is numeric (declare it categorical)"
            )
    for e in exprs:
        if e.kind == "rcs" and kinds[e.name] != "numeric":
            raise InputError(f"rcs({e.name}): a spline needs a numeric column, and '{e.name}' is categorical")

    used = [outcome, *predictors]
    miss = pd.DataFrame({c: _is_missing(data[c]) for c in used})
    empty = [c for c in used if len(data) and miss[c].all()]
    if empty:
        raise InputError(
            f"{source}: column{'s' if len(empty) > 1 else ''} {', '.join(repr(c) for c in empty)} "
            f"{'are' if len(empty) > 1 else 'is'} 100% missing (no value in any of the {len(data)} rows)",
            problems=[Problem(source, None, c, None, "is 100% missing") for c in empty])
    drop = miss.any(axis=1)
    report = MissingReport(
        n_rows=int(data.shape[0]),
        n_dropped=int(drop.sum()),
        by_column={c: int(miss[c].sum()) for c in used if miss[c].any()},
        rows=tuple(_jsonable(r) for r in data.index[drop]),
    )
    d = data.loc[~drop.to_numpy(), used]
    if d.shape[0] == 0:
        raise InputError(f"{source}: every row has a missing value in {', '.join(used)}")
    y, ev = code_outcome(d[outcome], event=event, name=outcome, source=source)
    note = outcome_coding_note(d[outcome], event, ev, outcome)

    mains: dict[str, Term] = {}
    terms: list[Term] = []
    blocks = [np.ones((d.shape[0], 1))]
    for e in exprs:
        p = e.name
        if e.kind == "interaction":
            a, b = (mains[v] for v in e.parents)
            idx = _pair_index(a.nonlinear, b.nonlinear, e.restricted)
            t = Term(name=p, kind="interaction", parents=(a, b), restricted=e.restricted,
                     columns=tuple(f"{a.columns[i]} * {b.columns[j]}" for i, j in idx))
        elif e.kind == "rcs":
            # knots from every non-missing value of the column, as R evaluates rcs() in model.frame
            # before rows with missing values elsewhere are removed
            if e.knots:
                knots = e.knots
            else:
                try:
                    knots = rcs_knots(_as_numeric(data[p], p, source).to_numpy(dtype=float), e.nk or 5)
                except InputError as err:
                    raise InputError(f"{source}: column '{p}', rcs({p}, {e.nk or 5}): {err}") from None
            t = Term(name=p, kind="rcs", knots=tuple(knots),
                     columns=tuple(p + "'" * j for j in range(len(knots) - 1)))
        elif kinds[p] == "numeric":
            t = Term(name=p, kind="numeric", columns=(p,))
        else:
            labels = _labels(d[p])
            levels = r_sorted(labels)
            ref = reference.get(p)
            if ref is not None:
                ref = str(ref)
                if ref not in levels:
                    raise InputError(
                        f"{source}: reference level '{ref}' of '{p}' does not occur (levels: "
                        f"{', '.join(levels)})"
                    )
                levels = [ref] + [lv for lv in levels if lv != ref]
            t = Term(
                name=p,
                kind="categorical",
                levels=tuple(levels),
                columns=tuple(f"{p}={lv}" for lv in levels[1:]),
            )
        if e.kind != "interaction":
            mains[p] = t
        terms.append(t)
        blocks.append(t.encode_frame(d, source))
    X = np.hstack(blocks)
    return Design(
        X=X,
        y=y,
        columns=("Intercept", *[c for t in terms for c in t.columns]),
        terms=tuple(terms),
        outcome=outcome,
        event=ev,
        rows=d.index,
        missing=report,
        notes=(note,) if note else (),
    )


def penalty_matrix(design: Design) -> np.ndarray:
    """rms' default penalty matrix (``Penalty.matrix``), with a zero row and column for the intercept.

    Each design column is penalised by its variance (divisor n − 1), which makes the penalty
    invariant to the predictors' units; a categorical predictor's dummies get the block
    ``I − 1/(L + 1)`` (L dummies), which penalises differences between every pair of levels
    alike, the reference included.
    """
    X = design.X[:, 1:]
    k = X.shape[1]
    pen = np.zeros((k + 1, k + 1))
    if k == 0:
        return pen
    v = np.var(X, axis=0, ddof=1)
    block = np.diag(v)
    for t, sl in zip(design.terms, design.term_slices(), strict=True):
        if t.kind == "categorical":
            a, b = sl.start - 1, sl.stop - 1
            m = b - a
            block[a:b, a:b] = np.eye(m) - 1.0 / (m + 1)
    pen[1:, 1:] = block
    return pen


def clean_columns(terms: Sequence[Term], data: pd.DataFrame, source: str = "data") -> dict[str, np.ndarray]:
    """Each variable the ``terms`` read, as they read it (:meth:`Term.clean_values`); a missing
    column or value is refused, naming the row."""
    missing_cols = [v for t in terms for v in t.variables if v not in data.columns]
    if missing_cols:
        raise InputError(f"{source}: column '{missing_cols[0]}' needed by the model is not in the data")
    out: dict[str, np.ndarray] = {}
    for t in terms:
        for base in (t.parents if t.kind == "interaction" else (t,)):
            if base.name in out:
                continue
            miss = _is_missing(data[base.name])
            if miss.any():
                raise InputError(
                    f"{source}: row {data.index[miss.to_numpy()][0]}, column '{base.name}': value is missing"
                )
            out[base.name] = base.clean_values(data[base.name], source)
    return out


def encode_clean(terms: Sequence[Term], data: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Design matrix (intercept first) from clean values (see :meth:`Term.encode_clean`)."""
    return np.hstack([np.ones((n, 1))] + [t.encode_clean(data, n) for t in terms])


def encode_new(terms: Sequence[Term], data: pd.DataFrame, source: str = "data") -> np.ndarray:
    """Design matrix (intercept first) of new data under fitted ``terms``; no missing values allowed."""
    return encode_clean(terms, clean_columns(terms, data, source), data.shape[0])
