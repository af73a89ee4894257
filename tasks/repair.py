"""Repair tasks: join segments into one clip, then remove brightness flicker."""
from __future__ import annotations

import time
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from clipmill.media import load_frames, save_frames
from qa.deflicker import deflicker
from qa.stitch import seam_metrics, stitch_segments
from qa.temporal import flicker_score


@task(name="stitch-segments", cache_policy=NO_CACHE)
def stitch(segment_paths: list[Path], dest: Path) -> dict:
    """Drop each continuation's repeated first frame, match its colour to the previous segment."""
    started = time.perf_counter()
    result = stitch_segments([load_frames(p) for p in segment_paths], shared_frames=1, match_colour=True)
    save_frames(result.frames, dest)
    return {
        "frames_path": str(dest),
        "frames": int(len(result.frames)),
        "seams": list(result.seams),
        "seam_metrics": seam_metrics(result.frames, result.seams),
        "seconds": time.perf_counter() - started,
    }


@task(name="deflicker", cache_policy=NO_CACHE)
def deflicker_clip(src: Path, dest: Path, strength: float) -> dict:
    started = time.perf_counter()
    frames = load_frames(src)
    repaired = deflicker(frames, strength=strength)
    save_frames(repaired, dest)
    return {
        "frames_path": str(dest),
        "flicker_before": flicker_score(frames),
        "flicker_after": flicker_score(repaired),
        "seconds": time.perf_counter() - started,
    }
