"""Where a run keeps its work: one object resolved once per batch and handed to every flow and
task, instead of a run root, a database URL and an artifact URL travelling as loose strings.

Like a Dagster resource, it is chosen by environment (a laptop: ./runs with SQLite inside it;
a team: PostgreSQL and an object store) and the code that uses it does not care which.

It is handed to Prefect runs as a parameter, which the server stores and the dashboard shows,
so it holds the database's label, never its password (storage.db.remember_database).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from clipmill.storage.artifacts import ArtifactStore, artifact_base_url, browser_url
from clipmill.storage.db import database_url, remember_database, url_of_label
from clipmill.storage.paths import BatchPaths

RUN_ROOT_ENV = "CLIPMILL_RUN_ROOT"
# Where the artifact store is served over HTTP, if it is (a web server over the run folder, a
# bucket's public endpoint): links in the dashboard then open in a browser.
PUBLIC_URL_ENV = "CLIPMILL_PUBLIC_URL"


@dataclass(frozen=True)
class RunConfig:
    """run_root: scratch work and, by default, the database and published files.
    database: the results database's label (its URL without the password; `db_url` is the
    URL itself, found in this process). artifact_url: the artifact store's base URL."""

    run_root: Path
    database: str
    artifact_url: str
    # Where the artifact store is served (`clipmill serve`, a bucket's public endpoint), as the
    # flow found it ($CLIPMILL_PUBLIC_URL or the server's clipmill_public_url variable).
    public_base: str = ""

    @classmethod
    def resolve(cls, run_root: str | Path | None = None, db_url: str | None = None,
                artifact_url: str | None = None, spec_artifacts: str | None = None) -> "RunConfig":
        """Each setting, first found: the argument, the spec (artifacts only), the environment
        ($CLIPMILL_RUN_ROOT, $CLIPMILL_DATABASE_URL, $CLIPMILL_ARTIFACT_URL), the default
        (./runs, a SQLite file in it, the run root). A bad artifact URL fails here, before any job."""
        root = _run_root(run_root)
        return cls(run_root=root, database=remember_database(database_url(db_url, root)),
                   artifact_url=artifact_base_url(artifact_url, spec_artifacts, root))

    @property
    def db_url(self) -> str:
        """The database URL to connect with: kept by the process that resolved this config, or
        this process's $CLIPMILL_DATABASE_URL. Never pass it to a run or a log."""
        return url_of_label(self.database)

    @property
    def database_label(self) -> str:
        """The database URL as it may be shown (logs, summaries, the dashboard): no password."""
        return self.database

    def paths(self, batch_name: str) -> BatchPaths:
        """The batch's scratch folder under the run root."""
        return BatchPaths.for_batch(self.run_root, batch_name)

    def store(self, batch_name: str) -> ArtifactStore:
        """The batch's folder in the artifact store."""
        return ArtifactStore.for_batch(self.artifact_url, batch_name)

    def public_url(self, stored: str) -> str:
        """A published file's address for a person: under $CLIPMILL_PUBLIC_URL (or the public
        base the flow was given) when set, the stored URL or path otherwise."""
        public = (os.environ.get(PUBLIC_URL_ENV) or self.public_base).rstrip("/")
        base = self.artifact_url.rstrip("/")
        if public and stored.startswith(base + "/"):
            return f"{public}/{stored[len(base) + 1:]}"
        return stored

    def browser_url(self, stored: str) -> str:
        """What a dashboard card links to: the public URL; else, for an object store the
        browser cannot read (s3://), a presigned URL. Only for artifacts: a presigned URL is a
        credential for a week, so summaries, events and the database keep the stored URL."""
        public = self.public_url(stored)
        return public if public != stored else browser_url(stored)


def results_database_url(run_root: str | Path | None = None, db_url: str | None = None) -> str:
    """The database alone, resolved as RunConfig.resolve does (for commands that only read it)."""
    return database_url(db_url, _run_root(run_root))


def _run_root(run_root: str | Path | None) -> Path:
    return Path(run_root or os.environ.get(RUN_ROOT_ENV) or "runs").expanduser().resolve()
