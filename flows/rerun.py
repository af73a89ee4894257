"""Make a recorded attempt again, exactly: the same prompts, plan, parameters, seed and start
image, through the same tasks as the clip flow, into a folder of its own (the batch's record
and published files are left as they are).

    clipmill rerun BATCH JOB [--attempt N] [--seed S]
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from prefect import flow, get_run_logger

from clipmill.provenance import differences, software_versions, weights_fingerprint
from clipmill.spec import JobSpec, ModelSources
from clipmill.qa.retry import AttemptParams
from clipmill.tasks.common import run_config
from clipmill.tasks.generate import generate_segment
from clipmill.tasks.outputs import encode_clip
from clipmill.tasks.records import load_reproduction
from clipmill.tasks.repair import deflicker_clip, stitch


@flow(name="clipmill-rerun", flow_run_name="rerun-{batch_name}-{job_key}")
def rerun_flow(batch_name: str, job_key: str, attempt: int | None = None, seed: int | None = None,
               run_root: str | None = None, db_secret: str | None = None) -> dict:
    """Returns where the new clip and frames are, and what differs from when it was first made.
    The database: the Secret block `db_secret` names, else $CLIPMILL_DATABASE_URL."""
    logger = get_run_logger()
    config = run_config(run_root, db_secret)
    # 1. The record, and what differs now (versions, weights, device).
    recorded = load_reproduction(config, batch_name, job_key, attempt)
    job, models = JobSpec.model_validate(recorded["job"]), ModelSources.model_validate(recorded["models"])
    params = AttemptParams(**recorded["params"])
    if seed is not None:
        params = dataclasses.replace(params, seed=seed)
    label = f"{job_key}-attempt-{recorded['attempt']}" + (f"-seed-{seed}" if seed is not None else "")
    folder = config.paths(batch_name).root / "reruns" / label

    # 2. The same segments, stitch, deflicker and encode as the clip flow.
    segment_paths, previous = [], Path(recorded["start_image"]) if recorded["start_image"] else None
    for number, prompt in enumerate(recorded["prompts"], start=1):
        segment = generate_segment(job, models, params, prompt=prompt, negative_prompt=recorded["negative_prompt"],
                                   start_image=previous, attempt=recorded["attempt"], segment=number,
                                   dest=folder / f"segment-{number}.npy")
        segment_paths.append(segment.frames_path)
        previous = segment.last_frame
    now = {"versions": software_versions(), "model_source": segment.source,
           "weights": weights_fingerprint(segment.source), "device": segment.device}
    changed = differences(recorded, now)
    for difference in changed:
        logger.warning("%s differs from the recorded attempt: %s", label, difference)
    stitched = stitch(segment_paths, folder / "stitched.npy")
    frames = deflicker_clip(stitched.frames_path, folder / "frames.npy", params.deflicker_strength)
    encoded = encode_clip(frames, folder / "clip.mp4", job.fps)
    return {"clip": str(encoded.path), "frames": str(frames), "attempt": recorded["attempt"], "seed": params.seed,
            "differences": changed}
