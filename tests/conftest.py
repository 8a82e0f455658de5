"""Shared test helpers: R reference files live beside the tests in tests/results/.

Every reference number is written by a committed R script (``tests/results/<topic>.R``),
which ``make test`` re-runs before pytest; nothing is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

RESULTS = Path(__file__).parent / "results"


def load_r(topic: str) -> dict:
    """Read the JSON written by ``tests/results/<topic>.R``."""
    path = RESULTS / f"{topic}_r.json"
    if not path.exists():  # pragma: no cover - make test always regenerates them
        pytest.fail(f"{path} is missing: run `make r-refs` (R reference stack from Debian)")
    with path.open() as fh:
        return json.load(fh)


def load_data(name: str) -> pd.DataFrame:
    """Read a public data set exported by ``tests/results/00_datasets.R``."""
    return pd.read_csv(RESULTS / "data" / f"{name}.csv")

from registry_support import db_url, postgres_server  # noqa: E402,F401 - registry fixtures
