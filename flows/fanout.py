"""Fan a batch out over GPU workers: one shard of the pending jobs per worker.

Each shard is a run of the batch deployment with `only_jobs`; a process worker per GPU
(`CUDA_VISIBLE_DEVICES=i prefect worker start --pool clipmill-gpu --limit 1`) picks them up,
keeps its model loaded across the clips of its shard, and never runs two at once. The shards
share one batch in one database (PostgreSQL when workers sit on several hosts), and this flow
writes the batch's report once they are all done.
"""
from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment

from clipmill.spec import in_lora_order, load_spec
from clipmill.flows.batch import batch_state
from clipmill.tasks.clip import check_batch_ready
from clipmill.tasks.common import run_config
from clipmill.tasks.records import close_batch, open_batch
from clipmill.tasks.report import show_every_clip, write_report


def shard_jobs(job_ids: list[str], shards: int) -> list[list[str]]:
    """Round-robin, so long and short jobs (they sit together in specs) spread over workers."""
    return [part for part in (job_ids[k::shards] for k in range(max(1, shards))) if part]


@flow(name="clipmill-fanout", flow_run_name="{spec_path} x{shards}")
def fanout_batch(spec_path: str, shards: int, deployment: str = "clipmill-batch/gpu-shard",
                 run_root: str | None = None, db_secret: str | None = None, poll_s: float = 2.0,
                 artifact_url: str | None = None, retry_failed: bool = False):
    """Run the jobs of `spec_path` that have not ended as `shards` runs of `deployment`, then report.

    The run configuration is resolved here, once, and handed to every shard, so workers on
    every host record to the same database and publish to the same place."""
    logger = get_run_logger()
    spec = load_spec(spec_path, jobs_may_fail=True)  # a job wrong in the spec is recorded "error" by open_batch
    config = run_config(run_root, db_secret, artifact_url, spec.artifacts)
    check_batch_ready(config, spec)
    opened = open_batch(config, spec, retry_failed=retry_failed)
    # Jobs sharing a LoRA set next to each other first: every shard then takes a run of each set
    # and fuses it once, however the round-robin spreads them.
    pending = [job.id for job in in_lora_order(spec.jobs) if job.id not in opened.ended]
    runs = [
        run_deployment(deployment, timeout=0, as_subflow=True, tags=[f"batch:{spec.name}"], parameters={
            "spec_path": str(Path(spec_path).resolve()), "run_root": str(config.run_root),
            # The database by name: each worker reads the Secret block, or its own
            # $CLIPMILL_DATABASE_URL, so no password lands in the shards' parameters.
            "db_secret": db_secret,
            "only_jobs": part, "report": False, "artifact_url": config.artifact_url})
        for part in shard_jobs(pending, shards)
    ]
    logger.info("%d pending job(s) of %s in %d shard(s)", len(pending), spec.name, len(runs))

    # Wait for every shard; a shard that fails still leaves its jobs recorded.
    states: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while len(states) < len(runs):
            for run in runs:
                state = client.read_flow_run(run.id).state
                if state is not None and state.is_final():
                    states[str(run.id)] = state.type.value
            time.sleep(poll_s if len(states) < len(runs) else 0)

    close_batch(config, opened.batch_id)
    report = write_report(config, spec.name, bool(spec.random_weight_models()))
    show_every_clip(config, spec.name)
    return batch_state(report["counts"], {"batch": spec.name, "shards": states, "pending": len(pending), **report,
                                          "spec_errors": {job.key: job.field for job in spec.invalid_jobs}},
                       ran=len(pending))
