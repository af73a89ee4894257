"""LoRA files: which ones are accepted, what their keys say about them, and how a generation
names the LoRAs it fuses.

Only safetensors files are accepted. A LoRA saved as .pt, .ckpt or .bin is a pickle, and
loading a pickle runs whatever its author put in it; community LoRAs for Wan are published
as safetensors anyway. diffusers itself would fall back to unpickling a file it cannot read as
safetensors, so clipmill reads the file and hands diffusers the tensors.

No torch at import: the batch spec, preflight and `clipmill doctor` use this module; the
tensors themselves are read (and torch imported) by models.lora.
"""
from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clipmill.storage.user_files import UserFileError, open_user_file, read_user_bytes, user_file_sha256

LORA_SUFFIX = ".safetensors"
# A safetensors file starts with the byte length of its JSON header; real LoRA headers are a
# few hundred KiB at most, so anything past this is not a LoRA header.
_MAX_HEADER_BYTES = 64 * 2**20

# Which transformer a LoRA goes into: the only one of TI2V-5B, or on the two-expert A14B
# models the high-noise expert ("transformer") or the low-noise one ("transformer_2").
Expert = Literal["transformer", "transformer_2"]
EXPERTS: tuple[Expert, ...] = ("transformer", "transformer_2")

# Key layouts, by what their names start with. diffusers' own (`transformer.blocks.0.attn1.
# to_q.lora_A.weight`); the original Wan module names that lightx2v's Lightning LoRAs and
# Kijai's extractions use (`diffusion_model.blocks.0.self_attn.q.lora_down.weight`, with
# `.alpha`, `.diff_b` bias deltas and `.diff` norm deltas); musubi-tuner's (`lora_unet_blocks_0_
# self_attn_q.lora_down.weight`). diffusers converts the last two to its own.
DIFFUSERS, WAN_ORIGINAL, MUSUBI, UNKNOWN = "diffusers", "wan (lightx2v/Kijai)", "musubi", "unknown"


class LoraFileError(ValueError):
    """A LoRA that cannot be used; the one-line message names the file and the problem.
    A ValueError: a bad input, never retried."""


@dataclass(frozen=True)
class LoraWeights:
    """One LoRA as a generation fuses it: the file by path and by content, its strength, and
    the transformer it goes into. Recorded with every attempt made with it."""

    path: str
    sha256: str
    scale: float
    expert: Expert = "transformer"

    def identity(self) -> tuple[str, float, str]:
        """What the fused weights depend on: the bytes, not where they were read from."""
        return self.sha256, self.scale, self.expert

    def label(self) -> str:
        where = "" if self.expert == "transformer" else " (low-noise expert)"
        return f"{Path(self.path).name} x{self.scale:g}{where}"


def same_loras(a: Iterable[LoraWeights], b: Iterable[LoraWeights]) -> bool:
    """Whether two LoRA sets fuse into the same weights. Order counts: fusing adds in
    floating point, and the frames of the same seed must come out the same."""
    return [w.identity() for w in a] == [w.identity() for w in b]


def refuse_unless_safetensors(path: str | Path) -> None:
    """LoraFileError unless `path` is named like a safetensors file (nothing is read)."""
    suffix = Path(str(path)).suffix.lower()
    if suffix != LORA_SUFFIX:
        kind = f"a {suffix} file" if suffix else "a file without the .safetensors suffix"
        raise LoraFileError(f"LoRA {path}: only {LORA_SUFFIX} files are loaded; {kind} may be a pickle, and loading "
                            "one can run code from it (convert it to safetensors where you trust it)")


def lora_weights(path: str | Path, scale: float, expert: Expert = "transformer",
                 pinned_sha256: str | None = None) -> LoraWeights:
    """The LoRA at `path` named by its content. The file is hashed once per process while it
    stays the same file (storage.user_files). `pinned_sha256`: the sha256 the file must have
    (a spec's pin, or the one an attempt recorded, for `clipmill rerun`)."""
    refuse_unless_safetensors(path)
    try:
        sha256 = user_file_sha256(path, kind="weights")
    except UserFileError as error:
        raise LoraFileError(f"LoRA {error}") from None
    if pinned_sha256 is not None and sha256 != pinned_sha256.lower():
        raise LoraFileError(f"LoRA {path} has sha256 {sha256}, not the pinned {pinned_sha256}: the file changed "
                            "since it was recorded; restore it, or drop the pin to use the new one")
    return LoraWeights(path=str(path), sha256=sha256, scale=float(scale), expert=expert)


def read_header(path: str | Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Every tensor's dtype and shape, from the file's header alone (megabytes of a LoRA are
    not read to check its keys). LoraFileError for a file that is not safetensors."""
    refuse_unless_safetensors(path)
    try:
        with open_user_file(path, kind="weights") as handle:
            start = handle.read(8)
            if len(start) < 8:
                raise LoraFileError(f"LoRA {path}: not a safetensors file (only {len(start)} bytes)")
            (length,) = struct.unpack("<Q", start)
            if length > _MAX_HEADER_BYTES:
                raise LoraFileError(f"LoRA {path}: not a safetensors file (its first bytes announce a "
                                    f"{length}-byte header)")
            header = json.loads(handle.read(length))
    except UserFileError as error:
        raise LoraFileError(f"LoRA {error}") from None
    except (ValueError, UnicodeDecodeError):
        raise LoraFileError(f"LoRA {path}: not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise LoraFileError(f"LoRA {path}: not a safetensors file (its header is not a table of tensors)")
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            tensors[key] = (str(info["dtype"]), tuple(int(n) for n in info["shape"]))
        except (TypeError, KeyError, ValueError):
            raise LoraFileError(f"LoRA {path}: not a safetensors file (entry {key!r} has no dtype and shape)") from None
    if not tensors:
        raise LoraFileError(f"LoRA {path}: the file holds no tensors")
    return tensors


def layout_of(keys: Iterable[str]) -> str:
    """Which key layout a LoRA's names follow (DIFFUSERS, WAN_ORIGINAL, MUSUBI or UNKNOWN)."""
    keys = list(keys)
    if any(key.startswith("diffusion_model.") for key in keys):
        return WAN_ORIGINAL
    if any(key.startswith("lora_unet_") for key in keys):
        return MUSUBI
    if any(".lora_A." in key or ".lora_B." in key for key in keys):
        return DIFFUSERS
    return UNKNOWN


def read_lora_bytes(weights: LoraWeights) -> bytes:
    """The file's bytes, refused unless they hash to `weights.sha256`: what is fused is exactly
    what the attempt records, even if the file was replaced after the job was checked."""
    try:
        data = read_user_bytes(weights.path, kind="weights")
    except UserFileError as error:
        raise LoraFileError(f"LoRA {error}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != weights.sha256:
        raise LoraFileError(f"LoRA {weights.path} changed since it was checked (sha256 {actual}, "
                            f"expected {weights.sha256})")
    return data
