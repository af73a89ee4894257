"""The batch flow: a spec in, every job through the clip flow, a report out.

Running the same spec again resumes the batch: jobs already accepted are skipped.

A worker keeps `clips_in_flight` clips going at once (two by default), each in its own
thread. Generation holds the device (models.devices.generation_lock), so while one clip is
deflickered, checked and encoded on the CPU, the next one is already generating: the GPU
does not wait for the CPU stages.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from clipmill.spec import JobSpec, ModelSources, load_spec
from flows.clip import clip_flow
from storage.artifacts import artifact_base_url
from storage.db import database_url
from storage.paths import BatchPaths, default_run_root
from tasks.outputs import write_report
from tasks.records import close_batch, open_batch


@task(name="run-clip", task_run_name="{job.id}", cache_policy=NO_CACHE)
def run_clip(job: JobSpec, batch_id: int, batch_name: str, db_url: str, run_root: str,
             models: ModelSources, artifact_url: str) -> dict:
    """One job's clip flow, as a task so that the batch can keep several in flight. The clip
    flow records its own failure; here it becomes the job's "error" result."""
    state = clip_flow(job, batch_id, batch_name, db_url, run_root, models, artifact_url, return_state=True)
    if state.is_completed():
        return state.result()
    return {"job": job.id, "status": "error", "reason": state.message or state.name}


@flow(name="clipmill-batch", flow_run_name="{spec_path}")
def batch_flow(spec_path: str, run_root: str | None = None, db_url: str | None = None,
               only_jobs: list[str] | None = None, report: bool = True, clips_in_flight: int = 2,
               artifact_url: str | None = None) -> dict:
    """Run every job of the batch spec at `spec_path`; results go to `run_root` and `db_url`
    (defaults: $CLIPMILL_RUN_ROOT or ./runs, and $CLIPMILL_DATABASE_URL or a SQLite file there),
    published clips and the report to the artifact store at `artifact_url` (a folder or an
    fsspec URL; default: the spec's `artifacts`, else $CLIPMILL_ARTIFACT_URL, else `run_root`).

    `only_jobs` runs a shard of the batch (flows/fanout.py gives each GPU worker one);
    `report=False` leaves the batch open and the report to whoever runs the last shard;
    `clips_in_flight` is how many clips this worker works on at once (1: one after another)."""
    if clips_in_flight < 1:
        raise ValueError(f"clips_in_flight must be at least 1, got {clips_in_flight}")
    logger = get_run_logger()
    spec = load_spec(spec_path)
    root = Path(run_root).expanduser().resolve() if run_root else default_run_root()
    db_url = database_url(db_url, root)
    artifact_url = artifact_base_url(artifact_url, spec.artifacts, root)
    paths = BatchPaths.for_batch(root, spec.name)
    random_models = spec.random_weight_models()
    if random_models:
        logger.warning("RANDOM WEIGHTS: %s run with random weights; clips and scores are not meaningful.",
                       ", ".join(random_models))

    opened = open_batch(db_url, spec, paths.root, abandon_running=only_jobs is None)
    jobs = [job for job in spec.jobs if only_jobs is None or job.id in only_jobs]
    results: dict[str, dict] = {}
    for job in jobs:
        if job.id in opened["accepted"]:
            results[job.id] = {"job": job.id, "status": "accepted", "resumed": True}
            logger.info("%s already accepted in an earlier run; skipped", job.id)
    pending = [job for job in jobs if job.id not in results]
    progress = create_progress_artifact(100.0 * len(results) / len(jobs) if jobs else 100.0,
                                        description=f"clipmill batch {spec.name}: jobs finished")
    # Jobs start in spec order, `clips_in_flight` at a time; results come back as they finish.
    with ThreadPoolTaskRunner(max_workers=clips_in_flight) as runner:
        submitted = {runner.submit(run_clip, parameters={
            "job": job, "batch_id": opened["batch_id"], "batch_name": spec.name, "db_url": db_url,
            "run_root": str(root), "models": spec.models, "artifact_url": artifact_url}): job for job in pending}
        for future in as_completed(list(submitted)):
            job, outcome = submitted[future], future.result(raise_on_failure=False)
            # Whatever escaped the clip flow's own handling ends this job, never the batch.
            results[job.id] = outcome if isinstance(outcome, dict) else {
                "job": job.id, "status": "error", "reason": f"{type(outcome).__name__}: {outcome}"}
            update_progress_artifact(progress, 100.0 * len(results) / len(jobs))
    results = {job.id: results[job.id] for job in jobs}  # spec order, for people reading it

    summary = {"batch": spec.name, "run_dir": str(paths.root), "database": db_url, "random_weights": random_models,
               "jobs": results}
    if not report:
        return summary
    close_batch(db_url, opened["batch_id"])
    return {**summary, **write_report(db_url, spec.name, artifact_url, bool(random_models))}


if __name__ == "__main__":
    import sys

    print(batch_flow(sys.argv[1] if len(sys.argv) > 1 else "deployments/specs/demo.yaml"))
