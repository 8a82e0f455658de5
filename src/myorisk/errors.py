"""Errors that reach users as one clear line (exit code 2 on the command line).

Bad input travels as :class:`Problem` objects (file, row, column, value, rule) from the readers,
the cohort schema and the model specs up to the face that words them; :class:`InputError`
carries one or more of them. No caller needs to parse a message: read ``error.problems``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ConvergenceWarning",
    "InputError",
    "ModelError",
    "MyoriskError",
    "Problem",
    "SmallSampleWarning",
    "did_you_mean",
    "word_problems",
]

#: Rows named in one grouped message before "…".
ROWS_SHOWN = 5


def _show(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Parameters
    ----------
    file : str or None
        File (or other source: ``--set``, ``stdin``, ``request``) the problem is in.
    row : object
        Row as the user counts it (line number in a CSV; None: the whole column or file).
    column : str or None
        Column (or variable, or option) concerned.
    value : object
        The offending value as read (None when not about one cell).
    rule : str
        What is wrong, worded to follow the value: ``"is not a number"``. When neither row,
        column nor value is known this is the whole message.
    """

    file: str | None = None
    row: object = None
    column: str | None = None
    value: object = None
    rule: str = ""

    def where(self) -> str:
        """``row 7, column 'age'`` (the parts that are known)."""
        parts = []
        if self.row is not None:
            parts.append(f"row {_show(self.row)}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def text(self, *, with_file: bool = True) -> str:
        """One line: ``"cohort.csv: row 7, column 'age': 'abc' is not a number"``."""
        where = self.where()
        val = "" if self.value is None else f"'{_show(self.value)}' "
        body = f"{where}: {val}{self.rule}" if where else f"{val}{self.rule}"
        if with_file and self.file:
            return f"{self.file}: {body}"
        return body

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{file, row, column, value, rule}``."""
        row = self.row
        if row is not None and not isinstance(row, int | str):
            try:
                row = int(row)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                row = str(row)
        return {"file": self.file, "row": row, "column": self.column,
                "value": None if self.value is None else _show(self.value), "rule": self.rule}


def word_problems(problems: Iterable[Problem], *, limit: int = ROWS_SHOWN) -> str:
    """Word problems as one line; a rule broken in many rows is said once, with the count.

    Problems that share file, column and rule are grouped: ``"data.csv: column 'sex': 'M' is
    not a known category (expected female, male) — in 64 rows (row 2: 'M', row 3: 'F', …)"``
    (``rows 2, 3, …`` when every value is the same). Groups are joined by ``"; "``; the file is
    named once when all share it.
    """
    ps = list(problems)
    if not ps:
        return ""
    groups: dict[tuple, list[Problem]] = {}
    for p in ps:
        groups.setdefault((p.file, p.column, p.rule), []).append(p)
    files = {p.file for p in ps}
    one_file = len(files) == 1 and None not in files
    parts = []
    for (file, column, rule), items in groups.items():
        if len(items) == 1:
            parts.append(items[0].text(with_file=not one_file))
            continue
        first = items[0]
        values = {_show(p.value) for p in items if p.value is not None}
        head = f"column '{column}': " if column is not None else ""
        val = f"'{_show(first.value)}' " if first.value is not None else ""
        more = " …" if len(items) > limit else ""
        if len(values) > 1:  # say which value is in which row
            shown = ", ".join(f"row {_show(p.row)}: '{_show(p.value)}'" for p in items[:limit])
        else:
            shown = "rows " + ", ".join(_show(p.row) for p in items[:limit] if p.row is not None)
        text = f"{head}{val}{rule} — in {len(items)} rows ({shown}{more})"
        if file and not one_file:
            text = f"{file}: {text}"
        parts.append(text)
    line = "; ".join(parts)
    return f"{ps[0].file}: {line}" if one_file else line


def did_you_mean(name: str, candidates: Sequence[object]) -> str:
    """``" (did you mean 'age'?)"`` when a candidate is close to ``name`` (difflib), else ``""``."""
    import difflib

    names = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.75)
    if not close:
        folded = {n.lower(): n for n in names}
        close = [folded[k] for k in difflib.get_close_matches(str(name).lower(), list(folded),
                                                               n=1, cutoff=0.75)]
    return f" (did you mean '{close[0]}'?)" if close else ""


class MyoriskError(Exception):
    """Base class of every error myorisk raises on purpose."""


class InputError(MyoriskError, ValueError):
    """Bad input: a file, a column, a value or an option breaks a rule.

    Shown to the user as a single line naming the file, row, column and rule wherever they
    are known.

    Parameters
    ----------
    message : str, optional
        The whole message (the historical form, ``InputError("data.csv: file is empty")``).
        Without it the message is worded from ``problems`` by :func:`word_problems`.
    problems : sequence of Problem, optional
        What is wrong, structured. A plain message becomes one ``Problem(rule=message)``.
    hint : str, optional
        How to fix it, appended to the line (e.g. a mapping-file example).
    option : (str, tuple of str), optional
        The keyword argument, and the values of it, that would accept the input
        (``("missing", ("absent", "skip"))``): a face words the fix as its own option.
    """

    def __init__(self, message: str | None = None, *, problems: Sequence[Problem] = (),
                 hint: str | None = None,
                 option: tuple[str, tuple[str, ...]] | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems) or (
            (Problem(rule=message),) if message is not None else ())
        self.hint = hint
        self.option = option
        self._bare = message
        text = message if message is not None else word_problems(self.problems)
        if hint:
            text = f"{text} — {hint}"
        super().__init__(text)

    def with_hint(self, hint: str | None) -> InputError:
        """The same problems with another way to fix them (e.g. in command-line words)."""
        return InputError(self._bare, problems=self.problems, hint=hint)

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self.args[0]) if self.args else ""

    def with_file(self, file: str, *, replace: bool = False) -> InputError:
        """The same error with ``file`` named in the problems that lack one (or, with
        ``replace``, in every problem: an engine function's name becomes the user's file or
        command). The message is worded again from the problems."""
        if all(p.file for p in self.problems) and not replace:
            return self
        probs = [Problem(file, p.row, p.column, p.value, p.rule) if replace or not p.file else p
                 for p in self.problems]
        if self._bare is not None and not replace:
            return InputError(f"{file}: {self._bare}", problems=probs, hint=self.hint,
                              option=self.option)
        return InputError(problems=probs, hint=self.hint, option=self.option)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{message, problems: [...]}``."""
        return {"message": self.message, "problems": [p.to_dict() for p in self.problems]}


class ModelError(MyoriskError):
    """A model cannot be estimated as asked (separation, non-convergence, singular design).

    ``reason`` names the kind (``"separation"``, ``"convergence"``, ``"singular"``…) so that a
    caller can react without reading the message.
    """

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class ConvergenceWarning(UserWarning):
    """A fit or a resample did not converge as it should."""


class SmallSampleWarning(UserWarning):
    """Fewer events per candidate parameter than the usual rule of thumb (10)."""
