"""Generation tasks: one Wan call per segment, frames written to the attempt's folder.

The model is loaded once per worker process (models.cache) and reused by every segment,
attempt and job that the process runs. Which thread generates, how the GPU is held, and what
the time limit does: tasks/concurrency.py.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from clipmill.media import save_frame_png, save_frames
from clipmill.outcomes import GeneratedSegment
from clipmill.spec import JobSpec, ModelSources
from clipmill.qa.retry import AttemptParams
from clipmill.tasks.common import import_model_libraries, retry_on_infrastructure_error
from clipmill.tasks.concurrency import (
    GENERATE_TIMEOUT_S,
    CancelWatch,
    gpu_slot,
    lease_lapses_at_timeout,
    prefect_run_states,
    task_deadline,
)


@task(name="generate-segment", task_run_name="generate-{job.id}-attempt-{attempt}-segment-{segment}",
      cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10, retry_condition_fn=retry_on_infrastructure_error,
      timeout_seconds=GENERATE_TIMEOUT_S)
@lease_lapses_at_timeout
def generate_segment(job: JobSpec, models: ModelSources, params: AttemptParams, *, prompt: str, negative_prompt: str,
                     start_image: Path | None, attempt: int, segment: int, dest: Path) -> GeneratedSegment:
    """Generate segment `segment` (1-based) of an attempt. With `start_image` it is
    image-to-video: the first segment of an image job starts from the prepared photo, every
    later segment from the previous one's last frame, which keeps a multi-segment clip continuous."""
    import_model_libraries()  # one thread at a time through diffusers' lazy imports (models.imports)
    from clipmill.models.wan import GenerationRequest, load_generator

    logger = get_run_logger()
    loras = job.lora_weights()  # hashed here, so a missing or changed file fails before the model loads
    generator = load_generator(job.model, models.generator_source.get(job.model), profile=models.memory_profile,
                               precision=models.precision)
    report_every = max(1, params.steps // 4)
    image = None
    if start_image is not None:
        with Image.open(start_image) as opened:
            image = opened.convert("RGB")
    request = GenerationRequest(prompt=prompt, negative_prompt=negative_prompt, image=image, width=job.width,
                                height=job.height, num_frames=job.segment_frames(params.segments), steps=params.steps,
                                guidance=params.guidance, seed=params.seed + segment - 1,
                                decode_dtype=models.vae_decode, speed=job.speed, loras=loras)
    with CancelWatch(prefect_run_states, deadline=task_deadline()) as stop_watch:

        def on_step(step: int, total: int) -> None:
            if step == total or step % report_every == 0:
                logger.info("denoising step %d/%d", step, total)
            stop_watch.check()

        run = generator.generate(request, on_step=on_step, hold_device=lambda: gpu_slot(generator.device))
    if run.waited_s >= 1.0:
        logger.info("waited %.1f s for %s while another clip generated", run.waited_s, generator.device)
    if run.lora_s:
        logger.info("fused LoRA set %s in %.2f s", ", ".join(lora.label() for lora in loras) or "(none)", run.lora_s)
    for warning in run.warnings:
        logger.warning("%s: %s", job.id, warning)
    save_frames(run.frames, dest)
    last_frame = save_frame_png(run.frames[-1], dest.with_name(f"{dest.stem}-last.png"))
    # Device time only: the "generate" stage and GPU-seconds per clip count what the GPU
    # spent, not the time this clip queued behind another one for it.
    device = f"{generator.device} ({run.profile}, {run.attention}, {run.precision})"
    return GeneratedSegment(frames_path=dest, last_frame=last_frame, device=device, device_s=run.device_s,
                            waited_s=run.waited_s, fell_back_from=run.fell_back_from, source=generator.source,
                            precision=generator.precision, loras=loras, lora_s=run.lora_s,
                            warnings=run.warnings)
