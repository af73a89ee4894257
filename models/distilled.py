"""The distilled speed profile's sampling: what a step-distilled LoRA was trained to follow.

A step-distilled Wan LoRA (lightx2v's Wan2.2-Lightning) learned to go from noise to a clip in
four Euler steps at fixed timesteps (1000, 937.5, 833.3, 625 for sigma shift 5), with no
classifier-free guidance. The base checkpoints ship a UniPC multistep scheduler and their own
shift (12 for T2V-A14B): with those, the same four steps land on other timesteps and a
second-order solver mixes in the previous step, neither of which the LoRA was trained on.
So a distilled generation swaps in the sampler below, and the expert boundary the profile names,
for the length of one pipeline call (`distilled_sampling`).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler

from clipmill.models.catalog import DistilledProfile


class EvenlySpacedEulerScheduler(FlowMatchEulerDiscreteScheduler):
    """Euler over `steps` evenly spaced sigmas from 1 down to (not including) 0, each shifted
    by `shift`, then 0: the schedule of Wan2.2-Lightning's inference code (and of ComfyUI's
    "simple" schedule with the same shift).

    Diffusers' own flow-matching Euler spaces its timesteps between 1 and its smallest trained
    sigma instead (1000, 910, 717, 24 for 4 steps at shift 5), and Wan's pipelines only ever
    ask `set_timesteps(num_inference_steps)`, so the spacing is made here.
    """

    def set_timesteps(self, num_inference_steps: int | None = None, device=None, sigmas=None, mu=None,
                      timesteps=None) -> None:
        if sigmas is None and timesteps is None and num_inference_steps is not None:
            sigmas = np.linspace(1.0, 0.0, num_inference_steps + 1)[:-1]  # shifted by the parent
        super().set_timesteps(num_inference_steps, device=device, sigmas=sigmas, mu=mu, timesteps=timesteps)


def distilled_scheduler(profile: DistilledProfile, num_train_timesteps: int = 1000) -> EvenlySpacedEulerScheduler:
    """The scheduler a `profile` samples with."""
    return EvenlySpacedEulerScheduler(num_train_timesteps=num_train_timesteps, shift=profile.shift)


@contextmanager
def distilled_sampling(pipeline: DiffusionPipeline, profile: DistilledProfile,
                       scheduler: EvenlySpacedEulerScheduler) -> Iterator[None]:
    """Run `pipeline` with the profile's scheduler and, on a two-expert model, its boundary;
    both are put back afterwards, whatever happens. The pipeline's scheduler is shared with the
    generator's other pipeline, so it is swapped on this pipeline object only, never changed."""
    saved_scheduler, saved_boundary = pipeline.scheduler, pipeline.config.boundary_ratio
    pipeline.scheduler = scheduler
    if saved_boundary is not None and profile.boundary_ratio is not None:
        pipeline.register_to_config(boundary_ratio=profile.boundary_ratio)
    try:
        yield
    finally:
        pipeline.scheduler = saved_scheduler
        if saved_boundary is not None:
            pipeline.register_to_config(boundary_ratio=saved_boundary)
