"""The two halves of an attempt, one task each: making the clip (every segment on the GPU,
then the stitch), and judging it beside its MP4 encode (after the deflicker). The clip flow
runs both; `clipmill rerun` makes a recorded clip again through the same make_clip.

Each step is a task of its own inside them (generate-segment, stitch-segments, deflicker,
check-clip, encode-mp4), so the dashboard lists every step of every attempt by name; the
two repairs of the frames, joining segments and removing flicker, are here too.
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from clipmill.bookkeeping import AttemptRecord, ClipRecipe, ClipRecord, JudgedClip, MadeClip, Provenance, Reproduction
from clipmill.media import load_frames, save_frames
from clipmill.outcomes import StitchedClip
from clipmill.planning import ShotPlan
from clipmill.provenance import software_versions, weights_fingerprint
from clipmill.publishing import PublishSettings
from clipmill.qa.deflicker import deflicker
from clipmill.qa.stitch import seam_metrics, stitch_segments
from clipmill.tasks.checks import check_clip
from clipmill.tasks.common import clip_step_name
from clipmill.tasks.generate import generate_segment
from clipmill.tasks.outputs import encode_clip


@task(name="make-clip", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def make_clip(recipe: ClipRecipe, folder: Path, attempt: int, record: AttemptRecord | None = None) -> MadeClip:
    """Every segment of `recipe` into `folder`, each continuing from the previous one's last
    frame (the first from the start image, if any), stitched into one clip. `record`: the
    attempt's record, kept up to date segment by segment, so that an attempt that breaks
    half-way still lists what it made."""
    segment_paths, previous = [], recipe.start_image
    for number, prompt in enumerate(recipe.prompts, start=1):
        segment = generate_segment(recipe.job, recipe.models, recipe.params, prompt=prompt,
                                   negative_prompt=recipe.negative_prompt, start_image=previous, attempt=attempt,
                                   segment=number, dest=folder / f"segment-{number}.npy")
        segment_paths.append(segment.frames_path)
        previous = segment.last_frame
        if record is not None:
            record.add_segment(number, segment)
    made_with = Provenance(model_source=segment.source, weights=weights_fingerprint(segment.source),
                           device=segment.device, versions=software_versions(),
                           precision=segment.precision.to_dict() if segment.precision else {},
                           loras=segment.loras)
    reproduction = Reproduction(recipe, made_with)
    if record is not None:
        record.reproduction = reproduction
    with record.timed("stitch") if record is not None else nullcontext():
        stitched = stitch(segment_paths, folder / "stitched.npy")
    return MadeClip(stitched, reproduction)


@task(name="judge-and-encode", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def judge_and_encode(stitched: StitchedClip, plan: ShotPlan, recipe: ClipRecipe, folder: Path,
                     publish: PublishSettings, clip: ClipRecord, record: AttemptRecord, repaired: bool) -> JudgedClip:
    """Deflicker the stitched frames (with `recipe.params`' strength), then QA beside the MP4
    encode. Every version is encoded, so a person can watch what QA judged (`repaired`: a
    repair's files sit beside the first version's); the AIGC labels go on at encoding, and
    QA judges the frames without them. The "qa" time is QA's own (its parts' seconds), which
    the encode's overlaps."""
    suffix = "-repair" if repaired else ""
    with record.timed("deflicker"):
        frames = deflicker_clip(stitched.frames_path, folder / f"frames{suffix}.npy", recipe.params.deflicker_strength)
    record.artifacts.append(("frames", str(frames)))
    # QA and the encode both read the deflickered frames and neither needs the other, so they
    # run side by side (QA's models on the GPU, x264 on the CPU): the shorter of the two comes
    # off every clip's time, and off the idle GPU after a batch's last generation.
    checking = check_clip.submit(frames, seams=stitched.seams, plan=plan, text=recipe.job.text(), qa=recipe.job.qa,
                                 models=recipe.models, reference_image=recipe.start_image)
    try:
        with record.timed("encode"):
            encoded = encode_clip(frames, folder / f"clip{suffix}.mp4", recipe.job.fps, publish, clip)
    finally:
        checking.wait()  # an encode that fails must not leave QA running behind the attempt
    judgement = checking.result()
    record.add_time("qa", sum(judgement.seconds.values()))
    record.add_encoded(encoded)
    return JudgedClip(judgement, encoded)


@task(name="stitch-segments", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def stitch(segment_paths: list[Path], dest: Path) -> StitchedClip:
    """Drop each continuation's repeated first frame, match its colour to the previous segment.
    A single segment is already the clip: it is passed on as it is, not read and written again
    (a 720p clip is a third of a gigabyte, and this sits between generation and QA)."""
    if len(segment_paths) == 1:
        return StitchedClip(frames_path=segment_paths[0], seams=[], seam_metrics=[])
    result = stitch_segments([load_frames(p) for p in segment_paths], shared_frames=1, match_colour=True)
    save_frames(result.frames, dest)
    return StitchedClip(frames_path=dest, seams=list(result.seams),
                        seam_metrics=seam_metrics(result.frames, result.seams))


@task(name="deflicker", task_run_name=clip_step_name, cache_policy=NO_CACHE)
def deflicker_clip(src: Path, dest: Path, strength: float) -> Path:
    save_frames(deflicker(load_frames(src), strength=strength), dest)
    return dest
