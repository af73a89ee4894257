from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from clipmill.storage.db import dispose_engines, init_db

POSTGRES_ADMIN_URL = os.environ.get("CLIPMILL_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, monkeypatch) -> Iterator[str]:
    """Every storage test runs on SQLite and on PostgreSQL (a fresh database each time).

    PostgreSQL needs CLIPMILL_TEST_POSTGRES_URL (an account that may create databases);
    .ci/run starts a server on loopback and sets it.
    """
    # A stray CLIPMILL_DATABASE_URL in the environment must not redirect tests to a real database.
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs' / 'clipmill.db'}"
        return
    if not POSTGRES_ADMIN_URL:
        pytest.skip("CLIPMILL_TEST_POSTGRES_URL is not set (.ci/postgres.sh starts a server and prints one)")
    name = f"clipmill_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_only(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite-specific behaviour")


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    yield init_db(db_url)
    dispose_engines()
