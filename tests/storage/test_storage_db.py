from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from clipmill.storage import db
from clipmill.storage.db import database_url, dispose_engines, init_db, make_engine, session_scope
from clipmill.storage.schema import Base, Batch

from tests.storage.conftest import sqlite_only

STORAGE = Path(db.__file__).parent


def _schema_diff(url: str) -> list:
    plain = create_engine(url)
    try:
        with plain.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        plain.dispose()


def _batch(name: str = "b") -> Batch:
    return Batch(name=name, spec_path="spec.yaml", spec_sha256="0" * 64, run_dir="runs/b")


def test_migrations_build_exactly_the_orm_schema(engine, db_url):
    assert _schema_diff(db_url) == []
    assert set(inspect(engine).get_table_names()) == {
        "alembic_version", "batches", "jobs", "attempts", "qa_results", "artifacts", "keywords", "attempt_events",
    }


def test_schema_comparison_notices_a_missing_column(engine, db_url):
    # Guards the test above: compare_metadata must see drift on this backend, or it proves nothing.
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE artifacts DROP COLUMN sha256")
    assert any(diff[0] == "add_column" and diff[3].name == "sha256" for diff in _schema_diff(db_url))


def test_check_constraints_survive_the_batch_rebuild_of_jobs(engine, db_url):
    sqlite_only(db_url)
    # 0001 rebuilds `jobs` (SQLite batch mode) to add its key to attempts; the rebuild must
    # keep the status CHECK and the foreign keys.
    with engine.connect() as connection:
        jobs_sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'jobs'")).scalar_one()
    assert "CONSTRAINT ck_jobs_status CHECK" in jobs_sql
    assert "fk_jobs_batch_id_batches" in jobs_sql
    assert "fk_jobs_accepted_attempt_id_attempts" in jobs_sql


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_busy_timeout(engine, db_url):
    sqlite_only(db_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # A lock is waited out for the whole bound, minutes by default (issue #23 item 5).
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.DEFAULT_LOCK_WAIT_S * 1000 >= 120_000
    # WAL is a property of the file, so other tools (sqlite3 CLI, a second process) see it too.
    raw = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_foreign_keys_are_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO jobs (batch_id, key, prompt, model, params, status, created_at, updated_at) "
                    "VALUES (999, 'k', 'p', 'm', '{}', 'pending', '2026-01-01', '2026-01-01')"
                )
            )


def test_init_db_is_idempotent_and_keeps_data(db_url):
    first = init_db(db_url)
    assert init_db(db_url) is first  # cached: one pool per database per process
    with session_scope(first) as session:
        session.add(_batch("kept"))
    dispose_engines()
    second = init_db(db_url)  # migrates again against an up-to-date file
    try:
        assert second is not first
        with session_scope(second) as session:
            assert session.scalars(select(Batch.name)).all() == ["kept"]
        with second.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0005"]
    finally:
        dispose_engines()


def test_init_db_creates_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    target = tmp_path / "deep" / "er" / "clipmill.db"
    try:
        init_db(f"sqlite:///{target}")
        assert target.is_file()
    finally:
        dispose_engines()


def test_in_memory_database_keeps_its_migrated_tables(monkeypatch):
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    try:
        engine = init_db("sqlite://")
        with session_scope(engine) as session:
            session.add(_batch("mem"))
        with session_scope(engine) as session:
            assert session.scalar(select(Batch.name)) == "mem"
    finally:
        dispose_engines()


def _migrated_to(revision: str, tmp_path, monkeypatch):
    """A SQLite file migrated to `revision`: its alembic config, URL and a plain engine on it (one
    that enforces no foreign key, so rows can go in without their parents); alembic's logging
    setup is left off, to leave pytest's alone."""
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    monkeypatch.setenv("CLIPMILL_DATABASE_URL", url)
    config = Config(str(STORAGE / "alembic.ini"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)
    return config, url, create_engine(url)


def test_alembic_command_line_config_migrates_the_env_database(tmp_path, monkeypatch):
    config, url, plain = _migrated_to("head", tmp_path, monkeypatch)
    assert _schema_diff(url) == []
    command.downgrade(config, "base")
    try:
        assert set(inspect(plain).get_table_names()) == {"alembic_version"}
    finally:
        plain.dispose()


def test_database_url_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite:///{tmp_path / 'runs' / 'clipmill.db'}"
    assert database_url(run_root=tmp_path / "r") == f"sqlite:///{tmp_path / 'r' / 'clipmill.db'}"
    monkeypatch.setenv("CLIPMILL_DATABASE_URL", "postgresql://env/db")
    assert database_url(run_root=tmp_path / "r") == "postgresql://env/db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_a_run_carries_the_database_label_and_finds_the_url_in_its_own_process(tmp_path, monkeypatch):
    """What a Prefect run is handed is stored and shown: the label has no password, and the
    process that read the URL (or a worker with it in its environment) maps the label back."""
    from dataclasses import asdict

    from clipmill.storage.config import RunConfig

    monkeypatch.setattr(db, "_urls_by_label", {})
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    url = "postgresql+psycopg://clipmill:s3cret-pw@db-host:5432/clipmill?sslmode=require"
    config = RunConfig.resolve(tmp_path, url)
    assert "s3cret-pw" not in str(asdict(config)) and "s3cret-pw" not in repr(config)
    assert config.database == config.database_label == \
        "postgresql+psycopg://clipmill:***@db-host:5432/clipmill?sslmode=require"
    assert config.db_url == url
    # Another process (a worker) that never read the URL: its own environment, else one line.
    monkeypatch.setattr(db, "_urls_by_label", {})
    with pytest.raises(ValueError, match=r"does not know its password; set \$CLIPMILL_DATABASE_URL") as raised:
        config.db_url
    assert "s3cret-pw" not in str(raised.value)
    monkeypatch.setenv("CLIPMILL_DATABASE_URL", url)
    assert config.db_url == url
    # A database without a password is its own label.
    sqlite = RunConfig.resolve(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    assert sqlite.database == sqlite.db_url == f"sqlite:///{tmp_path / 'x.db'}"


def test_a_password_in_the_query_or_a_broken_url_is_never_repeated(monkeypatch):
    monkeypatch.setattr(db, "_urls_by_label", {})
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    label = db.remember_database("postgresql://u@h/db?password=s3cret-pw&sslpassword=k3y-pw")
    assert "s3cret-pw" not in label and "k3y-pw" not in label
    assert db.url_of_label(label) == "postgresql://u@h/db?password=s3cret-pw&sslpassword=k3y-pw"
    monkeypatch.setattr(db, "_urls_by_label", {})
    with pytest.raises(ValueError, match="does not know its password"):
        db.url_of_label(label)
    with pytest.raises(ValueError, match="not a SQLAlchemy URL") as raised:
        db.database_label("postgresql+psycopg:/user:s3cret-pw@host:port:5/db")
    assert "s3cret-pw" not in str(raised.value)


def test_database_in_environment_sets_and_restores_the_variable(monkeypatch):
    monkeypatch.setenv("CLIPMILL_DATABASE_URL", "sqlite:///before.db")
    with db.database_in_environment("postgresql://u:p@h/db"):
        assert db.database_url() == "postgresql://u:p@h/db"
    assert db.database_url() == "sqlite:///before.db"
    with db.database_in_environment(None):
        assert db.database_url() == "sqlite:///before.db"
    monkeypatch.delenv("CLIPMILL_DATABASE_URL")
    with db.database_in_environment("sqlite:///during.db"):
        pass
    assert db.ENV_VAR not in os.environ


def test_session_scope_commits_on_success_and_rolls_back_on_error(engine):
    with session_scope(engine) as session:
        session.add(_batch("committed"))
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            session.add(_batch("rolled-back"))
            session.flush()
            raise RuntimeError("task failed")
    with session_scope(engine) as session:
        assert session.scalars(select(Batch.name)).all() == ["committed"]


def test_timestamps_come_back_timezone_aware_utc(engine):
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    with session_scope(engine) as session:
        batch = _batch()
        batch.finished_at = moment
        session.add(batch)
    with session_scope(engine) as session:
        stored = session.scalar(select(Batch))
        assert stored.finished_at == moment
        assert stored.finished_at.tzinfo is UTC
        assert stored.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(engine):
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive datetime"):
        with session_scope(engine) as session:
            batch = _batch()
            batch.finished_at = datetime(2026, 3, 1, 12, 0)
            session.add(batch)


def test_a_worker_that_read_first_can_still_write_while_another_writes(engine, db_url):
    """Two workers on one SQLite file: A reads, B writes and commits, then A writes.

    Under a plain BEGIN, A's write fails at once with "database is locked" (its read
    snapshot is stale and busy_timeout does not apply); BEGIN IMMEDIATE makes B wait for A.
    """
    other = make_engine(db_url)
    errors: list[BaseException] = []

    def worker_b() -> None:
        try:
            with session_scope(other) as session:
                session.add(_batch("from-b"))
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    try:
        with session_scope(engine) as session:
            session.scalars(select(Batch)).all()
            thread = threading.Thread(target=worker_b)
            thread.start()
            time.sleep(0.3)  # give B every chance to commit in between
            session.add(_batch("from-a"))
        thread.join(timeout=20)
        assert not thread.is_alive()
        assert errors == []
        with session_scope(engine) as session:
            assert set(session.scalars(select(Batch.name))) == {"from-a", "from-b"}
    finally:
        other.dispose()


LOCK_HOLDER = Path(__file__).resolve().parents[1] / "faults" / "lock_holder.py"


def _hold_lock(db_path: str, hold_s: float, marker: Path):
    """Another process (a real one: a lock of this process's own would not be waited on)."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, str(LOCK_HOLDER), db_path, str(hold_s), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert holder.poll() is None and time.monotonic() < deadline, "the lock holder did not take the lock"
        time.sleep(0.02)
    return holder


@pytest.mark.slow
def test_a_write_waits_out_another_process_lock_within_the_bound(db_url, tmp_path, monkeypatch):
    sqlite_only(db_url)
    monkeypatch.setenv(db.LOCK_WAIT_ENV, "30")
    dispose_engines()
    engine = init_db(db_url)
    marker = tmp_path / "lock.txt"
    holder = _hold_lock(db_url.removeprefix("sqlite:///"), 6.0, marker)  # longer than sqlite3's default 5 s
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        with session_scope(engine) as session:
            session.add(_batch("waited"))
    finally:
        holder.wait(timeout=60)
        dispose_engines()
    assert "released" in marker.read_text()  # the write went through only once the lock was let go
    with session_scope(init_db(db_url)) as session:
        assert session.scalar(select(Batch.name)) == "waited"
    dispose_engines()


def test_past_the_bound_a_lock_is_one_line_naming_the_database(db_url, tmp_path, monkeypatch):
    sqlite_only(db_url)
    monkeypatch.setenv(db.LOCK_WAIT_ENV, "1.5")
    dispose_engines()
    engine = init_db(db_url)
    with engine.connect() as connection:  # SQLite itself waits this long before it gives up
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1_500
    holder = _hold_lock(db_url.removeprefix("sqlite:///"), -1, tmp_path / "lock.txt")  # until killed
    try:
        with pytest.raises(db.DatabaseLockedError) as raised:
            with session_scope(engine) as session:
                session.add(_batch("never"))
        lock_still_held = holder.poll() is None  # the write gave up on a lock that was never let go
    finally:
        holder.kill()
        holder.wait()
        dispose_engines()
    assert lock_still_held
    message = str(raised.value)
    assert "\n" not in message and raised.value.__cause__ is None and raised.value.__suppress_context__
    assert message.startswith(f"database {db_url} is locked by another process: waited 1.5 s")
    assert db.LOCK_WAIT_ENV in message


def test_the_lock_bound_is_a_positive_number_of_seconds(monkeypatch):
    monkeypatch.delenv(db.LOCK_WAIT_ENV, raising=False)
    assert db.lock_wait_seconds() == db.DEFAULT_LOCK_WAIT_S >= 120
    monkeypatch.setenv(db.LOCK_WAIT_ENV, "600")
    assert db.lock_wait_seconds() == 600
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv(db.LOCK_WAIT_ENV, bad)
        with pytest.raises(ValueError, match=db.LOCK_WAIT_ENV):
            db.lock_wait_seconds()


def test_checks_stored_before_kinds_existed_get_their_kind_and_subject(tmp_path, monkeypatch):
    config, url, plain = _migrated_to("0003", tmp_path, monkeypatch)
    try:
        with plain.begin() as connection:  # a plain SQLite connection enforces no foreign key: no attempt needed
            for metric in ("count:person", "vanish:dog", "flicker", "count:person"):
                connection.execute(text("INSERT INTO qa_results (attempt_id, stage, metric, value, threshold, passed, "
                                        "reason) VALUES (1, 'interaction', :metric, 1.0, 0.0, 0, 'old')"),
                                   {"metric": metric})
        command.upgrade(config, "head")
        with plain.connect() as connection:
            rows = connection.execute(text("SELECT kind, subject, metric FROM qa_results ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [("count", "person", "count:person"), ("vanish", "dog", "vanish:dog"),
                                                ("flicker", None, "flicker"), ("count", "person", "count:person")]
        assert _schema_diff(url) == []
    finally:
        plain.dispose()


def test_a_warning_is_an_attempt_event_and_the_database_refuses_an_unknown_kind(engine, db_url):
    from sqlalchemy.exc import IntegrityError

    from clipmill.storage.schema import Attempt, AttemptEvent, Job

    with session_scope(engine) as session:
        batch = _batch("warned")
        job = Job(batch=batch, key="j", prompt="p", model="tiny")
        attempt = Attempt(job=job, number=1, seed=0)
        session.add_all([batch, job, attempt])
        session.flush()
        session.add(AttemptEvent(attempt_id=attempt.id, kind="warning", action="generation",
                                 reason="speed 'distilled' ran without any LoRA loaded", details={"segment": 1}))
    with session_scope(engine) as session:
        assert session.scalars(select(AttemptEvent.kind)).all() == ["warning"]
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            attempt_id = session.scalar(select(Attempt.id))
            session.add(AttemptEvent(attempt_id=attempt_id, kind="gossip", action="x", reason="y", details={}))


def test_the_downgrade_from_0005_drops_warnings_the_old_constraint_refuses(tmp_path, monkeypatch):
    config, url, plain = _migrated_to("head", tmp_path, monkeypatch)
    try:
        with plain.begin() as connection:  # a plain SQLite connection enforces no foreign key: no attempt needed
            for kind in ("retry", "warning"):
                connection.execute(text("INSERT INTO attempt_events (attempt_id, kind, action, reason, details, "
                                        "created_at) VALUES (1, :kind, 'a', 'r', '{}', CURRENT_TIMESTAMP)"),
                                   {"kind": kind})
        command.downgrade(config, "0004")
        with plain.connect() as connection:
            assert connection.execute(text("SELECT kind FROM attempt_events")).scalars().all() == ["retry"]
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'attempt_events'")).scalar_one()
        assert "'warning'" not in sql and "ck_attempt_events_kind" in sql
        command.upgrade(config, "head")
        assert _schema_diff(url) == []
    finally:
        plain.dispose()
