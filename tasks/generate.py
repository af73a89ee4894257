"""Generation tasks: one Wan call per segment, frames written to the attempt's folder.

The model is loaded once per worker process (models.cache) and reused by every segment,
attempt and job that the process runs.
"""
from __future__ import annotations

import contextvars
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency

from clipmill.media import save_frame_png, save_frames
from clipmill.outcomes import GeneratedSegment
from clipmill.spec import JobSpec, ModelSources
from clipmill.qa.retry import AttemptParams
from clipmill.tasks.common import GenerationCancelled, import_model_libraries, retry_on_infrastructure_error


class CancelWatch:
    """Stops a generation within one denoising step of its run being seen cancelling.

    Used as a context manager around the generation: a daemon thread beside it asks
    `read_states` (the states of this flow run and the batch above it) every `every_s`
    seconds, and the step callback, `check`, only reads what it found. Asked from the callback
    itself, the API's answer came between two denoising steps, with the GPU idle until it did
    (about every step at 720p on the H200, where a step takes 1.7 s).
    """

    def __init__(self, read_states: Callable[[], list[str]], every_s: float = 2.0) -> None:
        self.read_states = read_states
        self.every_s = every_s
        self.seen: str | None = None  # "cancelling" or "cancelled", once the watcher saw it
        self._stop = threading.Event()

    def __enter__(self) -> CancelWatch:
        # In this run's context: read_states asks about the run that started the generation.
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._watch,), name="clipmill-cancel-watch", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()  # not joined: a read in flight must not hold up the finished generation

    def _watch(self) -> None:
        while not self._stop.is_set():
            cancelling = {"CANCELLING", "CANCELLED"} & set(self.read_states())
            if cancelling:
                self.seen = cancelling.pop().lower()
                return
            self._stop.wait(self.every_s)

    def check(self) -> None:
        if self.seen:
            raise GenerationCancelled(f"run is {self.seen}: generation stopped")


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


def gpu_slot_name(device) -> str | None:
    """The Prefect global concurrency limit that stands for one physical GPU of this host
    (`gpu-<host>-<index>`, created with limit 1 by deployments/setup.sh), so that a served
    process and a worker on the same GPU never generate at once; None off the GPU. The index
    is the physical one: CUDA_VISIBLE_DEVICES renumbers what the process sees from 0."""
    if getattr(device, "type", str(device)) != "cuda":
        return None
    visible = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    index = device.index or 0
    physical = visible[index] if index < len(visible) else str(index)
    return f"gpu-{socket.gethostname()}-{physical}"


@contextmanager
def gpu_slot(device) -> Iterator[float]:
    """Hold this GPU: first this process's own generation lock, then the GPU's global
    concurrency slot (when it has one); yields the seconds waited for both.

    The order matters. A denied slot is answered with a Retry-After near the holder's average
    occupancy (a whole generation, capped at 30 s by Prefect's server), so two clips of one
    worker polling the slot would leave the GPU idle for seconds at every hand-over. Queued on
    the in-process lock, the next clip takes the GPU the moment the last one lets go, and only
    other processes on the same GPU (a served deployment beside a worker) ever poll the slot."""
    from clipmill.models.devices import generation_lock  # imports torch: only where a generation runs

    started = time.perf_counter()
    with generation_lock(device):
        name = gpu_slot_name(device)
        if name is None:
            yield time.perf_counter() - started
            return
        with concurrency(name, occupy=1, strict=False):
            yield time.perf_counter() - started


@task(name="generate-segment", task_run_name="generate-{job.id}-attempt-{attempt}-segment-{segment}",
      cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10, retry_condition_fn=retry_on_infrastructure_error)
def generate_segment(job: JobSpec, models: ModelSources, params: AttemptParams, *, prompt: str, negative_prompt: str,
                     start_image: Path | None, attempt: int, segment: int, dest: Path) -> GeneratedSegment:
    """Generate segment `segment` (1-based) of an attempt. With `start_image` it is
    image-to-video: the first segment of an image job starts from the prepared photo, every
    later segment from the previous one's last frame, which keeps a multi-segment clip continuous."""
    import_model_libraries()  # one thread at a time through diffusers' lazy imports (models.imports)
    from clipmill.models.wan import GenerationRequest, load_generator

    logger = get_run_logger()
    generator = load_generator(job.model, models.generator_source.get(job.model), profile=models.memory_profile)
    report_every = max(1, params.steps // 4)
    cancel_watch = CancelWatch(prefect_run_states)

    def on_step(step: int, total: int) -> None:
        if step == total or step % report_every == 0:
            logger.info("denoising step %d/%d", step, total)
        cancel_watch.check()

    image = None
    if start_image is not None:
        with Image.open(start_image) as opened:
            image = opened.convert("RGB")
    request = GenerationRequest(prompt=prompt, negative_prompt=negative_prompt, image=image, width=job.width,
                                height=job.height, num_frames=job.segment_frames(params.segments), steps=params.steps,
                                guidance=params.guidance, seed=params.seed + segment - 1,
                                decode_dtype=models.vae_decode)
    with cancel_watch, gpu_slot(generator.device) as slot_wait_s:
        frames = generator.generate(request, on_step=on_step)
    run = generator.last_run
    waited_s = run["waited_s"] + slot_wait_s
    if waited_s >= 1.0:
        logger.info("waited %.1f s for %s while another clip generated", waited_s, generator.device)
    save_frames(frames, dest)
    last_frame = save_frame_png(frames[-1], dest.with_name(f"{dest.stem}-last.png"))
    # Device time only: the "generate" stage and GPU-seconds per clip count what the GPU
    # spent, not the time this clip queued behind another one for it.
    device = f"{generator.device} ({run['profile']}, {run.get('attention', 'sdpa')})"
    return GeneratedSegment(frames_path=dest, last_frame=last_frame, device=device,
                            device_s=run["device_s"], waited_s=waited_s, fell_back_from=run["fell_back_from"],
                            source=generator.source)
