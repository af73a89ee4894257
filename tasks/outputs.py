"""Output tasks: H.264 encode of an attempt, copies into the artifact store, publishing an
accepted clip."""
from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from prefect import task

from clipmill.media import load_frames, probe, save_poster
from clipmill.bookkeeping import ClipRecord, Sidecar
from clipmill.outcomes import EncodedClip, PublishedClip
from clipmill.publishing import PublishSettings, clip_manifest, encode_published, new_produce_id
from clipmill.storage.artifacts import ArtifactStore
from clipmill.tasks.common import STORE_TASK, clip_step_name
from clipmill.tasks.concurrency import ENCODE_TASK, lease_lapses_at_timeout


@task(name="encode-mp4", task_run_name=clip_step_name, **ENCODE_TASK)
@lease_lapses_at_timeout
def encode_clip(frames_path: Path, dest: Path, fps: int, publish: PublishSettings | None = None,
                clip: ClipRecord | None = None) -> EncodedClip:
    """H.264 / yuv420p / +faststart, checked with ffprobe afterwards: the frame count and fps
    that reach the viewer are the ones the job asked for. With `publish` enabled the clip
    carries the AIGC labels (visible on its opening frames, the AIGC tag, C2PA when
    configured), burnt in here, after QA judged the unlabelled frames; `clip` (batch, job,
    attempt, seed, model) goes into the C2PA manifest. The clip's ProduceID is made here, once:
    the AIGC tag and the manifest both carry it."""
    frames = load_frames(frames_path)
    publish = publish or PublishSettings()
    produce_id = new_produce_id()
    manifest = clip_manifest(title=dest.name, model=clip.model if clip else "unknown",
                             record=clip.to_dict() if clip else {},
                             produce_id=produce_id) if publish.enabled and publish.c2pa else None
    labels = encode_published(frames, dest, fps=fps, settings=publish, produce_id=produce_id, c2pa_manifest=manifest)
    poster = save_poster(frames, dest.with_suffix(".png"))
    info = probe(dest)
    if info.frames != len(frames):
        raise RuntimeError(f"{dest}: encoded {info.frames} frames, expected {len(frames)}")
    return EncodedClip(path=dest, poster=poster, probe=info, labels=labels)


@task(name="store-artifact", task_run_name=clip_step_name, **STORE_TASK)
def store_artifact(local_path: Path, store_url: str, relative: str) -> str:
    """Copy a finished local file (an attempt's MP4 or poster, a prepared image) to `relative`
    in the artifact store at `store_url`; returns the URL the database records."""
    return ArtifactStore(store_url).put_file(local_path, relative)


@task(name="publish-clip", task_run_name=clip_step_name, **STORE_TASK)
def publish_clip(encoded: EncodedClip, store_url: str, relative: str, sidecar: Sidecar) -> PublishedClip:
    """The accepted attempt at `relative` (clips/<job>.mp4) in the artifact store, with its
    poster and a JSON sidecar beside it; returns their URLs."""
    store, name = ArtifactStore(store_url), PurePosixPath(relative)
    return PublishedClip(
        clip=store.put_file(encoded.path, relative),
        poster=store.put_file(encoded.poster, str(name.with_suffix(".png"))),
        sidecar=store.put_text(json.dumps(sidecar.to_dict(), indent=2, ensure_ascii=False, default=str),
                               str(name.with_suffix(".json"))))
