"""Job leases: a job is made by one run at a time, however many runs or workers share a batch.

A run claims a job before its first attempt: the row's `claimed_by` names the run's worker
and `lease_expires_at` says until when. A claim succeeds only on a job nobody holds, or whose
lease has expired (its worker died: the lease is the only thing that can tell a killed worker
from a slow one). While the clip is made a heartbeat thread renews the lease, so a generation
of any length keeps it; at the end the lease is released. The claim is one conditional UPDATE,
atomic on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update

from storage.db import init_db, session_scope
from storage.schema import Job, utcnow

logger = logging.getLogger(__name__)

LEASE_SECONDS_ENV = "CLIPMILL_LEASE_SECONDS"
DEFAULT_LEASE_S = 120.0


def new_worker_id() -> str:
    """host:pid:random — unique per claim holder, readable in the database."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_seconds() -> float:
    return float(os.environ.get(LEASE_SECONDS_ENV) or DEFAULT_LEASE_S)


def claim(session, job_id: int, worker: str, lease_s: float) -> bool:
    """Take the job for `worker` unless another live lease holds it."""
    now = utcnow()
    taken = session.execute(
        update(Job)
        .where(Job.id == job_id, or_(Job.claimed_by.is_(None), Job.claimed_by == worker, Job.lease_expires_at < now))
        .values(claimed_by=worker, lease_expires_at=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def release(session, job_id: int, worker: str) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.claimed_by == worker)
                    .values(claimed_by=None, lease_expires_at=None).execution_options(synchronize_session=False))


def holder(session, job_id: int) -> str | None:
    """Who holds a live lease on the job, if anyone."""
    claimed_by, expires = session.execute(select(Job.claimed_by, Job.lease_expires_at).where(Job.id == job_id)).one()
    return claimed_by if claimed_by and expires and expires > utcnow() else None


class JobLease:
    """`with JobLease(db_url, job_id) as lease:` — `lease.held` says whether this run got the
    job; while held, a daemon thread renews it every third of its duration."""

    def __init__(self, db_url: str, job_id: int, lease_s: float | None = None, worker: str | None = None) -> None:
        self.db_url, self.job_id = db_url, job_id
        self.lease_s = lease_s or lease_seconds()
        self.worker = worker or new_worker_id()
        self.held, self.owner = False, None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "JobLease":
        with session_scope(init_db(self.db_url)) as session:
            self.held = claim(session, self.job_id, self.worker, self.lease_s)
            self.owner = self.worker if self.held else holder(session, self.job_id)
        if self.held:
            self._thread = threading.Thread(target=self._renew, name=f"lease-{self.job_id}", daemon=True)
            self._thread.start()
        return self

    def still_held(self) -> bool:
        """Re-read the row: false if the lease expired and another run took the job meanwhile."""
        with session_scope(init_db(self.db_url)) as session:
            return self.held and holder(session, self.job_id) == self.worker

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                with session_scope(init_db(self.db_url)) as session:
                    if not claim(session, self.job_id, self.worker, self.lease_s):
                        logger.warning("job %s: lease lost to %s", self.job_id, holder(session, self.job_id))
                        return
            except Exception as error:  # a database blip: try again at the next beat
                logger.warning("job %s: lease not renewed: %s", self.job_id, error)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.held:
            with session_scope(init_db(self.db_url)) as session:
                release(session, self.job_id, self.worker)
