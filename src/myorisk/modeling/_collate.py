"""Level order as R's ``factor()`` gives it.

R sorts the distinct values of a character vector with the collation of its locale. R on Debian
is built with ICU, which it uses in every locale except ``C``/``POSIX`` (so also under
``C.UTF-8``): the Unicode Collation Algorithm with the root order, where punctuation and symbols
come before digits, digits before letters, letters compare without case first and lower case
wins ties (``'<30' < '>=50' < '30-49'``, ``'no' < 'Yes'``, ``'b' < 'B'``). Numeric columns sort
by value. myorisk does the same, so a default reference level and a default event are the ones a
plain ``glm``/``lrm`` call would choose. The collation keys come from :mod:`pyuca` (the DUCET
table, identical to ICU's root order for the characters data files hold); it is loaded on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

__all__ = ["r_sorted"]


@lru_cache(maxsize=1)
def _collator():
    from pyuca import Collator

    return Collator()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def r_sorted(labels: Iterable[str]) -> list[str]:
    """Distinct text labels in R's ``sort(unique(x))`` order.

    All labels numeric (the text of a numeric column): by value, as R sorts a numeric vector.
    Otherwise: by the Unicode collation (ICU root), as R sorts a character vector; labels that
    collate equal keep code-point order.
    """
    uniq = sorted(set(labels))
    nums = [_number(u) for u in uniq]
    if all(n is not None for n in nums):
        return [u for _, u in sorted(zip(nums, uniq, strict=True))]
    if all(u.isascii() and u.isalpha() and (u.islower() or u.isupper()) for u in uniq) and \
            len({u.islower() for u in uniq}) == 1:
        return uniq  # single-case letters only: code-point order is the collation order
    key = _collator().sort_key
    return sorted(uniq, key=lambda u: (key(u), u))
