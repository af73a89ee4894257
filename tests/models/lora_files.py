"""Small random LoRAs for a Wan transformer, saved in each key layout the community publishes.

`random_lora` draws one low-rank pair per attention and feed-forward layer of a transformer and
returns what fusing it at scale 1 must add to each weight (and bias); `save_lora` writes it in
a layout:

- "diffusers": `transformer.blocks.0.attn1.to_q.lora_A.weight` (diffusers' own);
- "peft": the same without the `transformer.` prefix (as peft saves an adapter);
- "lightx2v": Wan's original module names, `diffusion_model.blocks.0.self_attn.q.lora_down.weight`,
  `lora_up.weight` and `.alpha` (lightx2v's Wan2.2-Lightning files);
- "kijai": Wan's original names with `lora_A` / `lora_B`, bias deltas as `.diff_b` and norm
  deltas as `.diff` (Kijai's extracted LoRAs; diffusers drops the norm deltas);
- "musubi": `lora_unet_blocks_0_self_attn_q.lora_down.weight` and `.alpha` (musubi-tuner).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file

LAYOUTS = ("diffusers", "peft", "lightx2v", "kijai", "musubi")

# diffusers' layer names inside a block -> the original Wan names.
_WAN_NAMES = {
    "attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v", "attn1.to_out.0": "self_attn.o",
    "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k", "attn2.to_v": "cross_attn.v",
    "attn2.to_out.0": "cross_attn.o", "ffn.net.0.proj": "ffn.0", "ffn.net.2": "ffn.2",
}


@dataclass
class RandomLora:
    """Per layer (diffusers' name): down (rank x in), up (out x rank), and a bias delta or None."""

    pairs: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]
    alpha: float

    def weight_delta(self, layer: str) -> torch.Tensor:
        down, up, _ = self.pairs[layer]
        return (up @ down) * (self.alpha / down.shape[0])


def lora_layers(transformer: torch.nn.Module) -> list[str]:
    """The attention and feed-forward layers of every block, in diffusers' names."""
    return [name for name, module in transformer.named_modules()
            if isinstance(module, torch.nn.Linear) and name.startswith("blocks.")
            and name.split(".", 2)[2] in _WAN_NAMES]


def random_lora(transformer: torch.nn.Module, *, rank: int = 4, seed: int = 0, alpha: float | None = None,
                bias: bool = False) -> RandomLora:
    generator = torch.Generator().manual_seed(seed)
    pairs = {}
    for layer in lora_layers(transformer):
        module = transformer.get_submodule(layer)
        down = torch.randn(rank, module.in_features, generator=generator) * 0.1
        up = torch.randn(module.out_features, rank, generator=generator) * 0.1
        pairs[layer] = (down, up, torch.randn(module.out_features, generator=generator) * 0.01 if bias else None)
    return RandomLora(pairs, float(alpha if alpha is not None else rank))


def save_lora(lora: RandomLora, path: Path, layout: str) -> Path:
    tensors: dict[str, torch.Tensor] = {}
    for layer, (down, up, bias) in lora.pairs.items():
        _, block, inner = layer.split(".", 2)
        if layout in ("diffusers", "peft"):
            prefix = "transformer." if layout == "diffusers" else ""
            if lora.alpha != down.shape[0]:
                raise ValueError("diffusers' layout has no alpha: use alpha=rank")
            tensors[f"{prefix}{layer}.lora_A.weight"] = down
            tensors[f"{prefix}{layer}.lora_B.weight"] = up
            if bias is not None:
                tensors[f"{prefix}{layer}.lora_B.bias"] = bias
        elif layout in ("lightx2v", "kijai"):
            name = f"diffusion_model.blocks.{block}.{_WAN_NAMES[inner]}"
            down_key, up_key = ("lora_down", "lora_up") if layout == "lightx2v" else ("lora_A", "lora_B")
            tensors[f"{name}.{down_key}.weight"] = down
            tensors[f"{name}.{up_key}.weight"] = up
            tensors[f"{name}.alpha"] = torch.tensor(lora.alpha)
            if bias is not None:
                tensors[f"{name}.diff_b"] = bias
        elif layout == "musubi":
            name = f"lora_unet_blocks_{block}_{_WAN_NAMES[inner].replace('.', '_')}"
            tensors[f"{name}.lora_down.weight"] = down
            tensors[f"{name}.lora_up.weight"] = up
            tensors[f"{name}.alpha"] = torch.tensor(lora.alpha)
        else:
            raise ValueError(f"unknown layout {layout!r}")
    if layout == "kijai":  # norm deltas ride along in Kijai's files; diffusers leaves them out
        blocks = sorted({layer.split(".")[1] for layer in lora.pairs})
        for block in blocks:
            tensors[f"diffusion_model.blocks.{block}.norm3.diff"] = torch.zeros(8)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: value.contiguous() for key, value in tensors.items()}, str(path))
    return path
