"""How a loaded Wan pipeline sits on its device: memory profiles, compilation, step caching.

Memory profiles, lightest last:
- "resident": every component on the GPU (H100/H200 class cards). The only profile that
  compiles the transformer blocks, since offloading hooks move weights under the compiler.
- "model_offload": one component on the GPU at a time (diffusers' model CPU offload).
- "group_offload": transformer blocks streamed from CPU memory as they run, VAE tiled: fits
  24 GB cards at 720p, at a large cost in speed.
"""
from __future__ import annotations

import logging

import torch
from diffusers import DiffusionPipeline

logger = logging.getLogger(__name__)

PROFILES: tuple[str, ...] = ("resident", "model_offload", "group_offload")

# GiB of free GPU memory each model needs to stay resident at its default size, with room for
# activations and the VAE decode. TI2V-5B: 10 GB transformer + 11 GB UMT5 (bf16) + ~16 GB at
# peak decoding 121 frames at 720p; A14B: two 28 GB experts + UMT5 + activations.
RESIDENT_GIB: dict[str, float] = {"tiny": 0.0, "wan2.2-ti2v-5b": 48.0, "wan2.2-i2v-a14b": 90.0, "wan2.2-t2v-a14b": 90.0}
# With FP8 blocks (models.precision) the transformers take half: TI2V-5B saves 5 GB; A14B
# needs the larger of its peak in use (~45 GB) and its peak at load, when both experts still sit
# on the GPU in bf16 before they are quantised (two 28 GB experts + UMT5): so both fit one 80 GB card.
RESIDENT_GIB_FP8: dict[str, float] = {"tiny": 0.0, "wan2.2-ti2v-5b": 43.0, "wan2.2-i2v-a14b": 72.0,
                                      "wan2.2-t2v-a14b": 72.0}
# The largest component (a transformer expert) plus activations must fit for model offload.
MODEL_OFFLOAD_GIB: dict[str, float] = {"tiny": 0.0, "wan2.2-ti2v-5b": 28.0, "wan2.2-i2v-a14b": 46.0, "wan2.2-t2v-a14b": 46.0}


def choose_profile(model: str, free_gib: float | None, precision: str = "bf16") -> str:
    """The fastest profile that fits `free_gib` (None: no GPU, so "resident" on the CPU), for a
    transformer that will run in `precision` ("fp8" stays resident in less memory)."""
    resident = (RESIDENT_GIB_FP8 if precision == "fp8" else RESIDENT_GIB).get(model, 0.0)
    if free_gib is None or free_gib >= resident:
        return "resident"
    if free_gib >= MODEL_OFFLOAD_GIB.get(model, 0.0):
        return "model_offload"
    return "group_offload"


def lighter_profile(profile: str) -> str | None:
    """The next profile down, or None when `profile` is already the lightest."""
    index = PROFILES.index(profile)
    return PROFILES[index + 1] if index + 1 < len(PROFILES) else None


def available_gpu_gib(device: torch.device, pipeline: DiffusionPipeline | None = None) -> float | None:
    """GPU memory free for `pipeline`: what the device has free plus what the pipeline already
    holds there (a pipeline built on the GPU must not count against itself). None on the CPU."""
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    held = 0
    if pipeline is not None:
        for module in pipeline.components.values():
            if isinstance(module, torch.nn.Module):
                held += sum(p.numel() * p.element_size() for p in module.parameters() if p.device.type == "cuda")
    return (free + held) / 2**30


def place(pipeline: DiffusionPipeline, profile: str, device: torch.device) -> None:
    """Put `pipeline` on `device` the way `profile` says. On the CPU every profile is resident."""
    if profile not in PROFILES:
        raise ValueError(f"unknown memory profile {profile!r}; choose one of {', '.join(PROFILES)}")
    _release_offload_hooks(pipeline)
    if device.type != "cuda" or profile == "resident":
        pipeline.to(device)
    elif profile == "model_offload":
        pipeline.to("cpu")
        pipeline.enable_model_cpu_offload(device=device)
    else:
        pipeline.to("cpu")
        pipeline.enable_group_offload(onload_device=device, offload_device=torch.device("cpu"),
                                      offload_type="leaf_level", use_stream=True)
        pipeline.vae.enable_tiling()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _release_offload_hooks(pipeline: DiffusionPipeline) -> None:
    # Moving to a lighter profile after an out-of-memory error: drop the old hooks first.
    if hasattr(pipeline, "remove_all_hooks"):
        pipeline.remove_all_hooks()


def compile_transformer_blocks(pipeline: DiffusionPipeline) -> None:
    """Regional compilation: each repeated transformer block is compiled once and reused by all
    30-40 of them, so compiling costs seconds, not minutes, and is paid once per worker."""
    for name in ("transformer", "transformer_2"):
        module = getattr(pipeline, name, None)
        if module is not None:
            module.compile_repeated_blocks(fullgraph=True, dynamic=False)
