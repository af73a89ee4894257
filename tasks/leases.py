"""Who may take a job over from another run: storage.leases judges a holder by its process;
this adds what only Prefect knows, whether the holder's flow run was marked Crashed (a worker
on another host whose process was killed: the Prefect worker that ran it says so)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from prefect import task
from sqlalchemy import select

from clipmill.storage.config import RunConfig
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.leases import describe_holder, flow_run_of, new_worker_id, process_is_gone
from clipmill.storage.schema import ENDED_JOB_STATUSES, Job, utcnow
from clipmill.tasks.common import DB_TASK

logger = logging.getLogger(__name__)


def holder_is_dead(worker: str) -> bool:
    """Whether the run holding `worker`'s leases is provably dead: its process on this host is
    gone, or the Prefect flow run it served is Crashed. Not knowing (no server, another
    server, an unreadable id) is no proof: the lease is then waited out."""
    if process_is_gone(worker):
        return True
    run_id = flow_run_of(worker)
    if run_id is None:
        return False
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(uuid.UUID(run_id)).state
    except Exception as error:  # no such run on this server, no server at all: nothing proven
        logger.debug("flow run %s of lease holder %s not read: %s", run_id, worker, error)
        return False
    return state is not None and state.is_crashed()


def this_runs_worker_id() -> str:
    """A worker id naming this process and the batch flow run it serves (called from the clip
    subflow: its parent). That run is what a Prefect worker marks Crashed when its process
    dies: the deployment's run, or a fan-out shard's, whose root is the fan-out's own run on
    another process, so not the root."""
    from prefect.runtime import flow_run

    try:
        run_id = flow_run.parent_flow_run_id or flow_run.get_id()
    except Exception:  # outside a flow run
        run_id = None
    return new_worker_id(str(run_id) if run_id else None)


@dataclass(frozen=True)
class HeldJob:
    """Where a job another run held stands now: `ended` (its status) when that run ended it,
    `holder` (worker and lease expiry) while a live run still holds it; neither: free to make."""

    key: str
    ended: str | None = None
    holder: str | None = None


@task(name="held-jobs", **DB_TASK)
def held_jobs(config: RunConfig, batch_id: int, keys: list[str]) -> dict[str, HeldJob]:
    """Where each of the batch's jobs `keys`, which other runs held, stands now."""
    with session_scope(init_db(config.db_url)) as session:
        rows = session.execute(select(Job.key, Job.status, Job.claimed_by, Job.lease_expires_at).where(
            Job.batch_id == batch_id, Job.key.in_(keys))).all()
    now, found = utcnow(), {}
    for key, status, worker, expires in rows:
        if status in ENDED_JOB_STATUSES:
            found[key] = HeldJob(key, ended=status)
        elif worker and expires and expires >= now and not holder_is_dead(worker):
            found[key] = HeldJob(key, holder=describe_holder(worker, expires))
        else:
            found[key] = HeldJob(key)
    return found
