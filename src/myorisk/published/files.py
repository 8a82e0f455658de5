"""Model spec files: the bundled published models and the user's spec files (JSON).

The domain side of :mod:`myorisk.modeling.spec`: the engine parses and uses a spec; this module
knows where the bundled models live (``myorisk/published/*.json``) and reads and writes files
(atomically, through :mod:`myorisk.atomic`).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from myorisk._json import clean as _clean
from myorisk.atomic import write_text_atomic
from myorisk.errors import InputError
from myorisk.modeling.spec import ModelSpec

__all__ = ["bundled_models", "load_spec", "save_spec"]


def bundled_models() -> list[str]:
    """Names of the model spec files shipped in ``myorisk/published``."""
    root = resources.files("myorisk").joinpath("published")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def load_spec(name_or_path: str | os.PathLike[str]) -> ModelSpec:
    """Load a model spec: a bundled name (``redmi``, ``pmdm-noninvasive``, …) or a JSON file.

    Raises
    ------
    InputError
        Unknown name, unreadable file, invalid JSON, or an invalid spec (naming the key).
    """
    text = str(name_or_path)
    path = Path(text)
    if not path.suffix and not path.exists():
        ref = resources.files("myorisk").joinpath("published", f"{text}.json")
        if not ref.is_file():
            raise InputError(f"unknown model '{text}': bundled models are "
                             f"{', '.join(bundled_models())}, or give a spec file (.json)")
        source = f"{text}.json"
        raw = ref.read_text(encoding="utf-8")
    else:
        if not path.is_file():
            raise InputError(f"{path}: model spec file not found")
        source = str(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot read the model spec ({e})") from e
    try:
        d = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: "
                         f"{e.msg})") from e
    return ModelSpec.from_dict(d, source)


def save_spec(spec: ModelSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` as pretty JSON, atomically (temporary file + rename); return the path."""
    text = json.dumps(_clean(spec.to_dict()), indent=2, ensure_ascii=False) + "\n"
    return write_text_atomic(path, text)
