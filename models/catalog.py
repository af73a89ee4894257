"""What clipmill knows about each Wan2.2 model before loading it: one table, no torch import.

The batch spec validates model names and sizes against it, the job's first attempt takes its
defaults from it, and models/wan.py loads by it. Importing it costs nothing, so validating a
spec or planning a job never pulls in torch or diffusers.
"""
from __future__ import annotations

from dataclasses import dataclass


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
