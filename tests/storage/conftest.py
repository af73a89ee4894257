from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from storage.db import dispose_engines, init_db


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    # A stray CLIPMILL_DATABASE_URL in the environment must not redirect tests to a real database.
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    return f"sqlite:///{tmp_path / 'runs' / 'clipmill.db'}"


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    yield init_db(db_url)
    dispose_engines()
