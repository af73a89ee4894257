"""Where the results database lives, how to connect to it, and how to bring it up to date.

SQLite in the run folder is the default so a laptop run needs no server; several GPU workers
on one host can share that file. Several hosts point CLIPMILL_DATABASE_URL at PostgreSQL.

A URL may hold a password, and whatever a Prefect run is handed is stored on the server and
shown in the dashboard. So runs carry a database's *label* (the URL, password as ***); the
full URL stays in the process that read it (its environment, a Secret block, --db-url), which
`url_of_label` looks it up in.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool, StaticPool

ENV_VAR = "CLIPMILL_DATABASE_URL"
DEFAULT_RUN_ROOT = Path("runs")
# How long a write waits for a lock another process holds (a backup, a person's sqlite3 shell,
# another worker's long transaction) before its job gives up. Minutes, not seconds: a job that
# has spent GPU time must not be lost to a lock a person will let go of.
LOCK_WAIT_ENV = "CLIPMILL_DB_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 180.0
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Query parameters that libpq and its drivers read as secrets.
SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "passfile"})



class DatabaseLockedError(RuntimeError):
    """A write waited the whole lock bound (`lock_wait_seconds`) for a lock another process
    holds; the message is the one line a person needs (which database, how long)."""


def lock_wait_seconds() -> float:
    """The bound on waiting for a lock: $CLIPMILL_DB_LOCK_WAIT_S, else 180 s."""
    raw = os.environ.get(LOCK_WAIT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_LOCK_WAIT_S
    except ValueError:
        raise ValueError(f"${LOCK_WAIT_ENV} must be a number of seconds, not {raw!r}") from None
    if not 0 < value < 7 * 24 * 3600:
        raise ValueError(f"${LOCK_WAIT_ENV} must be more than 0 seconds and less than a week, not {raw}")
    return value


def _is_lock_timeout(error: BaseException) -> bool:
    """SQLite's "database is locked" (or "database table is locked"): the busy handler gave up."""
    return isinstance(error, OperationalError) and "is locked" in str(getattr(error, "orig", error))


def _locked(url: str) -> DatabaseLockedError:
    return DatabaseLockedError(
        f"database {database_label(url)} is locked by another process: waited {lock_wait_seconds():g} s "
        f"for it (${LOCK_WAIT_ENV} sets how long)")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_urls_by_label: dict[str, str] = {}


def database_url(explicit: str | None = None, run_root: Path | None = None) -> str:
    """explicit > $CLIPMILL_DATABASE_URL > sqlite file `<run_root or ./runs>/clipmill.db`."""
    if explicit:
        return explicit
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    path = Path(run_root if run_root is not None else DEFAULT_RUN_ROOT) / "clipmill.db"
    return f"sqlite:///{path.resolve()}"


def database_label(url: str) -> str:
    """`url` as it may be stored and shown (flow parameters, logs, summaries): no password."""
    try:
        parsed = make_url(url)
    except ArgumentError:  # older SQLAlchemy repeated the whole string in it, password and all
        raise ValueError("the database URL is not a SQLAlchemy URL (dialect+driver://user:password@host/database); "
                         "not shown here, as it may hold a password") from None
    if any(key.lower() in SECRET_QUERY_KEYS for key in parsed.query):
        parsed = parsed.update_query_dict({key: "***" for key in parsed.query if key.lower() in SECRET_QUERY_KEYS})
    return parsed.render_as_string(hide_password=True)


def remember_database(url: str) -> str:
    """The label a run carries for `url`; the URL itself is kept in this process only."""
    label = database_label(url)
    if label != url:
        with _engines_lock:
            _urls_by_label[label] = url
    return label


def url_of_label(label: str) -> str:
    """The URL behind a run's database label: one this process read (remember_database), or
    its own $CLIPMILL_DATABASE_URL; a label without a password is its URL."""
    with _engines_lock:
        known = _urls_by_label.get(label)
    if known is not None:
        return known
    from_environment = os.environ.get(ENV_VAR)
    if from_environment and database_label(from_environment) == label:
        return from_environment
    if _hides_a_secret(label):
        # The label names its host and user but never the password: say where to give it.
        raise ValueError(f"database {label}: this process does not know its password; set ${ENV_VAR} "
                         "in the worker's environment or name a Prefect Secret block (db_secret)")
    return label


def _hides_a_secret(label: str) -> bool:
    parsed = make_url(label)
    return parsed.password == "***" or any(
        key.lower() in SECRET_QUERY_KEYS and value == "***" for key, value in parsed.query.items())


@contextlib.contextmanager
def database_in_environment(url: str | None) -> Iterator[None]:
    """Run the block with $CLIPMILL_DATABASE_URL set to `url` (if given), then restore it: how
    `--db-url` reaches a flow started in this process without becoming a flow parameter."""
    previous = os.environ.get(ENV_VAR)
    if url:
        os.environ[ENV_VAR] = url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):  # URI filenames carry their own options
        return None
    return Path(parsed.database)


def configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    """Give SQLite connections the settings concurrent workers need.

    WAL lets readers (the report, the gallery) run while a worker writes. Every transaction
    starts with BEGIN IMMEDIATE: a transaction that read first and then tried to write would
    fail at once with "database is locked" if another worker committed in between (busy_timeout
    does not apply to that case); taking the write lock up front makes workers queue instead.
    sqlite3's own BEGIN handling is switched off so that ours is the only one.

    busy_timeout is the whole lock bound (`lock_wait_seconds`): SQLite's busy handler retries
    the lock with backoff (1 ms growing to 100 ms between tries) until then, so a write waits
    out another process's lock instead of failing a job that spent GPU time.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI objects
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {round(lock_wait_seconds() * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # noqa: ANN001
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_sqlite_memory(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def make_engine(url: str) -> Engine:
    """A new engine for `url`; for SQLite, the file's folder is created and WAL is switched on."""
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Each connection to sqlite:// is its own empty database; one shared connection keeps
    # the migrated tables visible to every session.
    if _is_sqlite_memory(url):
        engine = create_engine(url, poolclass=StaticPool)
    elif make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url)
    else:
        # Workers sit idle for minutes while a clip renders; servers drop idle connections.
        engine = create_engine(url, pool_pre_ping=True)
    if make_url(url).get_backend_name() == "sqlite":
        configure_sqlite(engine, foreign_keys=True)
    return engine


def migration_engine(url: str) -> Engine:
    """The engine Alembic migrates through: no pool to leave behind, and for SQLite foreign
    keys off, because batch mode rebuilds a table by drop-and-copy, which would otherwise
    cascade deletes into the tables that reference it."""
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=NullPool)
    if make_url(url).get_backend_name() == "sqlite":
        configure_sqlite(engine, foreign_keys=False)
    return engine


def alembic_config(url: str) -> Config:
    """An Alembic config built in code, so no alembic.ini has to sit in the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def _upgrade_on(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def init_db(url: str | None = None) -> Engine:
    """Migrate the database at `url` to the newest schema and return its engine.

    Safe to call from every task: the first call in a process migrates (a no-op when already
    current) and later calls return the same engine, so its connection pool is shared.
    """
    url = database_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if _is_sqlite_memory(url):
                engine = make_engine(url)
                _upgrade_on(engine)
            else:
                try:
                    upgrade(url)
                except OperationalError as error:
                    if _is_lock_timeout(error):
                        raise _locked(url) from None
                    raise
                engine = make_engine(url)
            _engines[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine; the next init_db migrates afresh (tests, forked workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises.

    Objects stay readable after the block (expire_on_commit=False): tasks hand small records
    back to Prefect after the session is gone.
    A lock another process held longer than the lock bound ends as one DatabaseLockedError
    naming the database, not as the driver's traceback.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException as error:
        session.rollback()
        if _is_lock_timeout(error):
            raise _locked(engine.url.render_as_string(hide_password=False)) from None
        raise
    finally:
        session.close()
