"""Repair tasks: join segments into one clip, then remove brightness flicker."""
from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from clipmill.media import load_frames, save_frames
from clipmill.outcomes import StitchedClip
from clipmill.qa.deflicker import deflicker
from clipmill.qa.stitch import seam_metrics, stitch_segments
from clipmill.tasks.common import clip_step_name


@task(name="stitch-segments", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def stitch(segment_paths: list[Path], dest: Path) -> StitchedClip:
    """Drop each continuation's repeated first frame, match its colour to the previous segment.
    A single segment is already the clip: it is passed on as it is, not read and written again
    (a 720p clip is a third of a gigabyte, and this sits between generation and QA)."""
    if len(segment_paths) == 1:
        return StitchedClip(frames_path=segment_paths[0], seams=[], seam_metrics=[])
    result = stitch_segments([load_frames(p) for p in segment_paths], shared_frames=1, match_colour=True)
    save_frames(result.frames, dest)
    return StitchedClip(frames_path=dest, seams=list(result.seams), seam_metrics=seam_metrics(result.frames, result.seams))


@task(name="deflicker", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def deflicker_clip(src: Path, dest: Path, strength: float) -> Path:
    save_frames(deflicker(load_frames(src), strength=strength), dest)
    return dest
