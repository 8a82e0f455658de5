"""Myositis domain: instruments (criteria, TIS, imaging, EMG), cohort schema and file IO.

Public entry points:

- :func:`~myorisk.myositis.criteria.eular_acr_2017` — 2017 EULAR/ACR classification criteria.
- :func:`~myorisk.myositis.tis.total_improvement_score` — 2016 ACR/EULAR response (TIS).
- :func:`~myorisk.myositis.imaging.msuvmax`, :func:`~myorisk.myositis.imaging.mri_score`,
  :func:`~myorisk.myositis.imaging.emg_abundant_sp` — derived imaging/EMG predictors.
- :func:`~myorisk.myositis.cohort.load`, :func:`~myorisk.myositis.cohort.check`,
  :func:`~myorisk.myositis.cohort.derive` — cohort files.
- :func:`~myorisk.myositis.io.read_table`, :func:`~myorisk.myositis.io.read_redcap`,
  :func:`~myorisk.myositis.io.read_data`, :func:`~myorisk.myositis.io.coerce_numeric`,
  :func:`~myorisk.myositis.io.write_table` — readers and the atomic writer.
"""

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the submodule defining it. The submodules load on first use (PEP 562), so a
#: command that reads a file with :mod:`myorisk.myositis.io` does not import pandas through the
#: instruments' modules.
_WHERE = {
    **dict.fromkeys(("CheckReport", "Cohort", "Problem", "check", "derive", "load"), "cohort"),
    **dict.fromkeys(("CriteriaResult", "eular_acr_2017"), "criteria"),
    **dict.fromkeys(("EmgResult", "MriResult", "MsuvmaxResult", "emg_abundant_sp", "mri_score",
                     "msuvmax"), "imaging"),
    **dict.fromkeys(("Mapping", "coerce_numeric", "read_data", "read_mapping", "read_redcap",
                     "read_table", "write_table"), "io"),
    **dict.fromkeys(("TisResult", "total_improvement_score"), "tis"),
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from myorisk.myositis.cohort import CheckReport, Cohort, Problem, check, derive, load
    from myorisk.myositis.criteria import CriteriaResult, eular_acr_2017
    from myorisk.myositis.imaging import (
        EmgResult,
        MriResult,
        MsuvmaxResult,
        emg_abundant_sp,
        mri_score,
        msuvmax,
    )
    from myorisk.myositis.io import (
        Mapping,
        coerce_numeric,
        read_data,
        read_mapping,
        read_redcap,
        read_table,
        write_table,
    )
    from myorisk.myositis.tis import TisResult, total_improvement_score

__all__ = [
    "CheckReport",
    "Cohort",
    "CriteriaResult",
    "EmgResult",
    "Mapping",
    "MriResult",
    "MsuvmaxResult",
    "Problem",
    "TisResult",
    "check",
    "coerce_numeric",
    "derive",
    "emg_abundant_sp",
    "eular_acr_2017",
    "load",
    "mri_score",
    "msuvmax",
    "read_data",
    "read_mapping",
    "read_redcap",
    "read_table",
    "total_improvement_score",
    "write_table",
]
