"""Alembic environment for clipmill's results database.

The URL comes from, in order: the `database_url` attribute that storage.db.init_db sets,
$CLIPMILL_DATABASE_URL, `sqlalchemy.url` in the ini file, then the default ./runs/clipmill.db.
"""
from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection, make_url

from clipmill.storage.db import ENV_VAR, database_url, migration_engine
from clipmill.storage.schema import Base

config = context.config

# Only the command line configures logging: init_db passes no ini file, and an embedding
# caller can opt out with attributes["configure_logger"] = False.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    return (
        config.attributes.get("database_url")
        or os.environ.get(ENV_VAR)
        or config.get_main_option("sqlalchemy.url")
        or database_url()
    )


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    is_sqlite = make_url(url).get_backend_name() == "sqlite" if url else connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=is_sqlite,
        # SQLite does support transactional DDL; one transaction (begun IMMEDIATE, see
        # storage.db.configure_sqlite) makes two workers migrating at once queue, not collide.
        transactional_ddl=True if is_sqlite else None,
        compare_type=True,
        literal_binds=connection is None,
        dialect_opts={"paramstyle": "named"} if connection is None else {},
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        _configure(connection=shared)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = migration_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
