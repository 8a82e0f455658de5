"""Moving data in and out of a registry: cohort-file and REDCap import, cohort-file export,
backup and restore (SQLite online backup API; ``pg_dump``/``pg_restore``)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.registry.access import Conflict, Invalid, Principal
from myorisk.registry.db import _sqlite_path, normalise_url
from myorisk.registry.service import FOLLOWUP_VARIABLES, Registry

__all__ = ["ImportResult", "import_cohort", "export_cohort", "backup", "restore"]


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows read, patients created, already present, predictions made."""

    source: str
    site: str
    rows: int
    created: int
    already_present: int
    followups: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"source": self.source, "site": self.site, "rows": self.rows,
                "created": self.created, "already_present": self.already_present,
                "followups": self.followups}


def _cell(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, np.integer | np.bool_):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def import_cohort(reg: Registry, path: str | os.PathLike[str], site: str, *,
                  principal: Principal | None = None, mapping: str | None = None,
                  sheet: str | int | None = None, redcap_dictionary: str | None = None
                  ) -> ImportResult:
    """Import a cohort file (any format ``myorisk check`` reads) or a REDCap export.

    Every row becomes a patient of ``site`` with a baseline visit (baseline columns and any
    non-canonical column, kept as given) and, when the row has follow-up columns or outcomes,
    a week-12 visit. Each published model's prediction is computed and stored (source
    ``import``) for every patient whose baseline holds its predictors. The whole file is checked
    before anything is written; writes are idempotent per (site, patient_id), so re-running an
    interrupted import completes it without duplicates. The rows are written in one
    transaction: all of them or none.
    """
    from myorisk.myositis.cohort import load

    p = principal or Principal.system()
    cohort = load(path, mapping, sheet=sheet, redcap_dictionary=redcap_dictionary)
    df = cohort.data
    name = Path(path).name
    if df.empty:
        raise InputError(f"{name}: no rows to import")
    fu_cols = [c for c in df.columns if c in FOLLOWUP_VARIABLES]
    base_cols = [c for c in df.columns if c not in fu_cols and c != "patient_id"]
    plan = []  # load() has checked every cell against the schema: nothing is re-read here
    for r, row in df.iterrows():
        base = {c: _cell(row[c]) for c in base_cols}
        fu = {c: _cell(row[c]) for c in fu_cols}
        plan.append((r, str(row["patient_id"]),
                     {k: v for k, v in base.items() if v is not None},
                     {k: v for k, v in fu.items() if v is not None}))
    try:
        created, present, fus = reg.bulk_import(p, site, [(local, b, f) for _, local, b, f in plan])
    except (Conflict, Invalid) as e:
        raise InputError(f"{name}: {e}; nothing was imported") from None
    return ImportResult(name, site, len(plan), created, present, fus)


def export_cohort(reg: Registry, out: str | os.PathLike[str], *,
                  principal: Principal | None = None, site: str | None = None,
                  pseudonymise: bool = False) -> int:
    """Write the registry as a cohort file (``.csv``, ``.tsv`` or ``.xlsx``, atomically).
    Returns the number of patients."""
    from myorisk.myositis.io import write_table

    frame = reg.export_frame(principal or Principal.system(), site=site,
                             pseudonymise=pseudonymise)
    write_table(frame, out)
    return len(frame)


def _pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    tool = shutil.which(name)
    if tool is None:
        raise InputError(f"{name} is not installed (Debian package postgresql-client)")
    return tool


def _libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def backup(db: str, out: str | os.PathLike[str]) -> Path:
    """Copy a live registry to ``out``: SQLite's online backup API (a consistent snapshot while
    the server runs), or ``pg_dump --format=custom``. The file appears only when complete."""
    url = normalise_url(db)
    target = Path(out)
    if not target.parent.is_dir():
        raise InputError(f"--out {target}: folder {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        src = _sqlite_path(url)
        if src is not None:
            import sqlite3

            if not src.exists():
                raise InputError(f"--db {src}: no registry there")
            with sqlite3.connect(src) as a, sqlite3.connect(tmp) as b:
                a.backup(b)
            b.close()
            a.close()
        else:
            r = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner",
                                "--file", tmp, _libpq(url)], capture_output=True, text=True)
            if r.returncode:
                raise InputError(f"pg_dump failed: {r.stderr.strip().splitlines()[-1]}")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def restore(db: str, backup_file: str | os.PathLike[str], *, force: bool = False) -> None:
    """Restore a backup into ``db``. A SQLite target that exists is replaced only with
    ``force``; a PostgreSQL target is cleaned (``pg_restore --clean``) only with ``force``
    when it already holds a registry."""
    from myorisk.registry.db import current_revision, make_engine

    url = normalise_url(db)
    src = Path(backup_file)
    if not src.is_file():
        raise InputError(f"{src}: no such backup file")
    dest = _sqlite_path(url)
    if dest is not None:
        import sqlite3

        if dest.exists() and not force:
            raise InputError(f"--db {dest} exists; restore over it with --force")
        with open(src, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise InputError(f"{src}: not a SQLite registry backup")
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        os.close(fd)
        try:
            with sqlite3.connect(src) as a, sqlite3.connect(tmp) as b:
                a.backup(b)
            a.close()
            b.close()
            for suffix in ("-wal", "-shm"):
                Path(str(dest) + suffix).unlink(missing_ok=True)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return
    eng = make_engine(db)
    try:
        has = current_revision(eng) is not None
    finally:
        eng.dispose()
    if has and not force:
        raise InputError("--db already holds a registry; restore over it with --force")
    cmd = [_pg_tool("pg_restore"), "--no-owner", "--single-transaction", "--dbname", _libpq(url)]
    if has:
        cmd[1:1] = ["--clean", "--if-exists"]
    r = subprocess.run([*cmd, str(src)], capture_output=True, text=True)
    if r.returncode:
        raise InputError(f"pg_restore failed: {r.stderr.strip().splitlines()[-1]}")
