"""Errors that reach users as one clear line (exit code 2 on the command line)."""

from __future__ import annotations


class MyoriskError(Exception):
    """Base class of every error myorisk raises on purpose."""


class InputError(MyoriskError, ValueError):
    """Bad input: a file, a column, a value or an option breaks a rule.

    The message names the file, row, column and rule wherever they are known, and is
    shown to the user as a single line.
    """


class ModelError(MyoriskError):
    """A model cannot be estimated as asked (separation, non-convergence, singular design)."""


class ConvergenceWarning(UserWarning):
    """A fit or a resample did not converge as it should."""


class SmallSampleWarning(UserWarning):
    """Fewer events per candidate parameter than the usual rule of thumb (10)."""
