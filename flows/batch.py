"""The batch flow: a spec in, every job through the clip flow, a report out.

Running the same spec again resumes the batch: jobs already accepted are skipped.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from clipmill.spec import load_spec
from flows.clip import clip_flow
from storage.db import database_url
from storage.paths import BatchPaths, default_run_root
from tasks.outputs import write_report
from tasks.records import close_batch, open_batch


@flow(name="clipmill-batch", flow_run_name="{spec_path}")
def batch_flow(spec_path: str, run_root: str | None = None, db_url: str | None = None,
               only_jobs: list[str] | None = None, report: bool = True) -> dict:
    """Run every job of the batch spec at `spec_path`; results go to `run_root` and `db_url`
    (defaults: $CLIPMILL_RUN_ROOT or ./runs, and $CLIPMILL_DATABASE_URL or a SQLite file there).

    `only_jobs` runs a shard of the batch (flows/fanout.py gives each GPU worker one);
    `report=False` leaves the batch open and the report to whoever runs the last shard."""
    logger = get_run_logger()
    spec = load_spec(spec_path)
    root = Path(run_root).expanduser().resolve() if run_root else default_run_root()
    db_url = database_url(db_url, root)
    paths = BatchPaths.for_batch(root, spec.name)
    random_models = spec.random_weight_models()
    if random_models:
        logger.warning("RANDOM WEIGHTS: %s run with random weights; clips and scores are not meaningful.",
                       ", ".join(random_models))

    opened = open_batch(db_url, spec, paths.root, abandon_running=only_jobs is None)
    jobs = [job for job in spec.jobs if only_jobs is None or job.id in only_jobs]
    progress = create_progress_artifact(0.0, description=f"clipmill batch {spec.name}: jobs finished")
    results: dict[str, dict] = {}
    for done, job in enumerate(jobs, start=1):
        if job.id in opened["accepted"]:
            results[job.id] = {"job": job.id, "status": "accepted", "resumed": True}
            logger.info("%s already accepted in an earlier run; skipped", job.id)
        else:
            state = clip_flow(job, opened["batch_id"], spec.name, db_url, str(root), spec.models,
                              return_state=True)
            results[job.id] = (state.result() if state.is_completed()
                               else {"job": job.id, "status": "error", "reason": state.message or state.name})
        update_progress_artifact(progress, 100.0 * done / len(jobs))

    summary = {"batch": spec.name, "run_dir": str(paths.root), "database": db_url, "random_weights": random_models,
               "jobs": results}
    if not report:
        return summary
    close_batch(db_url, opened["batch_id"])
    return {**summary, **write_report(db_url, spec.name, root, bool(random_models))}


if __name__ == "__main__":
    import sys

    print(batch_flow(sys.argv[1] if len(sys.argv) > 1 else "deployments/specs/demo.yaml"))
