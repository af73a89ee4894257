"""Getting Wan2.2 pipelines to serve: load a diffusers checkpoint from a local folder or a hub
id, build the random-weight tiny one, and assemble text- and image-to-video pipelines around
one set of loaded components.

`models.wan` uses these to build a `VideoGenerator`; the error a failed load raises,
`ModelLoadError`, is re-exported there.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import torch
from diffusers import DiffusionPipeline, WanImageToVideoPipeline, WanPipeline

from clipmill.models.catalog import ModelSpec
from clipmill.models.devices import default_dtype


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says which and what to do about it."""


def assemble(pipeline_class: type[DiffusionPipeline], loaded: DiffusionPipeline) -> DiffusionPipeline:
    """Build `pipeline_class` around the components of `loaded`, sharing them (no copy).

    Not `from_pipe`: it casts every shared module to one dtype, which would undo the float32
    VAE next to a bfloat16 transformer.
    """
    if isinstance(loaded, pipeline_class):
        return loaded
    accepted = inspect.signature(pipeline_class.__init__).parameters
    kwargs = {name: module for name, module in loaded.components.items() if name in accepted}
    kwargs["boundary_ratio"] = loaded.config.boundary_ratio
    kwargs["expand_timesteps"] = loaded.config.expand_timesteps
    pipeline = pipeline_class(**kwargs)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def _component_dtypes(device: torch.device) -> dict[str, torch.dtype]:
    # The VAE loads in float32 as in Wan's own examples; models.wan_stages.LatentDecoder keeps a
    # bfloat16 copy for the decode when the batch asks for it (models.vae_decode, the default).
    return {"default": default_dtype(device), "vae": torch.float32}


def _looks_like_hub_id(source: str) -> bool:
    return re.fullmatch(r"[\w.-]+/[\w.-]+", source) is not None and not source.startswith(".")


def _download_hint(spec: ModelSpec) -> str:
    repo = spec.hub_id or "Wan-AI/<model>-Diffusers"
    folder = repo.split("/")[-1]
    return f"download it where the Hub is reachable (`hf download {repo} --local-dir {folder}`) and pass that folder as `source`"


def load_pretrained(spec: ModelSpec, source: str, device: torch.device) -> tuple[DiffusionPipeline, bool]:
    """Load a diffusers-format Wan checkpoint; return it and whether its weights are random."""
    from clipmill.models.tiny_wan import RANDOM_WEIGHTS_MARKER

    folder = Path(source).expanduser()
    is_local = folder.exists()
    if is_local:
        if not (folder / "model_index.json").is_file():
            raise ModelLoadError(
                f"{folder} has no model_index.json, so it is not a diffusers-format checkpoint of {spec.name}; "
                f"use the '-Diffusers' release ({spec.hub_id}), not the original Wan repository layout"
            )
    elif not _looks_like_hub_id(source):
        raise ModelLoadError(f"checkpoint folder {source!r} for {spec.name} does not exist; {_download_hint(spec)}")

    try:
        pipeline = DiffusionPipeline.from_pretrained(
            str(folder) if is_local else source,
            dtype=_component_dtypes(device),
            local_files_only=is_local,
        )
    except Exception as err:
        where = f"folder {source!r}" if is_local else f"hub id {source!r}"
        raise ModelLoadError(f"could not load {spec.name} from {where}: {err}. If this machine is offline, {_download_hint(spec)}") from err

    if not isinstance(pipeline, (WanPipeline, WanImageToVideoPipeline)):
        raise ModelLoadError(f"{source!r} holds a {type(pipeline).__name__}, not a Wan pipeline, so it cannot serve {spec.name}")
    random_weights = is_local and (folder / RANDOM_WEIGHTS_MARKER).exists()
    pipeline.set_progress_bar_config(disable=True)
    # The release's sigma shift, whatever the checkpoint's scheduler file says.
    pipeline.scheduler = type(pipeline.scheduler).from_config(pipeline.scheduler.config, flow_shift=spec.flow_shift)
    return pipeline, random_weights


def build_tiny(device: torch.device) -> DiffusionPipeline:
    """The random-weight tiny pipeline (`models.tiny_wan`), for tests and the offline demo."""
    from clipmill.models.tiny_wan import build_tiny_pipeline

    # Tiny stays in float32 even on a GPU: it is small, and casting Wan modules after
    # construction would skip the float32 exceptions from_pretrained keeps.
    return build_tiny_pipeline(seed=0)
