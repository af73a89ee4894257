"""Control batches that run on the work pool: submit one with a priority, cancel it or some of
its jobs, pause it between clips, resume it. The database carries the request for clips not started yet; the Prefect API
carries it to the runs in flight (their generation stops within a denoising step)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from clipmill.cli.console import fail

RunRoot = typer.Option(None, "--run-root", help="[default: $CLIPMILL_RUN_ROOT or ./runs]")
DbUrl = typer.Option(None, "--db-url", help="[default: $CLIPMILL_DATABASE_URL or SQLite in the run root]")
LIVE = ("RUNNING", "PENDING", "SCHEDULED", "PAUSED")


def _batch_runs(batch: str):
    """The batch's flow runs that have not finished: the batch runs and their job subflows."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    live = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(s) for s in LIVE]))
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[f"batch:{batch}"]), state=live))


def _set_batch_flags(batch: str, run_root, db_url, *, jobs: list[str] = (), pause: bool | None = None) -> None:
    from sqlalchemy import select

    from clipmill.storage.config import results_database_url
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.schema import Batch

    with session_scope(init_db(results_database_url(run_root, db_url))) as session:
        record = session.scalar(select(Batch).where(Batch.name == batch))
        if record is None:
            fail(f"no batch named {batch!r} in the results database")
        if pause is not None:
            record.pause_requested = pause
        known = {job.key: job for job in record.jobs}
        unknown = sorted(set(jobs) - set(known))
        if unknown:
            fail(f"batch {batch!r} has no job {', '.join(map(repr, unknown))}")
        for key in jobs:
            known[key].cancel_requested = True


PRIORITIES = ("urgent", "normal", "bulk")  # the GPU pool's work queues, most urgent first


def submit(spec: Path = typer.Argument(..., help="batch spec YAML (at the same path on the workers)"),
           priority: Optional[str] = typer.Option(None, "--priority", help="urgent, normal or bulk "
                                                  "[default: the spec's priority]"),
           deployment: str = typer.Option("clipmill-batch/batch", "--deployment",
                                          help="a batch deployment that takes spec_path"),
           db_secret: Optional[str] = typer.Option(None, "--db-secret",
                                                   help="a Prefect Secret block holding the database URL "
                                                        "[default: the deployment's, else the worker's "
                                                        "$CLIPMILL_DATABASE_URL]")) -> None:
    """Queue a batch on the GPU work pool; a worker picks it up, urgent batches before normal
    ones, normal before bulk (Prefect work-queue priorities). The database goes by name (a
    Secret block) or the worker's environment: a URL would be stored with the run."""
    from prefect.deployments import run_deployment

    from clipmill.spec import SpecError, load_spec

    try:
        loaded = load_spec(spec)
    except SpecError as error:
        fail(str(error))
    queue = priority or loaded.priority
    if queue not in PRIORITIES:
        fail(f"--priority {queue!r}: use one of {', '.join(PRIORITIES)}")
    # The batch flow names its run as it starts; handing it the name (run_name) keeps the one
    # printed here, so the operator finds the run by it in the dashboard.
    run_name = f"{loaded.name}-{datetime.now():%Y%m%d-%H%M%S}"
    parameters = {"spec_path": str(spec.resolve()), "run_name": run_name,
                  **({"db_secret": db_secret} if db_secret else {})}
    run = run_deployment(deployment, parameters=parameters, timeout=0, flow_run_name=run_name,
                         work_queue_name=queue, tags=[f"batch:{loaded.name}", f"priority:{queue}"])
    typer.echo(f"queued {loaded.name} as {run.name} ({run.id}) on {deployment}, work queue {queue!r}")


def cancel(batch: str = typer.Argument(..., help="batch name"),
           jobs: Optional[list[str]] = typer.Argument(None, help="only these jobs [default: the whole batch]"),
           run_root: Optional[Path] = RunRoot, db_url: Optional[str] = DbUrl) -> None:
    """Cancel a batch, or some of its jobs: generation stops within a denoising step and each
    job is recorded as cancelled; the next run of the batch makes it again."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    jobs = list(jobs or [])
    _set_batch_flags(batch, run_root, db_url, jobs=jobs)
    runs = [run for run in _batch_runs(batch)
            if (run.name in jobs if jobs else run.parent_task_run_id is None)]
    with get_client(sync_client=True) as client:
        for run in runs:
            client.set_flow_run_state(run.id, Cancelling(message="cancelled with clipmill cancel"), force=True)
    what = ", ".join(jobs) if jobs else "the batch"
    typer.echo(f"cancelling {what} of {batch}: {len(runs)} run(s) in flight told; jobs not started yet will not start")


def pause(batch: str = typer.Argument(..., help="batch name"), run_root: Optional[Path] = RunRoot,
          db_url: Optional[str] = DbUrl) -> None:
    """Pause a batch between clips: clips in flight finish, no new one starts until `resume`."""
    _set_batch_flags(batch, run_root, db_url, pause=True)
    typer.echo(f"pausing {batch}: clips in flight finish, then it waits for `clipmill resume {batch}`")


def resume(batch: str = typer.Argument(..., help="batch name"), run_root: Optional[Path] = RunRoot,
           db_url: Optional[str] = DbUrl) -> None:
    """Resume a paused batch."""
    from prefect.flow_runs import resume_flow_run

    _set_batch_flags(batch, run_root, db_url, pause=False)
    paused = [run for run in _batch_runs(batch) if run.state and run.state.is_paused()]
    for run in paused:
        resume_flow_run(run.id)
    typer.echo(f"resumed {batch} ({len(paused)} paused run(s))")
