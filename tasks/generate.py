"""Generation tasks: one Wan call per segment, frames written to the attempt's folder.

The model is loaded once per worker process (models.cache) and reused by every segment,
attempt and job that the process runs.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from clipmill.media import save_frame_png, save_frames
from clipmill.spec import JobSpec
from qa.retry import AttemptParams
from tasks.common import retry_on_infrastructure_error


def check_job_fits_model(job: JobSpec) -> None:
    """Refuse, before any GPU time, a job its model cannot make (raises ValueError)."""
    from models.wan import MODEL_SPECS

    model = MODEL_SPECS[job.model]
    if job.width % model.size_multiple or job.height % model.size_multiple:
        raise ValueError(f"{job.model} needs width and height in multiples of {model.size_multiple}, "
                         f"got {job.width}x{job.height}")
    if job.image is None and not model.supports_text:
        raise ValueError(f"{job.model} is image-to-video only: give the job an 'image'")
    if (job.image is not None or job.segments > 1) and not model.supports_image:
        raise ValueError(f"{job.model} cannot start from an image, so it takes no 'image' and cannot continue "
                         "segments; use wan2.2-ti2v-5b for those")


def initial_params(job: JobSpec) -> AttemptParams:
    """The first attempt's knobs: the job's own values, else the model's release defaults."""
    from models.wan import MODEL_SPECS

    model = MODEL_SPECS[job.model]
    return AttemptParams(
        seed=job.seed,
        guidance=job.guidance if job.guidance is not None else model.default_guidance,
        segments=job.segments,
        deflicker_strength=job.qa.deflicker_strength,
        steps=job.steps if job.steps is not None else (
            model.fast_steps if job.speed == "fast" and model.fast_steps else model.default_steps),
    )


class GenerationCancelled(RuntimeError):
    """The flow run was cancelled while its GPU was generating."""


class CancelWatch:
    """Stops a generation within one denoising step once its run is being cancelled.

    The step callback asks `read_states` (the states of this flow run and the batch above it)
    at most every `every_s` seconds, so the API sees a request every few seconds, not every
    step. Nothing here waits on the GPU: the callback runs on the host as steps are queued.
    """

    def __init__(self, read_states: Callable[[], list[str]], every_s: float = 2.0) -> None:
        self.read_states = read_states
        self.every_s = every_s
        self._last = float("-inf")

    def check(self) -> None:
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        cancelling = {"CANCELLING", "CANCELLED"} & set(self.read_states())
        if cancelling:
            raise GenerationCancelled(f"run is {cancelling.pop().lower()}: generation stopped")


def prefect_run_states() -> list[str]:
    """State types of the current flow run and its root (the batch); [] when unknown."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_ids = {i for i in (flow_run.get_id(), flow_run.get_root_flow_run_id()) if i}
    try:
        with get_client(sync_client=True) as client:
            states = [client.read_flow_run(run_id).state for run_id in run_ids]
    except Exception:  # an unreachable API must not stop GPU work that may well be wanted
        return []
    return [state.type.value for state in states if state is not None]


@task(name="generate-segment", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10,
      retry_condition_fn=retry_on_infrastructure_error)
def generate_segment(
    *,
    model: str,
    source: str | None,
    memory_profile: str | None = None,
    prompt: str,
    negative_prompt: str,
    start_image: Path | None,
    width: int,
    height: int,
    num_frames: int,
    steps: int,
    guidance: float,
    seed: int,
    dest: Path,
) -> dict:
    """Generate one segment. With `start_image` it is image-to-video: the first segment of an
    image job starts from the prepared photo, every later segment from the previous one's
    last frame, which is what keeps a multi-segment clip continuous."""
    from models.wan import GenerationRequest, load_generator

    logger = get_run_logger()
    generator = load_generator(model, source, profile=memory_profile)
    report_every = max(1, steps // 4)
    cancel_watch = CancelWatch(prefect_run_states)

    def on_step(step: int, total: int) -> None:
        if step == total or step % report_every == 0:
            logger.info("denoising step %d/%d", step, total)
        cancel_watch.check()

    image = None
    if start_image is not None:
        with Image.open(start_image) as opened:
            image = opened.convert("RGB")
    frames = generator.generate(
        GenerationRequest(prompt=prompt, negative_prompt=negative_prompt, image=image, width=width,
                          height=height, num_frames=num_frames, steps=steps, guidance=guidance, seed=seed),
        on_step=on_step,
    )
    run = generator.last_run
    if run["waited_s"] >= 1.0:
        logger.info("waited %.1f s for %s while another clip generated", run["waited_s"], generator.device)
    save_frames(frames, dest)
    last_frame = save_frame_png(frames[-1], dest.with_name(f"{dest.stem}-last.png"))
    return {
        "frames_path": str(dest),
        "last_frame": str(last_frame),
        "device": f"{generator.device} ({run['profile']})",
        "fell_back_from": run["fell_back_from"],
        "source": generator.source,
        "random_weights": generator.random_weights,
        # Device time only: the "generate" stage and GPU-seconds per clip count what the GPU
        # spent, not the time this clip queued behind another one for it.
        "seconds": run["device_s"],
        "waited_s": run["waited_s"],
    }
