"""Opening a registry database: URL handling, SQLite pragmas (WAL), Alembic migrations.

``--db`` takes a SQLAlchemy URL (``sqlite:///path/registry.db``, ``postgresql://user@host/db``)
or a plain path, which means a SQLite file. A plain ``postgresql://`` URL is driven by psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from myorisk.errors import InputError

__all__ = ["HEAD", "normalise_url", "make_engine", "migrate", "current_revision", "open_engine"]

#: The newest migration shipped with this version.
HEAD = "0001"
MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(db: str) -> str:
    """A SQLAlchemy URL for ``db`` (a URL or a path to a SQLite file)."""
    db = str(db).strip()
    if not db:
        raise InputError("--db is empty: give a SQLite file path or a postgresql:// URL")
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if db.startswith(("postgresql+", "sqlite:")):
        return db
    if "://" in db:
        raise InputError(f"--db {db.split('://', 1)[0]}://…: only SQLite files and postgresql:// "
                         "URLs are supported")
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///"):]
    return None if rest in ("", ":memory:") else Path(rest)


def make_engine(db: str, *, pool_size: int = 10) -> Any:
    """A SQLAlchemy engine; SQLite runs in WAL mode with full fsync and immediate write locks.

    SQLite write transactions begin with ``BEGIN IMMEDIATE`` so that concurrent writers queue on
    the busy timeout (30 s) instead of failing on a lock upgrade; sessions opened with the
    execution option ``myorisk_readonly`` begin a deferred (reading) transaction.
    """
    from sqlalchemy import create_engine, event

    url = normalise_url(db)
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                            pool_size=pool_size, max_overflow=40, pool_timeout=60)

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(eng, "begin")
        def _begin(conn: Any) -> None:
            readonly = conn.get_execution_options().get("myorisk_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return eng
    return create_engine(url, pool_size=pool_size, max_overflow=40, pool_pre_ping=True,
                         pool_timeout=60)


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(engine: Any) -> str | None:
    """The database's Alembic revision (None: not a registry yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Any, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` with the migrations shipped in the package."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def open_engine(db: str, *, create: bool = False, pool_size: int = 10) -> Any:
    """Open a registry: with ``create`` make it (and its folder) if needed; migrate to the head.

    Raises
    ------
    InputError
        The SQLite file does not exist (and ``create`` is false), the server cannot be reached,
        or the database is not a registry (no schema) and ``create`` is false.
    """
    from sqlalchemy.exc import OperationalError

    url = normalise_url(db)
    path = _sqlite_path(url)
    if path is not None:
        if not path.exists() and not create:
            raise InputError(f"--db {path}: no registry there; create one with "
                             f"`myorisk registry init --db {path}`")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    eng = make_engine(db, pool_size=pool_size)
    try:
        rev = current_revision(eng)
    except OperationalError as e:
        raise InputError(f"--db: cannot open the database ({str(e.orig).splitlines()[0]})") from None
    if rev is None and not create:
        raise InputError("--db: this database holds no registry; create one with "
                         "`myorisk registry init --db …`")
    if rev != HEAD:
        migrate(eng)
    return eng
