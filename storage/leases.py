"""Job leases: a job is made by one run at a time, however many runs or workers share a batch.

A run claims a job before its first attempt: the row's `claimed_by` names the run's worker
and `lease_expires_at` says until when. A claim succeeds only on a job nobody holds, or whose
lease has expired (its worker died: the lease is the only thing that can tell a killed worker
from a slow one). While the clip is made a heartbeat thread renews the lease, so a generation
of any length keeps it; at the end the lease is released. The claim is one conditional UPDATE,
atomic on SQLite and PostgreSQL alike.

A live process is not proof of progress: a generation hung in a CUDA kernel keeps its thread,
and so its process, alive forever. So a step with a time limit says until when it may run
(`JobLease.working_until`, entered by the task layer: tasks/concurrency.py), and while any
such step is past its deadline the heartbeat stops renewing: the lease runs out and another
run can take the job over, whether or not the hung thread ever ends.

Waiting out a lease is right when its holder may be alive, but a run killed mid-clip (kill -9,
the OOM killer) would keep its jobs from the next run for the whole lease. So the worker id
names its process (host, pid, the process's start time, its pid namespace, and the Prefect
flow run it serves), and a claim takes a job over at once when its holder is provably dead:
on this host and in this pid namespace, no process with that pid and start time runs any more,
or (checked by the caller, which may ask Prefect: see `claim`'s `is_dead`) its flow run was
marked Crashed. Anything less than proof keeps the lease: a holder on another host that has
merely gone quiet may still be writing.
"""
from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select, update

from clipmill.storage.db import init_db, session_scope
from clipmill.storage.schema import Batch, Job, utcnow

logger = logging.getLogger(__name__)

LEASE_SECONDS_ENV = "CLIPMILL_LEASE_SECONDS"
DEFAULT_LEASE_S = 120.0


# Fits jobs.claimed_by (128 characters) with a Prefect flow run id: a host name may be 64 long.
_HOST_CHARS = 40


def new_worker_id(flow_run_id: str | None = None) -> str:
    """`host:pid:start:pidns:random[:flow-run-id]`: unique per claim holder, readable in the
    database, and enough to tell later whether the holder still lives (`process_is_gone`).
    `start` is the process's start time (clock ticks after boot), so a pid the kernel has
    given to a new process is not mistaken for the holder; `pidns` tells two containers that
    share a host name (host networking) apart, whose pids mean different processes."""
    me = os.getpid()
    start = _process_start(me)
    parts = [_host(), str(me), "-" if start is None else str(start), _pid_namespace() or "-", uuid.uuid4().hex[:8]]
    if flow_run_id:
        parts.append(str(flow_run_id))
    return ":".join(parts)


def flow_run_of(worker: str) -> str | None:
    """The Prefect flow run a worker id names, if any."""
    parts = worker.split(":")
    return parts[5] if len(parts) == 6 and parts[5] else None


def process_is_gone(worker: str) -> bool:
    """Whether the process that holds `worker`'s claims is provably dead: it ran on this host,
    in this pid namespace, and no live process has its pid and start time. False whenever
    that cannot be known (another host or container, an id from before ids named their
    process, a system without /proc)."""
    parts = worker.split(":")
    if len(parts) not in (5, 6):
        return False
    host, pid, start, namespace = parts[:4]
    if host != _host() or start == "-" or namespace == "-" or namespace != _pid_namespace() or not pid.isdigit():
        return False
    return _process_start(int(pid)) != int(start)


def _host() -> str:
    return socket.gethostname()[:_HOST_CHARS].replace(":", "_")


def _pid_namespace() -> str | None:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def _process_start(pid: int) -> int | None:
    """The start time of live process `pid` in clock ticks after boot; None when there is no
    such process, or only its zombie (killed and not yet reaped: it will never write again)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name in parentheses may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def lease_seconds() -> float:
    return float(os.environ.get(LEASE_SECONDS_ENV) or DEFAULT_LEASE_S)


def claim(session, job_id: int, worker: str, lease_s: float,
          is_dead: Callable[[str], bool] = process_is_gone) -> bool:
    """Take the job for `worker` unless another live lease holds it; a lease whose holder
    `is_dead` says is provably dead is taken over at once."""
    now = utcnow()
    taken = session.execute(
        update(Job)
        .where(Job.id == job_id, or_(Job.claimed_by.is_(None), Job.claimed_by == worker, Job.lease_expires_at < now))
        .values(claimed_by=worker, lease_expires_at=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return True
    owner = holder(session, job_id)
    if owner is None or not is_dead(owner):
        return False
    # Conditional on the dead holder, so of two runs taking over at once only one wins.
    taken = session.execute(
        update(Job).where(Job.id == job_id, Job.claimed_by == owner)
        .values(claimed_by=worker, lease_expires_at=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False))
    if taken.rowcount == 1:
        logger.info("job %s: taken over from %s, which is no longer running", job_id, owner)
    return taken.rowcount == 1


def live_holders(session, batch_name: str) -> set[str]:
    """The workers holding live leases on jobs of the batch called `batch_name`."""
    return set(session.scalars(select(Job.claimed_by).join(Batch).where(
        Batch.name == batch_name, Job.claimed_by.is_not(None), Job.lease_expires_at >= utcnow())).all())


def release_dead_claims(session, batch_id: int, is_dead: Callable[[str], bool] = process_is_gone) -> list[str]:
    """Release the batch's live leases whose holders are provably dead, so their attempts can
    be closed as interrupted and their jobs made at once; returns the released jobs' keys."""
    rows = session.execute(select(Job.id, Job.key, Job.claimed_by).where(
        Job.batch_id == batch_id, Job.claimed_by.is_not(None), Job.lease_expires_at >= utcnow())).all()
    verdicts: dict[str, bool] = {}  # one holder usually holds several jobs: ask once
    released = []
    for job_id, key, owner in rows:
        if owner not in verdicts:
            verdicts[owner] = is_dead(owner)
        if verdicts[owner]:
            release(session, job_id, owner)
            logger.info("job %s: its holder %s is no longer running; lease released", key, owner)
            released.append(key)
    return released


def release(session, job_id: int, worker: str) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.claimed_by == worker)
                    .values(claimed_by=None, lease_expires_at=None).execution_options(synchronize_session=False))


def holder(session, job_id: int) -> str | None:
    """Who holds a live lease on the job, if anyone."""
    return held_until(session, job_id)[0]


def held_until(session, job_id: int) -> tuple[str | None, datetime | None]:
    """Who holds a live lease on the job and until when it runs (UTC); (None, None) if nobody."""
    claimed_by, expires = session.execute(select(Job.claimed_by, Job.lease_expires_at).where(Job.id == job_id)).one()
    return (claimed_by, expires) if claimed_by and expires and expires > utcnow() else (None, None)


def describe_holder(worker: str | None, until: datetime | None) -> str:
    """`worker (lease expires 05:41:02 UTC)`: who keeps a job from this run, and how long."""
    if not worker:
        return "another run"
    return f"{worker} (lease expires {until:%H:%M:%S} UTC)" if until else worker


# The lease this context's job is made under: steps with a deadline find it here
# (tasks/concurrency.py) without every call between the flow and the task passing it along.
_current_lease: contextvars.ContextVar["JobLease | None"] = contextvars.ContextVar("clipmill_job_lease", default=None)


def current_lease() -> "JobLease | None":
    """The held `JobLease` entered in this context (or the context a task runner copied), if any."""
    return _current_lease.get()


class JobLease:
    """`with JobLease(db_url, job_id) as lease:` — `lease.held` says whether this run got the
    job; while held, a daemon thread renews it every third of its duration, unless a step
    entered with `working_until` is past its deadline."""

    def __init__(self, db_url: str, job_id: int, lease_s: float | None = None, worker: str | None = None,
                 is_dead: Callable[[str], bool] = process_is_gone) -> None:
        self.db_url, self.job_id = db_url, job_id
        self.lease_s = lease_s or lease_seconds()
        self.worker = worker or new_worker_id()
        self.is_dead = is_dead
        self.held, self.owner, self.owner_until = False, None, None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous_lease: JobLease | None = None
        # Deadlines (time.monotonic()) of the steps running now; several when QA and the
        # encode run side by side.
        self._deadlines: dict[object, float] = {}
        self._deadlines_lock = threading.Lock()

    def __enter__(self) -> "JobLease":
        with session_scope(init_db(self.db_url)) as session:
            self.held = claim(session, self.job_id, self.worker, self.lease_s)
            self.owner, self.owner_until = held_until(session, self.job_id)
        owner = self.owner
        # A wider judgement (the caller's, which may ask Prefect) runs outside the transaction,
        # which on SQLite holds the database's write lock; the take-over is then conditional on
        # that very holder.
        if not self.held and owner and self.is_dead is not process_is_gone and self.is_dead(owner):
            with session_scope(init_db(self.db_url)) as session:
                self.held = claim(session, self.job_id, self.worker, self.lease_s, is_dead=lambda o: o == owner)
                self.owner, self.owner_until = held_until(session, self.job_id)
        self._previous_lease = _current_lease.get()
        if self.held:
            _current_lease.set(self)
            self._thread = threading.Thread(target=self._renew, name=f"lease-{self.job_id}", daemon=True)
            self._thread.start()
        return self

    @contextmanager
    def working_until(self, deadline: float) -> Iterator[None]:
        """Around a step that must end by `deadline` (a `time.monotonic()` time): while it runs
        past it, the lease is not renewed. The step leaving (even by the timeout's exception)
        lets the renewals resume; a step that never leaves lets the lease run out."""
        token = object()
        with self._deadlines_lock:
            self._deadlines[token] = deadline
        try:
            yield
        finally:
            with self._deadlines_lock:
                del self._deadlines[token]

    def overrun_s(self) -> float:
        """How far the most overdue running step is past its deadline; 0 when none is."""
        now = time.monotonic()
        with self._deadlines_lock:
            return max([0.0, *(now - deadline for deadline in self._deadlines.values())])

    def still_held(self) -> bool:
        """Re-read the row: false if the lease expired and another run took the job meanwhile."""
        with session_scope(init_db(self.db_url)) as session:
            return self.held and holder(session, self.job_id) == self.worker

    def _renew(self) -> None:
        overdue = False
        while not self._stop.wait(self.lease_s / 3):
            overrun_s = self.overrun_s()
            if overrun_s > 0:
                if not overdue:
                    logger.warning("job %s: a step is %.0f s past its time limit; the lease is no longer renewed, "
                                   "so another run can take the job over once it runs out", self.job_id, overrun_s)
                overdue = True
                continue
            overdue = False
            try:
                with session_scope(init_db(self.db_url)) as session:
                    # Renewing only: a lease lost meanwhile is the new holder's, dead or not.
                    if not claim(session, self.job_id, self.worker, self.lease_s, is_dead=lambda _owner: False):
                        logger.warning("job %s: lease lost to %s", self.job_id, holder(session, self.job_id))
                        return
            except Exception as error:  # a database blip: try again at the next beat
                logger.warning("job %s: lease not renewed: %s", self.job_id, error)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        _current_lease.set(self._previous_lease)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.held:
            try:
                with session_scope(init_db(self.db_url)) as session:
                    release(session, self.job_id, self.worker)
            except Exception as error:  # a full disk or lost database must not hide how the clip ended
                # The lease then runs out by itself, or the next run here finds this process gone.
                logger.warning("job %s: lease not released: %s", self.job_id, " ".join(str(error).split())[:300])
