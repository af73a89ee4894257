"""The parts of a Wan generation outside the denoising loop, done once where once is enough.

- Text embeddings are cached per prompt on the device: the negative prompt is the same for
  every clip of a batch, and the segments and retries of a job repeat their prompt, so UMT5-XXL
  (11 GB, ~0.2 s a prompt on an H200) runs once for each distinct text.
- The VAE decode runs in a bfloat16 copy of the VAE (the default) or in float32 (Wan's own
  choice): on an H200 at 1280x704x121, 5.8 s against 8.9 s, 50.8 dB apart (PSNR between the
  two decodes in tests/benchmarks/results/vae_decode_h200.json).
- Image-to-video on TI2V-5B gives every latent token its own timestep (the first frame stays at
  t=0), and diffusers embeds all 27,280 of them through the time MLP, in float32, every
  forward; there are only two distinct values per sample, so they are embedded once each and
  gathered per token (`gather_timestep_embedding`).
"""
from __future__ import annotations

import copy
import types
from collections import OrderedDict

import torch
from diffusers import DiffusionPipeline

MAX_SEQUENCE_LENGTH = 512  # what Wan's pipelines use and its transformers were trained with
DECODE_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


class PromptEmbeddings:
    """UMT5 embeddings of recent texts, on the device, least recently used dropped first.

    512 x 4096 bf16 is 4 MiB a text, so the default 32 entries hold 128 MiB."""

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, pipeline: DiffusionPipeline, text: str) -> torch.Tensor:
        """The (1, 512, dim) embedding of `text`, encoded now only if not cached."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            self.hits += 1
            return cached
        self.misses += 1
        with torch.inference_mode():
            embedding = pipeline._get_t5_prompt_embeds(prompt=text, max_sequence_length=MAX_SEQUENCE_LENGTH,
                                                       device=pipeline._execution_device)
        self._cache[text] = embedding
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return embedding

    def clear(self) -> None:
        self._cache.clear()


class LatentDecoder:
    """Latents to uint8 frames through the pipeline's VAE, in float32 or a bfloat16 copy of it."""

    def __init__(self) -> None:
        self._bf16_vae: torch.nn.Module | None = None
        self._bf16_of: torch.nn.Module | None = None

    def vae_for(self, vae: torch.nn.Module, dtype: str, *, resident: bool) -> tuple[torch.nn.Module, str]:
        """The VAE to decode with and the dtype it really runs in.

        The bfloat16 copy exists only where everything is resident on the GPU; with offloading
        the copy would need its own hooks, so those profiles decode in float32 (and say so)."""
        if dtype not in DECODE_DTYPES:
            raise ValueError(f"unknown decode dtype {dtype!r}; choose one of {', '.join(DECODE_DTYPES)}")
        if dtype == "float32" or not resident or vae.dtype == torch.bfloat16:
            return vae, str(vae.dtype).removeprefix("torch.")
        if self._bf16_of is not vae:
            self._bf16_vae = copy.deepcopy(vae).to(torch.bfloat16).eval()
            self._bf16_of = vae
        return self._bf16_vae, "bfloat16"

    def decode(self, pipeline: DiffusionPipeline, latents: torch.Tensor, dtype: str, *, resident: bool) -> tuple[torch.Tensor, str]:
        """(frames, H, W, 3) uint8 on the device, and the dtype the VAE ran in.

        The same arithmetic as diffusers' pipelines (un-normalise with the VAE's latent
        statistics, decode, map [-1, 1] to [0, 1]) and then to uint8 on the device."""
        from diffusers.utils.torch_utils import get_module_execution_device

        vae, used = self.vae_for(pipeline.vae, dtype, resident=resident)
        config = pipeline.vae.config
        latents = latents.to(get_module_execution_device(pipeline.vae), dtype=vae.dtype)
        mean = torch.tensor(config.latents_mean).view(1, config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
        inverse_std = 1.0 / torch.tensor(config.latents_std).view(1, config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
        with torch.inference_mode():
            video = vae.decode(latents / inverse_std + mean, return_dict=False)[0]  # (1, 3, frames, H, W)
            video = (video[0].float() / 2 + 0.5).clamp(0.0, 1.0)
            # Contiguous on the device: a permuted view would cross to the host with its strides,
            # and writing that array (np.save gathers it element by element) took 10 s a clip
            # on the H200 host instead of under one.
            frames = video.mul(255.0).round().to(torch.uint8).permute(1, 2, 3, 0).contiguous()
        return frames, used


def gather_timestep_embedding(transformer: torch.nn.Module) -> None:
    """Embed per-token timesteps once per distinct value and gather them per token.

    The condition embedder's output is unchanged (each row of the time MLP depends on its own
    timestep only); per-sample timesteps (1-D) pass straight through. Idempotent."""
    embedder = getattr(transformer, "condition_embedder", None)
    if embedder is None or getattr(embedder, "_clipmill_gathers", False):
        return
    original = embedder.forward

    def forward(self, timestep, encoder_hidden_states, encoder_hidden_states_image=None, timestep_seq_len=None):
        if timestep_seq_len is None:
            return original(timestep, encoder_hidden_states, encoder_hidden_states_image)
        distinct, index = torch.unique(timestep, return_inverse=True)
        temb, timestep_proj, text, image = original(distinct, encoder_hidden_states, encoder_hidden_states_image)
        return (temb[index].unflatten(0, (-1, timestep_seq_len)),
                timestep_proj[index].unflatten(0, (-1, timestep_seq_len)), text, image)

    embedder.forward = types.MethodType(forward, embedder)
    embedder._clipmill_gathers = True
