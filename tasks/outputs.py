"""Output tasks: H.264 encode of an attempt, publishing an accepted clip, the batch report."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from clipmill.media import encode_mp4, load_frames, probe, save_poster
from clipmill.report import render_gallery, render_markdown_summary, results_table
from storage.db import init_db, session_scope
from storage.files import atomic_path, atomic_write_text
from storage.paths import BatchPaths
from storage.repository import batch_report
from tasks.common import retry_on_infrastructure_error


@task(name="encode-mp4", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2,
      retry_condition_fn=retry_on_infrastructure_error)
def encode_clip(frames_path: Path, dest: Path, fps: int) -> dict:
    """H.264 / yuv420p / +faststart, checked with ffprobe afterwards: the frame count and fps
    that reach the viewer are the ones the job asked for."""
    started = time.perf_counter()
    frames = load_frames(frames_path)
    encode_mp4(frames, dest, fps=fps)
    poster = save_poster(frames, dest.with_suffix(".png"))
    info = probe(dest)
    if info.frames != len(frames):
        raise RuntimeError(f"{dest}: encoded {info.frames} frames, expected {len(frames)}")
    return {"path": str(dest), "poster": str(poster), "probe": info.to_dict(), "seconds": time.perf_counter() - started}


@task(name="publish-clip", cache_policy=NO_CACHE)
def publish_clip(attempt_clip: Path, attempt_poster: Path, dest: Path, sidecar: dict) -> dict:
    """Copy the accepted attempt into clips/ with its poster and a JSON sidecar."""
    with atomic_path(dest) as tmp:
        shutil.copyfile(attempt_clip, tmp)
    poster = dest.with_suffix(".png")
    with atomic_path(poster) as tmp:
        shutil.copyfile(attempt_poster, tmp)
    sidecar_path = atomic_write_text(dest.with_suffix(".json"),
                                     json.dumps(sidecar, indent=2, ensure_ascii=False, default=str))
    return {"clip": str(dest), "poster": str(poster), "sidecar": str(sidecar_path)}


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(db_url: str, batch_name: str, run_root: Path, random_weights: bool) -> dict:
    """report.json and the HTML gallery in the batch folder, plus table and markdown artifacts."""
    paths = BatchPaths.for_batch(run_root, batch_name)
    with session_scope(init_db(db_url)) as session:
        report = batch_report(session, batch_name)
    report["random_weights"] = random_weights
    atomic_write_text(paths.report_json, json.dumps(report, indent=2, ensure_ascii=False, default=str))
    atomic_write_text(paths.index_html, render_gallery(report, base_dir=paths.root))
    create_table_artifact(results_table(report), key=_artifact_key(batch_name, "results"),
                          description=f"clipmill batch {batch_name}: one row per job")
    create_markdown_artifact(render_markdown_summary(report, gallery=paths.index_html),
                             key=_artifact_key(batch_name, "summary"),
                             description=f"clipmill batch {batch_name}: summary")
    return {"report": str(paths.report_json), "gallery": str(paths.index_html), "counts": report.get("counts", {})}


def _artifact_key(batch_name: str, what: str) -> str:
    # Artifact keys allow lowercase letters, digits and dashes only.
    safe = "".join(ch if ch.isalnum() else "-" for ch in batch_name.lower()).strip("-")
    return f"clipmill-{safe}-{what}"
