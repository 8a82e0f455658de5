"""Model terms in R's notation: ``x``, ``rcs(x, 4)``, ``rcs(x, knots=[a, b, c])``, ``a*b``, ``a:b``,
``a %ia% b``.

A predictor list such as ``["age", "rcs(msuvmax, 4)", "sex*msuvmax"]`` is parsed into
:class:`TermExpr` objects, one per model term, in the order rms puts them: every main effect in order
of first appearance, then the interactions. ``a*b`` adds ``a``, ``b`` and ``a:b`` (every product of
their columns, as R's ``*``); ``a %ia% b`` adds the main effects and rms' restricted interaction (no
product of two nonlinear spline terms); a variable that
appears both plainly and inside ``rcs()`` enters once, as the spline (rms does the same when a formula
names ``rcs(x, 4) * sex``).

Restricted cubic splines follow Harrell (Hmisc ``rcspline.eval`` with ``norm=2``, as rms ``rcs``):
default knots at the quantiles (R type 7) of the non-missing values at

====== ==============================================
knots  quantiles
====== ==============================================
3      .10 .50 .90
4      .05 .35 .65 .95
5      .05 .275 .50 .725 .95
6      .05 .23 .41 .59 .77 .95
7      .025 .1833 .3417 .50 .6583 .8167 .975
====== ==============================================

(equally spaced between the outer ones); with fewer than 100 values the outer knots move to the 5th
smallest and 5th largest value. The basis for knots t1 < … < tk is x and, for j = 1 … k − 2,
``((x − tj)+³ − (x − t(k−1))+³ (tk − tj)/(tk − t(k−1)) + (x − tk)+³ (t(k−1) − tj)/(tk − t(k−1))) / (tk − t1)²``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myorisk.errors import InputError

__all__ = ["TermExpr", "parse_terms", "split_terms", "rcs_knots", "rcs_basis", "is_expression"]

_RCS = re.compile(r"^rcs\(\s*([^,()\[\]]+?)\s*(?:,\s*(.+?))?\s*\)$", re.IGNORECASE)
_NAME = re.compile(r"^[^*:(),\[\]=]+$")


@dataclass(frozen=True)
class TermExpr:
    """One parsed model term.

    Attributes
    ----------
    kind : {"var", "rcs", "interaction"}
        A plain variable (numeric or categorical, decided by the data), a restricted cubic spline, or
        the product of two main-effect terms.
    name : str
        The variable (``var``/``rcs``), or ``"a * b"`` for an interaction (rms' factor name).
    nk : int or None
        Number of knots asked for (``rcs(x, 4)``).
    knots : tuple of float
        Knots given explicitly (``rcs(x, knots=[…])``).
    parents : tuple of str
        For an interaction, the two variables it multiplies.
    restricted : bool
        ``a %ia% b``: rms' restricted interaction (no product of two nonlinear terms).
    """

    kind: str
    name: str
    nk: int | None = None
    knots: tuple[float, ...] = ()
    parents: tuple[str, ...] = ()
    restricted: bool = False

    @property
    def variables(self) -> tuple[str, ...]:
        """Data columns the term reads."""
        return self.parents if self.kind == "interaction" else (self.name,)


def split_terms(text: str) -> list[str]:
    """Split a comma-separated predictor list at the commas outside parentheses and brackets."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return [t for t in out if t]


def is_expression(item: str) -> bool:
    """True when ``item`` is more than a plain column name (a spline or an interaction)."""
    s = item.strip()
    return bool(_RCS.match(s)) or "*" in s or ":" in s or "%ia%" in s


def _main(text: str) -> TermExpr:
    s = text.strip()
    m = _RCS.match(s)
    if m:
        var, arg = m.group(1).strip(), m.group(2)
        if not _NAME.match(var):
            raise InputError(f"rcs(): '{var}' is not a column name")
        if arg is None:
            return TermExpr("rcs", var, nk=5)
        arg = arg.strip()
        body = re.sub(r"^knots\s*=\s*", "", arg, flags=re.IGNORECASE)
        if body != arg or body.startswith(("[", "c(")) or "," in body:
            body = re.sub(r"^(\[|c\()|(\]|\))$", "", body.strip()).strip()
            body = re.sub(r"\]$|\)$", "", body).strip()
            try:
                knots = tuple(float(v) for v in body.replace(" ", "").split(",") if v != "")
            except ValueError:
                raise InputError(f"{s}: knots must be numbers, e.g. rcs({var}, knots=[1, 2, 3])") from None
            if len(knots) < 3:
                raise InputError(f"{s}: a restricted cubic spline needs at least 3 knots")
            if any(b <= a for a, b in zip(knots, knots[1:], strict=False)):
                raise InputError(f"{s}: knots must be strictly increasing")
            return TermExpr("rcs", var, knots=knots)
        try:
            nk = int(arg)
        except ValueError:
            raise InputError(f"{s}: give the number of knots (3 to 7), e.g. rcs({var}, 4)") from None
        if not 3 <= nk <= 7:
            raise InputError(f"{s}: the number of knots must be between 3 and 7 (Harrell's defaults)")
        return TermExpr("rcs", var, nk=nk)
    if "(" in s or ")" in s:
        raise InputError(f"'{s}': only rcs(x, k) is understood as a function of a column")
    if not _NAME.match(s):
        raise InputError(f"'{s}' is not a column name")
    return TermExpr("var", s)


def parse_terms(items: Sequence[str]) -> list[TermExpr]:
    """Parse predictor items into model terms, main effects first, then interactions.

    Parameters
    ----------
    items : sequence of str
        Each a column name, ``rcs(x, k)``, ``rcs(x, knots=[…])``, ``a*b`` or ``a:b`` (``a`` and ``b``
        themselves plain columns or splines).

    Returns
    -------
    list of TermExpr

    Raises
    ------
    InputError
        Unreadable syntax, a variable given with two different forms, an interaction of more than two
        factors, a term listed twice.
    """
    mains: dict[str, TermExpr] = {}
    inter: list[TermExpr] = []

    def add_main(t: TermExpr) -> None:
        old = mains.get(t.name)
        if old is None or old == t:
            mains[t.name] = t
        elif old.kind == "var" and t.kind == "rcs":
            mains[t.name] = t  # x and rcs(x, k): the spline
        elif old.kind == "rcs" and t.kind == "var":
            pass
        else:
            raise InputError(f"'{t.name}' is given as two different splines")

    for raw in items:
        s = raw.strip()
        if not s:
            continue
        op = "%ia%" if "%ia%" in s else ("*" if "*" in s else (":" if ":" in s else None))
        if op is None:
            add_main(_main(s))
            continue
        parts = [p.strip() for p in s.split(op)]
        if len(parts) != 2 or not all(parts) or any(("*" in p or ":" in p) for p in parts):
            raise InputError(f"'{s}': interactions are between two terms (a*b or a:b)")
        a, b = _main(parts[0]), _main(parts[1])
        if a.name == b.name:
            raise InputError(f"'{s}': a variable cannot interact with itself")
        if op in ("*", "%ia%"):
            add_main(a)
            add_main(b)
        else:
            for t in (a, b):
                if t.kind == "rcs":
                    add_main(t)
        name = f"{a.name} * {b.name}"
        if any(set(t.parents) == {a.name, b.name} for t in inter):
            raise InputError(f"the interaction {a.name}:{b.name} is listed twice")
        inter.append(TermExpr("interaction", name, parents=(a.name, b.name), restricted=op == "%ia%"))
    for t in inter:
        for v in t.parents:
            if v not in mains:
                raise InputError(
                    f"the interaction '{t.name}' needs the main effect of '{v}' in the model "
                    f"(write {t.parents[0]}*{t.parents[1]} or add '{v}')"
                )
    return [*mains.values(), *inter]


def _quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's default ``quantile(type = 7)``."""
    return np.quantile(np.asarray(x, dtype=float), probs, method="linear")


def rcs_knots(x: np.ndarray, nk: int, fractied: float = 0.05) -> tuple[float, ...]:
    """Harrell's default knots for ``nk`` knots (Hmisc 4.8 ``rcspline.eval`` as rms ``rcs`` calls
    it, ``fractied = 0.05``), from non-missing ``x``.

    With at most ``nk + 2`` distinct values the knots are the interior distinct values (R warns).
    When every interior value holds less than ``fractied`` of the data but the smallest (largest)
    value holds at least that much (a variable piled up at a detection limit or at zero), the first
    (last) knot is the next distinct value and the remaining knots are placed on the values beyond it.

    Raises
    ------
    InputError
        Fewer than 6 values, or fewer than 3 distinct knots.
    """
    xx = np.asarray(x, dtype=float)
    xx = xx[~np.isnan(xx)]
    n = xx.size
    if n < 6:
        raise InputError("a restricted cubic spline needs at least 6 non-missing values")
    too_few = InputError(f"fewer than 3 distinct knots (the variable has {np.unique(xx).size} distinct "
                         "values); use it as a linear or categorical term")
    xu, counts = np.unique(xx, return_counts=True)
    nxu = xu.size
    first: list[float] = []
    last: list[float] = []
    if nxu - 2 <= nk:
        knots = xu[1:-1].astype(float)
    else:
        outer = 0.025 if nk > 6 else (0.05 if nk > 3 else 0.1)
        nke = nk
        over_first = over_last = False
        if 0 < fractied < 1:
            f = counts / n
            if f[1:-1].max() < fractied:
                if f[0] >= fractied:
                    first = [float(xx[xx > xx.min()].min())]
                    xx = xx[xx > first[0]]
                    nke -= 1
                    over_first = True
                if f[-1] >= fractied:
                    last = [float(xx[xx < xx.max()].max())]
                    xx = xx[xx < last[0]]
                    nke -= 1
                    over_last = True
        if nke == 1:
            knots = np.array([float(np.median(xx))])
        elif nxu <= nke:
            knots = xu.astype(float)
        else:
            probs = np.linspace(0.5 if nke == 2 else outer, 1.0 - outer, nke)
            knots = _quantile7(xx, probs)
            if np.unique(knots).size < min(nke, 3):
                knots = _quantile7(xx, np.linspace(outer, 1.0 - outer, 2 * nke))
                if first and np.unique(knots).size < 3:
                    mid = (first[0] + last[0]) / 2 if last else float(np.median(xx))
                    knots = np.sort(np.array([first[0], mid,
                                              last[0] if last else float(_quantile7(xx, np.array([1 - outer]))[0])]))
                if np.unique(knots).size < 3:
                    raise too_few
            if xx.size < 100:
                s = np.sort(xx)

                def put(i: int, v: float) -> None:  # R's knots[i] <- v, extending with NA
                    nonlocal knots
                    if i >= knots.size:
                        knots = np.concatenate([knots, np.full(i + 1 - knots.size, np.nan)])
                    knots[i] = v

                if not over_first:
                    put(0, s[4] if s.size > 4 else np.nan)
                if not over_last:
                    put(nke - 1, s[s.size - 5] if s.size > 4 else np.nan)
    out = np.unique(np.concatenate([first, knots, last]))
    out = out[~np.isnan(out)]
    if out.size < 3:
        raise too_few
    return tuple(float(k) for k in out)


def rcs_basis(x: np.ndarray, knots: Sequence[float]) -> np.ndarray:
    """Restricted cubic spline basis (x and its k − 2 nonlinear terms), rms ``rcs`` with ``norm=2``."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(knots, dtype=float)
    k = t.size
    kd = (t[-1] - t[0]) ** (2.0 / 3.0)
    tk, tk1 = t[-1], t[-2]
    cols = [x]
    for j in range(k - 2):
        cols.append(
            np.maximum((x - t[j]) / kd, 0.0) ** 3
            + ((tk1 - t[j]) * np.maximum((x - tk) / kd, 0.0) ** 3
               - (tk - t[j]) * np.maximum((x - tk1) / kd, 0.0) ** 3) / (tk - tk1)
        )
    return np.column_stack(cols)
