"""Reports: figures (matplotlib), tables, the self-contained HTML report and its PDF."""

from __future__ import annotations

__all__ = ["write"]


def write(results, out_dir, **kwargs):  # noqa: ANN001, ANN201 - thin re-export
    """Write a study's output folder; see :func:`myorisk.report.write.write`."""
    from myorisk.report.write import write as _write

    return _write(results, out_dir, **kwargs)
