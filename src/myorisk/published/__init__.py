"""Published prediction models of the seed studies, as model spec files.

``redmi`` (study B), ``pmdm-noninvasive`` and ``pmdm-comprehensive`` (study A). All three are
RECONSTRUCTED (no intercept was published); see ``docs/published-models.md`` and each spec's
``provenance``. The JSON files are written by :mod:`myorisk.published.build`.

Examples
--------
>>> from myorisk.published import list_models, load_model
>>> [m["name"] for m in list_models()]
['pmdm-comprehensive', 'pmdm-noninvasive', 'redmi']
>>> load_model("redmi").is_reconstructed
True
"""

from __future__ import annotations

from myorisk.modeling.spec import ModelSpec
from myorisk.published.files import bundled_models, load_spec

__all__ = ["MODEL_NAMES", "list_models", "load_model"]

#: The bundled published models.
MODEL_NAMES: tuple[str, ...] = ("pmdm-comprehensive", "pmdm-noninvasive", "redmi")


def list_models() -> list[dict]:
    """Name, title, status, outcome, variables and reconstruction notice of each bundled model."""
    out = []
    for name in bundled_models():
        s = load_spec(name)
        out.append({
            "name": s.name,
            "title": s.title,
            "status": s.status,
            "outcome": s.outcome["name"],
            "variables": [v.name for v in s.variables],
            "notice": s.notice(),
        })
    return out


def load_model(name: str) -> ModelSpec:
    """Load a bundled model (or a spec file path) as a :class:`ModelSpec`."""
    return load_spec(name)
