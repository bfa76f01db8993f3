"""Database engines for the vetting store: SQLite made safe for many writers, or any SQLAlchemy URL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed vote survives a killed process and a
power cut) and a 30 s busy timeout, which the store shortens to 2 s per try once migrated (it retries
a few times, then refuses plainly with ``StoreBusyError``; see ``store.BUSY_TIMEOUT_S``). Writes open with ``BEGIN IMMEDIATE``, so two processes never both
read and then both try to upgrade to a write lock (which SQLite answers with an immediate "database is
locked" that no timeout retries). PostgreSQL needs none of this.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text

__all__ = ["engines", "migrate", "public_url"]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 7_350_021  # PostgreSQL advisory lock that serialises schema upgrades from many processes


def _sqlite_pragmas(engine: Engine, begin: str) -> None:
    """WAL, durable commits, a busy timeout, foreign keys; transactions opened with ``begin``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(begin)


def engines(url: str) -> tuple[Engine, Engine]:
    """(reader, writer) engines for ``url``; for SQLite the writer takes the write lock at BEGIN."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        return engine, engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    reader = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    writer = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    _sqlite_pragmas(reader, "BEGIN")
    _sqlite_pragmas(writer, "BEGIN IMMEDIATE")
    return reader, writer


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def migrate(writer: Engine) -> str:
    """Bring the schema to Alembic's head (once, even when many processes start together)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        current = MigrationContext.configure(conn).get_current_revision()
        head = _head()
        if current != head:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return head


def public_url(url: str) -> str:
    """The URL without its password, for provenance in exports."""
    return make_url(url).render_as_string(hide_password=True)
