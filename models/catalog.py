"""What clipmill knows about each Wan2.2 model before loading it: one table, no torch import.

The batch spec validates model names and sizes against it, the job's first attempt takes its
defaults from it, and models/wan.py loads by it. Importing it costs nothing, so validating a
spec or planning a job never pulls in torch or diffusers.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DistilledProfile:
    """How a step-distilled LoRA samples (a job's `speed: distilled`): the steps, guidance,
    sigma shift and expert boundary its distillation was trained for, which are not the base
    model's. Guidance 1.0 means no classifier-free guidance pass: one transformer forward a step.
    The sampler is Euler over evenly spaced, shifted sigmas (models.distilled), as the
    distillation's own inference code runs it; `source` says where the numbers come from.
    """

    steps: int
    guidance: float
    shift: float
    source: str
    boundary_ratio: float | None = None  # two-expert models: where the low-noise expert takes over


# lightx2v's Wan2.2-Lightning (github.com/ModelTC/Wan2.2-Lightning, wan/configs): 4 steps,
# guidance 1.0 for both experts, sample_shift 5.0, Euler; timesteps 1000, 937.5, 833.3, 625, so
# the A14B experts split 2 + 2 at their boundary (0.875 T2V, 0.9 I2V).
_LIGHTNING = "lightx2v Wan2.2-Lightning 4-step LoRAs"


@dataclass(frozen=True)
class ModelSpec:
    """What clipmill knows about a Wan2.2 model before loading it.

    `default_size` is (width, height). Width and height must be multiples of `size_multiple`:
    the VAE's spatial compression times the transformer's 2x2 patch. `default_guidance_2` is the
    guidance of the low-noise expert of two-expert models (None: same as `default_guidance`).
    """

    name: str
    hub_id: str | None
    supports_text: bool
    supports_image: bool
    default_steps: int
    default_guidance: float
    default_fps: int
    default_size: tuple[int, int]
    size_multiple: int
    default_frames: int
    description: str
    default_guidance_2: float | None = None
    flow_shift: float = 5.0  # the scheduler's sigma shift, as the Wan2.2 release configures it
    fast_steps: int | None = None  # steps of the fast profile (None: same as default_steps)
    boundary_ratio: float | None = None  # two-expert models: where the low-noise expert takes over
    distilled: DistilledProfile | None = None  # `speed: distilled` (None: the model has no such profile)


MODEL_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="tiny",
            hub_id=None,
            supports_text=True,
            supports_image=True,
            default_steps=4,
            fast_steps=2,
            # Two steps: the tiny model's frames are noise either way, and tests stay quick.
            distilled=DistilledProfile(steps=2, guidance=1.0, shift=5.0, source="tiny: test values"),
            default_guidance=5.0,
            default_fps=16,
            default_size=(256, 160),
            size_multiple=32,
            default_frames=17,
            description="Random-weight Wan2.2 (TI2V-5B form) built in code, for tests and offline demos; frames are noise.",
        ),
        ModelSpec(
            name="wan2.2-ti2v-5b",
            hub_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
            supports_text=True,
            supports_image=True,
            default_steps=50,
            fast_steps=16,
            distilled=DistilledProfile(steps=4, guidance=1.0, shift=5.0, source=_LIGHTNING),
            default_guidance=5.0,
            default_fps=24,
            default_size=(1280, 704),
            size_multiple=32,
            default_frames=121,
            description="Wan2.2 TI2V 5B: text- and image-to-video, 720p at 24 fps, one dense transformer.",
        ),
        ModelSpec(
            name="wan2.2-i2v-a14b",
            hub_id="Wan-AI/Wan2.2-I2V-A14B-Diffusers",
            supports_text=False,
            supports_image=True,
            default_steps=40,
            fast_steps=14,
            boundary_ratio=0.9,
            distilled=DistilledProfile(steps=4, guidance=1.0, shift=5.0, boundary_ratio=0.9, source=_LIGHTNING),
            default_guidance=3.5,
            default_fps=16,
            default_size=(832, 480),
            size_multiple=16,
            default_frames=81,
            description="Wan2.2 I2V A14B: image-to-video, two 14B experts switched at boundary_ratio 0.9.",
        ),
        ModelSpec(
            name="wan2.2-t2v-a14b",
            hub_id="Wan-AI/Wan2.2-T2V-A14B-Diffusers",
            supports_text=True,
            supports_image=False,
            default_steps=40,
            fast_steps=14,
            boundary_ratio=0.875,
            distilled=DistilledProfile(steps=4, guidance=1.0, shift=5.0, boundary_ratio=0.875, source=_LIGHTNING),
            default_guidance=4.0,
            default_guidance_2=3.0,
            flow_shift=12.0,
            default_fps=16,
            default_size=(832, 480),
            size_multiple=16,
            default_frames=81,
            description="Wan2.2 T2V A14B: text-to-video, two 14B experts switched at boundary_ratio 0.875.",
        ),
    )
}
