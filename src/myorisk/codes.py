"""One vocabulary of accepted codes: the words read as yes/no and as level names, everywhere.

Every face and every layer that reads a 0/1 variable or a category reads it through a
:class:`Vocabulary`: the cohort check (``check``, ``derive``, ``criteria``, ``tis``), the
general commands (``fit``, ``univariate``, ``study``...), model prediction (``predict``, the web
calculator, the batch upload). The default, :data:`DEFAULT`, accepts

* yes/no: ``1``/``0``, ``yes``/``no``, ``y``/``n``, ``true``/``false``, ``t``/``f``,
  ``present``/``absent``, ``positive``/``negative``, ``pos``/``neg`` and the Chinese
  是/否, 有/无, 阳性/阴性 (any case, spaces trimmed);
* level synonyms: ``male`` for ``m``, ``man``, ``男``; ``female`` for ``f``, ``woman``, ``女``
  (any case) — a level is also always accepted as written in any case.

A mapping file adds localised words (``codes:`` block, see :meth:`Vocabulary.extended`)::

    codes:
      yes: [ja, oui, sí]
      no: [nein, non]
      male: [Mann, homme]
      female: [Frau, femme]

It sits in the base layer (next to :mod:`myorisk.errors`) because the engine's model specs
(:mod:`myorisk.modeling.spec`) read yes/no values too and imports only point down.
"""

from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT", "FALSE_WORDS", "TRUE_WORDS", "Vocabulary", "fold"]

#: Words read as 1 (after :func:`fold`).
TRUE_WORDS = frozenset({"1", "1.0", "yes", "y", "true", "t", "present", "positive", "pos",
                        "是", "有", "阳性"})
#: Words read as 0 (after :func:`fold`).
FALSE_WORDS = frozenset({"0", "0.0", "no", "n", "false", "f", "absent", "negative", "neg",
                         "否", "无", "阴性"})
#: Other words accepted for a level name (keys and words after :func:`fold`).
LEVEL_SYNONYMS: dict[str, frozenset[str]] = {
    "male": frozenset({"m", "man", "men", "masculine", "男", "男性"}),
    "female": frozenset({"f", "woman", "women", "feminine", "女", "女性"}),
}


def fold(value: object) -> str:
    """Comparison form of a cell: text, trimmed, NFC, lower case (``1.0`` -> ``"1"``)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        try:
            return fold(value.item())  # type: ignore[union-attr]
        except (TypeError, ValueError):
            pass
    return unicodedata.normalize("NFC", str(value)).strip().lower()


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    pd = sys.modules.get("pandas")  # pd.NA / pd.NaT exist only once pandas is imported
    return pd is not None and (value is pd.NA or value is pd.NaT)


@dataclass(frozen=True)
class Vocabulary:
    """Accepted words for yes/no values and level names.

    Parameters
    ----------
    true_words, false_words : frozenset of str
        Folded words read as 1 and 0.
    synonyms : dict of str to frozenset of str
        Folded level name -> other folded words accepted for it.
    source : str
        Where the additions came from (for messages).
    """

    true_words: frozenset[str] = TRUE_WORDS
    false_words: frozenset[str] = FALSE_WORDS
    synonyms: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(LEVEL_SYNONYMS))
    source: str = "built-in"

    def binary(self, value: object) -> float | None:
        """1.0 or 0.0 for an accepted yes/no value, NaN when missing, None when not accepted."""
        if _missing(value):
            return float("nan")
        if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
            return float(value)
        t = fold(value)
        if t in self.true_words:
            return 1.0
        if t in self.false_words:
            return 0.0
        return None

    def level(self, value: object, levels: Sequence[str]) -> str | None:
        """The level of ``levels`` that ``value`` names (any case, or a synonym), else None."""
        t = fold(value)
        for lv in levels:
            if fold(lv) == t:
                return lv
        for lv in levels:
            if t in self.synonyms.get(fold(lv), ()):
                return lv
        return None

    def words_for(self, level: str) -> tuple[str, ...]:
        """Every accepted word for a level (itself first)."""
        return (level, *sorted(self.synonyms.get(fold(level), ())))

    def extended(self, codes: Mapping[str, object], source: str = "mapping") -> Vocabulary:
        """A copy with the words of a mapping file's ``codes:`` block added.

        Parameters
        ----------
        codes : mapping
            ``{"yes": [...], "no": [...], "<level>": [...]}``; a single word may be given as a
            string. ``yes``/``true``/``1`` add yes-words, ``no``/``false``/``0`` no-words, any
            other key adds synonyms of that level name.
        source : str
            Name for messages.
        """
        from myorisk.errors import InputError

        if not isinstance(codes, Mapping):
            raise InputError(f"{source}: 'codes' must map yes, no or a level name to a list of "
                             f"words, e.g. codes: {{yes: [ja, oui], male: [Mann, homme]}}")
        true, false = set(self.true_words), set(self.false_words)
        syn = {k: set(v) for k, v in self.synonyms.items()}
        for key, words in codes.items():
            ws = [words] if isinstance(words, str | int | float) else words
            if not isinstance(ws, Iterable):
                raise InputError(f"{source}: codes of '{key}' must be a list of words")
            folded = {fold(w) for w in ws if not _missing(w) and fold(w)}
            k = fold(key)
            if k in ("yes", "true", "1"):
                clash = folded & false
                true |= folded
            elif k in ("no", "false", "0"):
                clash = folded & true
                false |= folded
            else:
                clash = set()
                syn.setdefault(k, set()).update(folded)
            if clash:
                raise InputError(f"{source}: codes: {', '.join(sorted(clash))} cannot mean both "
                                 f"yes and no")
        return Vocabulary(frozenset(true), frozenset(false),
                          {k: frozenset(v) for k, v in syn.items()}, source)


#: The built-in vocabulary.
DEFAULT = Vocabulary()


def _plan(values: list[object], vocab: Vocabulary) -> tuple[str, dict] | None:
    """What :func:`harmonise` does to a text column with these (non-missing) values: ``("level",
    value → level name)``, ``("binary", value → 0/1)``, or None (left as it is)."""
    if not values:
        return None
    uniq = list(dict.fromkeys(values))
    if len(uniq) > 20:
        return None
    levels = list(vocab.synonyms)
    named = [vocab.level(v, levels) for v in uniq]
    if all(n is not None for n in named):  # level words first: a column of "F" is female
        if any(str(v) != n for v, n in zip(uniq, named, strict=True)):
            return "level", dict(zip(uniq, named, strict=True))
        return None
    bins = [vocab.binary(v) for v in uniq]
    if all(b is not None for b in bins):
        lut = dict(zip(uniq, bins, strict=True))
        if len(uniq) == 2 and sorted(bins) == [0.0, 1.0]:
            yes = next(v for v in uniq if lut[v] == 1.0)
            no = next(v for v in uniq if lut[v] == 0.0)
            if fold(no) < fold(yes):  # the yes word is R's second level already: keep the
                return None           # user's labels (an outcome's event is the yes word)
        return "binary", lut
    return None


def harmonises(columns: object, codes: Vocabulary | None = None) -> list[str]:
    """Names of the text columns of a light table (:class:`myorisk.modeling.columns.Columns`)
    that :func:`harmonise` would rewrite (the same rule, without pandas)."""
    vocab = codes or DEFAULT
    return [n for n, a in zip(columns.names, columns.arrays, strict=True)  # type: ignore[attr-defined]
            if a.dtype == object and _plan([v for v in a if v is not None], vocab) is not None]


def harmonise(df: object, codes: Vocabulary | None = None) -> object:
    """Write accepted words in their one form, column by column, where a whole column agrees.

    A text column whose every value is a yes/no word becomes 0/1 integers (``Int64`` when some
    are missing) unless it holds exactly one yes and one no word and the yes word already sorts
    second (``No``/``Yes``, ``neg``/``pos``, ``否``/``是``): those keep the user's labels, and R's
    default event is the yes word either way. So ``阴性``/``阳性`` (which sort the other way),
    mixed spellings (``yes``, ``Y``, ``pos``) and a mapping's words (``ja``/``nein``) become 0/1,
    and a default event or reference level never lands on the wrong word. A text column whose
    every value names a level with synonyms (``M``/``F``, ``Male``, ``男``/``女``) is written with
    the level names (``male``/``female``). Any other column is left as it is, so nothing is
    guessed from part of a column. The names of the changed columns are in
    ``result.attrs["harmonised"]``.

    Parameters
    ----------
    df : pandas.DataFrame
        Table as read.
    codes : Vocabulary, optional
        Default :data:`DEFAULT` (a mapping file's vocabulary adds its words).

    Returns
    -------
    pandas.DataFrame
        A copy (or ``df`` itself when nothing changes).
    """
    import pandas as pd

    vocab = codes or DEFAULT
    assert isinstance(df, pd.DataFrame)
    changed: dict[str, object] = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        plan = _plan(s.dropna().tolist(), vocab)
        if plan is None:
            continue
        kind, lut = plan
        if kind == "level":
            changed[col] = pd.Series([None if _missing(v) else lut[v] for v in s],
                                     index=s.index, dtype="str")
        else:
            arr = pd.array([pd.NA if _missing(v) else int(lut[v]) for v in s], dtype="Int64")
            changed[col] = pd.Series(arr if s.isna().any() else arr.astype("int64"),
                                     index=s.index)
    if not changed:
        return df
    out = df.copy()
    for col, v in changed.items():
        out[col] = v
    out.attrs["harmonised"] = list(changed)
    return out
