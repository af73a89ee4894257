"""The keywords table: what the trending poller has queued, blocked or filtered."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clipmill.storage import keywords as repo
from clipmill.storage.db import session_scope
from clipmill.storage.schema import Keyword


def _entry(normalised, status="queued", **extra):
    return repo.KeywordRecord(normalised=normalised, display=normalised.title(), source="https://x/feed",
                              status=status, **extra)


def test_seen_keywords_are_the_queued_ones(engine):
    with session_scope(engine) as session:
        repo.record_keywords(session, [_entry("air fryer", job_keys=["air-fryer-trending-short"]),
                                       _entry("toy gun", "blocked", reason="blocklist term 'gun'"),
                                       _entry("desk lamp", "filtered")], batch_name="trending-1")
    with session_scope(engine) as session:
        assert repo.seen_keywords(session, ["air fryer", "toy gun", "desk lamp", "yoga mat"]) == {"air fryer"}
        rows = {k["normalised"]: k for k in repo.list_keywords(session)}
    assert rows["air fryer"]["batch_name"] == "trending-1"
    assert rows["air fryer"]["job_keys"] == ["air-fryer-trending-short"]
    assert rows["toy gun"]["batch_name"] is None and rows["toy gun"]["reason"] == "blocklist term 'gun'"
    assert rows["air fryer"]["first_seen_at"].endswith("+00:00")


def test_a_queued_keyword_keeps_its_batch_when_seen_again(engine):
    with session_scope(engine) as session:
        first = repo.record_keywords(session, [_entry("air fryer", job_keys=["a"])], batch_name="trending-1")[0]
        first_seen = first.first_seen_at
    with session_scope(engine) as session:
        again = repo.record_keywords(session, [_entry("air fryer", job_keys=["b"])], batch_name="trending-2")[0]
    assert (again.batch_name, again.job_keys, again.first_seen_at) == ("trending-1", ["a"], first_seen)
    assert again.last_seen_at >= first_seen


def test_a_blocked_keyword_can_be_queued_later(engine):
    # A blocklist that changed must not leave a keyword blocked for good.
    with session_scope(engine) as session:
        repo.record_keywords(session, [_entry("toy gun", "blocked")])
    with session_scope(engine) as session:
        repo.record_keywords(session, [_entry("toy gun", job_keys=["toy-gun-x"])], batch_name="trending-3")
        assert repo.seen_keywords(session, ["toy gun"]) == {"toy gun"}
        assert session.query(Keyword).count() == 1


def test_seen_keywords_handles_more_names_than_one_statement_binds(engine):
    names = [f"kw {i}" for i in range(1200)]
    with session_scope(engine) as session:
        repo.record_keywords(session, [_entry(n) for n in names[::2]])
    with session_scope(engine) as session:
        assert repo.seen_keywords(session, names) == set(names[::2])


def test_unknown_keyword_status_is_refused(engine):
    with session_scope(engine) as session, pytest.raises(ValueError, match="unknown keyword status 'new'"):
        repo.record_keywords(session, [_entry("air fryer", "new")])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO keywords (normalised, display, source, status, job_keys, first_seen_at, last_seen_at) "
            "VALUES ('x', 'x', 's', 'weird', '[]', '2026-01-01', '2026-01-01')"))


def test_normalised_keyword_is_unique(engine):
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add_all([Keyword(normalised="x", display="x", source="s", status="queued"),
                         Keyword(normalised="x", display="X", source="t", status="queued")])
        session.flush()


def test_0002_upgrades_a_0001_database_and_downgrades_cleanly(db_url):
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from clipmill.storage.db import alembic_config, upgrade

    upgrade(db_url, "0001")
    plain = create_engine(db_url)
    try:
        with plain.begin() as connection:
            connection.execute(text(
                "INSERT INTO batches (name, spec_path, spec_sha256, run_dir, status, created_at, updated_at) "
                "VALUES ('old', 's', 'h', 'r', 'finished', '2026-01-01', '2026-01-01')"))
        upgrade(db_url)
        assert "keywords" in inspect(plain).get_table_names()
        with plain.connect() as connection:
            assert connection.execute(text("SELECT name FROM batches")).scalars().all() == ["old"]
        command.downgrade(alembic_config(db_url), "0001")
        assert "keywords" not in inspect(plain).get_table_names()
    finally:
        plain.dispose()
