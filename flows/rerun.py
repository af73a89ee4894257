"""Make a recorded attempt again, exactly: the same prompts, plan, parameters, seed and start
image, through the same tasks as the clip flow, into a folder of its own (the batch's record
and published files are left as they are).

    clipmill rerun BATCH JOB [--attempt N] [--seed S]
"""
from __future__ import annotations

import dataclasses

from prefect import flow, get_run_logger

from clipmill.provenance import differences
from clipmill.tasks.clip import deflicker_clip, encode_clip, make_clip
from clipmill.tasks.common import run_config
from clipmill.tasks.records import load_reproduction


@flow(name="clipmill-rerun", flow_run_name="rerun-{batch_name}-{job_key}")
def rerun_flow(batch_name: str, job_key: str, attempt: int | None = None, seed: int | None = None,
               run_root: str | None = None, db_secret: str | None = None) -> dict:
    """Returns where the new clip and frames are, and what differs from when it was first made.
    The database: the Secret block `db_secret` names, else $CLIPMILL_DATABASE_URL."""
    logger = get_run_logger()
    config = run_config(run_root, db_secret)
    # 1. The record: what made the attempt, and on what.
    number, recorded = load_reproduction(config, batch_name, job_key, attempt)
    recipe = recorded.pinned_recipe()  # a LoRA file changed since would make another clip: refused
    if seed is not None:
        recipe = dataclasses.replace(recipe, params=dataclasses.replace(recipe.params, seed=seed))
    label = f"{job_key}-attempt-{number}" + (f"-seed-{seed}" if seed is not None else "")
    folder = config.paths(batch_name).root / "reruns" / label

    # 2. The same clip through the clip flow's own task, then what differs now (versions, weights, device).
    made = make_clip(recipe, folder, number)
    changed = differences(recorded.made_with.to_dict(), made.reproduction.made_with.to_dict())
    for difference in changed:
        logger.warning("%s differs from the recorded attempt: %s", label, difference)

    # 3. Deflickered and encoded as the attempt's first judged version was (without its labels).
    frames = deflicker_clip(made.stitched.frames_path, folder / "frames.npy", recipe.params.deflicker_strength)
    encoded = encode_clip(frames, folder / "clip.mp4", recipe.job.fps)
    return {"clip": str(encoded.path), "frames": str(frames), "attempt": number, "seed": recipe.params.seed,
            "differences": changed}
