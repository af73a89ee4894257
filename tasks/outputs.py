"""Output tasks: H.264 encode of an attempt, copies into the artifact store, publishing an
accepted clip, the batch report."""
from __future__ import annotations

import json
import time
from pathlib import Path, PurePosixPath

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from clipmill.media import encode_mp4, load_frames, probe, save_poster
from clipmill.report import render_gallery, render_markdown_summary, results_table
from storage.artifacts import ArtifactStore
from storage.db import init_db, session_scope
from storage.repository import batch_report
from tasks.common import retry_on_infrastructure_error

# Writes to the artifact store: a remote store can drop a connection, worth retrying; a bad
# URL (ValueError) fails the same way every time and is not retried.
STORE_TASK = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 2,
              "retry_condition_fn": retry_on_infrastructure_error}


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


@task(name="store-artifact", **STORE_TASK)
def store_artifact(local_path: Path, store_url: str, relative: str) -> str:
    """Copy a finished local file (an attempt's MP4 or poster, a prepared image) to `relative`
    in the artifact store at `store_url`; returns the URL the database records."""
    return ArtifactStore(store_url).put_file(local_path, relative)


@task(name="publish-clip", **STORE_TASK)
def publish_clip(attempt_clip: Path, attempt_poster: Path, store_url: str, relative: str, sidecar: dict) -> dict:
    """The accepted attempt at `relative` (clips/<job>.mp4) in the artifact store, with its
    poster and a JSON sidecar beside it; returns their URLs."""
    store, name = ArtifactStore(store_url), PurePosixPath(relative)
    return {"clip": store.put_file(attempt_clip, relative),
            "poster": store.put_file(attempt_poster, str(name.with_suffix(".png"))),
            "sidecar": store.put_text(json.dumps(sidecar, indent=2, ensure_ascii=False, default=str),
                                      str(name.with_suffix(".json")))}


@task(name="write-report", **STORE_TASK)
def write_report(db_url: str, batch_name: str, artifact_url: str, random_weights: bool) -> dict:
    """report.json and the HTML gallery in the batch's folder of the artifact store (under
    `artifact_url`), plus table and markdown artifacts."""
    store = ArtifactStore.for_batch(artifact_url, batch_name)
    with session_scope(init_db(db_url)) as session:
        report = batch_report(session, batch_name)
    report["random_weights"] = random_weights
    report_url = store.put_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), "report.json")
    gallery_url = store.put_text(render_gallery(report, base_dir=store.url), "index.html")
    create_table_artifact(results_table(report), key=_artifact_key(batch_name, "results"),
                          description=f"clipmill batch {batch_name}: one row per job")
    create_markdown_artifact(render_markdown_summary(report, gallery=gallery_url),
                             key=_artifact_key(batch_name, "summary"),
                             description=f"clipmill batch {batch_name}: summary")
    return {"report": report_url, "gallery": gallery_url, "clips": store.url_for("clips"),
            "counts": report.get("counts", {})}


def _artifact_key(batch_name: str, what: str) -> str:
    # Artifact keys allow lowercase letters, digits and dashes only.
    safe = "".join(ch if ch.isalnum() else "-" for ch in batch_name.lower()).strip("-")
    return f"clipmill-{safe}-{what}"
