"""Which precision a Wan transformer's matmuls run in: bf16 (the default), or FP8 where the GPU
has it and the batch asks for it (`models: {precision: fp8}`).

FP8 is torchao's float8 dynamic quantisation with per-row scales, what the community runs Wan
with on Hopper: every nn.Linear inside the transformer blocks keeps its weight in float8 e4m3
with one scale per output row, and each call scales its input per row (one scale per token),
casts it to e4m3 and multiplies on the FP8 tensor cores (`torch._scaled_mm`), the result coming
back in the activation's dtype. The blocks' weights take half the memory (both A14B experts fit
one 80 GB card), and the matmuls, nearly all of a forward outside attention, run at up to twice
bf16's rate on an H100/H200.

The choice is made once, at load, and checked, as the attention kernel is
(models/attention.py): each transformer runs once on a fixed small input as loaded, is quantised,
and runs again on the same input; the largest absolute difference and the relative error of its
output are recorded (`PrecisionChoice`). Beyond `MAX_RELATIVE_ERROR` the original weights go
back and the model runs in bf16, and the choice says why. Without an FP8 GPU (compute
capability below 8.9, or no GPU at all), without torchao, or with an offloading memory profile,
it runs in bf16 and says so too.

LoRAs go into the bf16 weights, never into FP8 ones (`Fp8Blocks`, used by models.lora): the
bf16 weights each layer was quantised from stay in host memory, and a LoRA swap puts them back,
fuses the set into them and quantises again, checked the same way against the fused bf16 model.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch

logger = logging.getLogger(__name__)

BF16 = "bf16"
FP8 = "fp8"
PRECISIONS: tuple[str, ...] = (BF16, FP8)
# Ada (sm89) and Hopper (sm90) are the first GPUs with FP8 tensor cores; torchao's float8
# matmuls ask for the same.
FP8_MIN_CAPABILITY = (8, 9)
# Largest relative error (|fp8 - bf16| / |bf16|, L2 over the whole output) of the transformer's
# output on the check's input that is accepted: the target set for FP8 in issue #26. A wrong
# quantisation (a scale on the wrong axis, a layer that overflows e4m3's +-448) is off by tens of
# percent or gives inf/NaN.
MAX_RELATIVE_ERROR = 0.03
# The check's input: a fixed seed, two latent frames of 16x16 patches (512 tokens): small
# enough to cost milliseconds on a GPU, large enough that every row statistic is a real one.
CHECK_SEED = 20260
CHECK_LATENT_FRAMES = 2
CHECK_PATCHES = 16
CHECK_TEXT_TOKENS = 512


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision chosen at load, what was asked for, and why (a fallback's reason included).

    `max_abs_error` and `relative_error` are the check's: the transformer's output in FP8
    against its output as loaded, on the same input (the worst of both experts for A14B), None
    where no check ran. `layers` counts the Linear layers in FP8."""

    precision: str
    requested: str
    reason: str
    max_abs_error: float | None = None
    relative_error: float | None = None
    layers: int = 0

    def __str__(self) -> str:
        return self.precision

    @property
    def fell_back(self) -> bool:
        """FP8 asked for, bf16 used."""
        return self.requested == FP8 and self.precision != FP8

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def label(dtype: torch.dtype) -> str:
    """How a transformer loaded in `dtype` is named when it is not in FP8: "bf16" for a real
    checkpoint on a GPU, "fp32" for the tiny model, which stays in float32."""
    return {torch.bfloat16: BF16, torch.float16: "fp16", torch.float32: "fp32"}.get(dtype, str(dtype).removeprefix("torch."))


def decide(requested: str, *, device_type: str, capability: tuple[int, int] | None, dtype: torch.dtype,
           torchao_error: str | None, profile: str | None = None) -> PrecisionChoice:
    """The precision to use before the numerical check: pure, so the CPU tests cover every case.

    Args:
        requested: "bf16" or "fp8" (the batch spec's `models.precision`).
        device_type: "cuda" or "cpu".
        capability: The GPU's compute capability, None without one.
        dtype: The transformer's dtype as loaded (torchao's per-row FP8 takes bf16 weights).
        torchao_error: Why torchao's float8 API did not import, None when it did.
        profile: The memory profile the pipeline sits in; None while it is still to be chosen.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision {requested!r}; choose {' or '.join(PRECISIONS)}")
    loaded = label(dtype)
    if requested == BF16:
        return PrecisionChoice(loaded, BF16, "asked for (models.precision)")
    if device_type != "cuda" or capability is None:
        return PrecisionChoice(loaded, FP8, "no CUDA device: FP8 matmuls need a GPU of compute capability 8.9 or newer")
    if tuple(capability) < FP8_MIN_CAPABILITY:
        return PrecisionChoice(loaded, FP8, f"GPU is sm{capability[0]}{capability[1]}, FP8 matmuls need sm89 or "
                                            "newer (Ada, Hopper)")
    if torchao_error is not None:
        return PrecisionChoice(loaded, FP8, f"torchao not usable ({torchao_error}); pip install 'clipmill[fp8]'")
    if dtype != torch.bfloat16:
        return PrecisionChoice(loaded, FP8, f"the transformer runs in {dtype}; per-row FP8 quantises bf16 weights")
    if profile is not None and profile != "resident":
        return _offloaded(dtype, profile)
    return PrecisionChoice(FP8, FP8, f"sm{capability[0]}{capability[1]} GPU with torchao")


def _offloaded(dtype: torch.dtype, profile: str) -> PrecisionChoice:
    # Offloading hooks move weights between host and GPU around every call; the quantised
    # layers have only been measured sitting on the GPU.
    return PrecisionChoice(label(dtype), FP8, f"memory profile {profile!r}: FP8 runs with the resident profile only")


def torchao_import_error() -> str | None:
    """None when torchao's float8 quantisation API imports, else the error in one line."""
    try:
        from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow, quantize_  # noqa: F401
    except Exception as error:  # ImportError, or an incompatible build failing at import
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    return None


def plan(requested: str, device: torch.device, dtype: torch.dtype) -> PrecisionChoice:
    """`decide` with this machine's facts, before the memory profile is chosen (FP8 weights make
    a smaller model, which may stay resident where bf16 would not: models.acceleration)."""
    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    error = torchao_import_error() if requested == FP8 and capability is not None else None
    return decide(requested, device_type=device.type, capability=capability, dtype=dtype, torchao_error=error)


def quantizable(module: torch.nn.Module, name: str) -> bool:
    """Whether a module of the transformer gets FP8 weights: the Linear layers of its blocks.

    Those are the attention projections (q, k, v, out; self- and cross-attention) and the
    feed-forward's two layers: nearly all of the weights and of the matmul FLOPs. Kept as
    loaded, as the community's FP8 Wan checkpoints and LightX2V keep them: the patch embedding
    (a Conv3d), the text and time embedders and the time projection (their outputs shift and
    scale every block, so an error there is applied everywhere, for a few GFLOP a step), the
    norms and modulation tables (not Linear), and the final projection `proj_out` (it writes
    the prediction itself, and its few outputs, 64 or 192, gain nothing). FP8 matmuls also need
    both dimensions in multiples of 16."""
    return (isinstance(module, torch.nn.Linear) and name.startswith("blocks.")
            and module.in_features % 16 == 0 and module.out_features % 16 == 0)


def output_error(reference: torch.Tensor, candidate: torch.Tensor) -> tuple[float, float]:
    """(largest |candidate - reference|, ||candidate - reference|| / ||reference||), in float32.

    Any inf or NaN in either makes both inf (never NaN, which every comparison would let
    through): an overflowed FP8 layer must not pass."""
    reference, candidate = reference.float(), candidate.float()
    if reference.shape != candidate.shape:
        raise ValueError(f"outputs differ in shape: {tuple(reference.shape)} and {tuple(candidate.shape)}")
    if not (bool(torch.isfinite(candidate).all()) and bool(torch.isfinite(reference).all())):
        return math.inf, math.inf
    diff = candidate - reference
    norm = reference.norm().item()
    diff_norm = diff.norm().item()
    relative = diff_norm / norm if norm > 0 else (0.0 if diff_norm == 0 else math.inf)
    return diff.abs().max().item(), relative


def check_inputs(transformer: torch.nn.Module, device: torch.device, *, timestep: float,
                 context: torch.Tensor | None = None) -> dict[str, Any]:
    """The fixed small input of the check: Gaussian latents (what the first step sees), the
    step's timestep, and `context` as the text (a real prompt's embedding; random when None)."""
    config = transformer.config
    dtype = transformer.dtype
    generator = torch.Generator(device="cpu").manual_seed(CHECK_SEED)
    _, patch_h, patch_w = config.patch_size
    shape = (1, config.in_channels, CHECK_LATENT_FRAMES, CHECK_PATCHES * patch_h, CHECK_PATCHES * patch_w)
    inputs = {
        "hidden_states": torch.randn(shape, generator=generator).to(device, dtype),
        "timestep": torch.tensor([timestep], device=device),
        "encoder_hidden_states": (context if context is not None else
                                  torch.randn(1, CHECK_TEXT_TOKENS, config.text_dim, generator=generator)
                                  ).to(device, dtype),
    }
    if config.image_dim is not None:  # Wan2.1-style image conditioning: CLIP image tokens
        inputs["encoder_hidden_states_image"] = torch.randn(1, 257, config.image_dim, generator=generator).to(device, dtype)
    return inputs


def _run(transformer: torch.nn.Module, inputs: dict[str, Any]) -> torch.Tensor:
    with torch.inference_mode():
        return transformer(**inputs, return_dict=False)[0].float()


def host_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A copy in host memory; page-locked for a GPU tensor, so that putting it back runs at the
    bus's full speed instead of through a staging buffer."""
    if tensor.device.type != "cuda":
        return tensor.to("cpu", copy=True)
    copy = torch.empty(tensor.shape, dtype=tensor.dtype, device="cpu", pin_memory=True)
    copy.copy_(tensor)
    return copy


def quantize(transformer: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Give the blocks' Linear layers FP8 weights (in place); returns their original weights on
    the host, which `restore` puts back. On the host, so that the GPU holds only the FP8 copy
    (A14B's second expert could not be quantised with the first one's bf16 weights still there)."""
    originals = {name: host_copy(module.weight.detach())
                 for name, module in transformer.named_modules() if quantizable(module, name)}
    _quantize_in_place(transformer)
    return originals


def _quantize_in_place(transformer: torch.nn.Module) -> None:
    from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow, quantize_

    # set_inductor_config=False: torchao would otherwise switch on coordinate-descent tuning for
    # every later compile of the process, which lengthens the worker's start and would make
    # the bf16 and FP8 measurements differ by more than the matmuls.
    config = Float8DynamicActivationFloat8WeightConfig(granularity=PerRow(), set_inductor_config=False)
    quantize_(transformer, config, filter_fn=quantizable)


def restore(transformer: torch.nn.Module, originals: Mapping[str, torch.Tensor], device: torch.device) -> None:
    """Put the weights `quantize` returned back (a refused check; a LoRA swap, `Fp8Blocks`).
    Always as copies: on the CPU `.to(device)` would hand the module the host tensor itself, and a
    LoRA fused into it in place would change the originals kept to undo it."""
    modules = dict(transformer.named_modules())
    for name, weight in originals.items():
        module = modules[name]
        module.weight = torch.nn.Parameter(weight.to(device, copy=True, non_blocking=True), requires_grad=False)
        module.__dict__.pop("extra_repr", None)  # torchao's per-instance repr naming the FP8 weight
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # the copies from pinned memory run asynchronously


Errors = tuple[float, float]  # (largest |difference|, relative error) of a check


class Fp8Blocks:
    """FP8 transformers kept ready to take a LoRA: the bf16 weights every quantised layer was
    made from, in host memory, and the check's input, so that a LoRA swap (models.lora.FusedLoras)
    can put those weights back (`dequantize`), fuse the new set into them in bf16, and quantise
    again (`quantize`), checked as at load but against the fused bf16 model.

    Why not add the LoRA to the FP8 weights: their per-row scales would not follow an in-place
    add, and adding it to weights dequantised from FP8 rounds twice (measured on the CPU: 4.5%
    relative error for a layer against 3.7% for quantising the fused bf16 weights once). The
    checkpoint's weights quantise to the same FP8 weights every time, so a swap back to no LoRA
    gives the load's FP8 model, and its frames, bit for bit.

    The host copy is the size of the blocks' Linear weights in bf16 (TI2V-5B: about 9.8 GB;
    A14B: about 28 GB an expert), held for the life of the generator: the FP8 weights cannot give
    the bf16 ones back.
    """

    def __init__(self, planned: PrecisionChoice, transformers: Mapping[str, torch.nn.Module],
                 originals: Mapping[str, dict[str, torch.Tensor]], device: torch.device, *,
                 timesteps: Mapping[str, float], context: torch.Tensor | None, limit: float,
                 errors: Mapping[str, Errors]) -> None:
        self.transformers = dict(transformers)
        self.originals = {expert: dict(weights) for expert, weights in originals.items()}
        self.device = device
        self.timesteps = dict(timesteps)
        self.context = context
        self.limit = limit  # the relative error the check accepts, as read at load
        self._planned_reason = planned.reason
        self._errors = dict(errors)  # each expert's check of the FP8 weights it holds now
        self.loaded = self._choice("unquantised")
        self.choice = self.loaded  # what the weights are now, and their check

    @property
    def layers(self) -> int:
        return sum(len(weights) for weights in self.originals.values())

    def host_bytes(self) -> int:
        return sum(w.numel() * w.element_size() for weights in self.originals.values() for w in weights.values())

    def holds(self, expert: str, layer: str) -> bool:
        """Whether `layer`'s weight of `expert` is FP8, with its bf16 original kept here."""
        return layer in self.originals.get(expert, ())

    def dequantize(self, expert: str) -> None:
        """`expert`'s quantised layers get the bf16 weights they were quantised from (the
        checkpoint's), whatever they hold now: FP8, or bf16 with a LoRA fused."""
        restore(self.transformers[expert], self.originals[expert], self.device)

    def quantize(self, expert: str, phase: Callable[[str], AbstractContextManager] = lambda name: nullcontext()
                 ) -> Errors:
        """Quantise `expert`'s layers again (after `dequantize` and a fuse), checked: its output
        on the check's fixed input before and after, as at load. Returns the errors and keeps
        them for `settle`; refusing is the caller's (`limit`). `phase(name)` times the
        "quantise" and the "fp8_check" parts (models.lora's swap phases)."""
        transformer = self.transformers[expert]
        # Eager: the worker's blocks are compiled for the clip's shapes, and the check's small
        # input (and, before quantising, bf16 weights) would compile each block twice more.
        with torch.compiler.set_stance("force_eager"):
            with phase("fp8_check"):
                inputs = check_inputs(transformer, self.device, timestep=self.timesteps[expert], context=self.context)
                reference = _run(transformer, inputs)
            with phase("quantise"):
                _quantize_in_place(transformer)
            with phase("fp8_check"):
                errors = output_error(reference, _run(transformer, inputs))
        self._errors[expert] = errors
        return errors

    def settle(self, fused: str | None) -> PrecisionChoice:
        """`choice` for the weights as they are now; `fused` names the LoRAs in them (None:
        the checkpoint's own weights, whose check is the load's)."""
        self.choice = self._choice(f"bf16 weights with {fused} fused" if fused else "unquantised")
        return self.choice

    def _choice(self, against: str) -> PrecisionChoice:
        worst_abs = max(errors[0] for errors in self._errors.values())
        worst_rel = max(errors[1] for errors in self._errors.values())
        return PrecisionChoice(FP8, FP8, f"{self._planned_reason}; {self.layers} Linear layers in FP8, check step "
                                         f"{worst_rel:.2%} from {against} (max |diff| {worst_abs:.3g})",
                               worst_abs, worst_rel, self.layers)


def apply(choice: PrecisionChoice, transformers: Sequence[torch.nn.Module], device: torch.device, *,
          profile: str, timesteps: Sequence[float], context: torch.Tensor | None = None,
          max_relative_error: float | None = None) -> PrecisionChoice:
    """`apply_fp8_blocks` without keeping the bf16 weights: FP8 that no LoRA will go into."""
    return apply_fp8_blocks(choice, transformers, device, profile=profile, timesteps=timesteps, context=context,
                            max_relative_error=max_relative_error)[0]


def apply_fp8_blocks(choice: PrecisionChoice, transformers: Sequence[torch.nn.Module] | Mapping[str, torch.nn.Module],
                     device: torch.device, *, profile: str, timesteps: Sequence[float],
                     context: torch.Tensor | None = None, max_relative_error: float | None = None
                     ) -> tuple[PrecisionChoice, Fp8Blocks | None]:
    """Quantise `transformers` when `choice` (from `plan`) is FP8 and the check accepts it.

    Call after the attention kernel is set and before compiling: the check then runs each
    transformer as it will run, and the compiled graph sees the FP8 weights.

    Args:
        choice: The plan made before placement.
        transformers: The model's transformers (both experts of A14B: both or neither in FP8),
            by name ("transformer", "transformer_2") or in that order.
        device: Where they sit.
        profile: The memory profile they sit in (FP8 only with "resident").
        timesteps: Each transformer's check timestep: the first step it runs.
        context: A prompt's text embedding, (1, tokens, text_dim), for the check's input.
        max_relative_error: Beyond it the check refuses FP8; None: `MAX_RELATIVE_ERROR`, read
            at the call (a benchmark may set it to time FP8 that the check would refuse).

    Returns:
        What the model runs in now, with the check's errors, and the `Fp8Blocks` that keep the
        bf16 weights for LoRAs (None unless it runs in FP8).
    """
    if not isinstance(transformers, Mapping):
        transformers = dict(zip(("transformer", "transformer_2"), transformers))
    if choice.precision != FP8:
        return choice, None
    limit = MAX_RELATIVE_ERROR if max_relative_error is None else max_relative_error
    first = next(iter(transformers.values()))
    if profile != "resident":
        return _offloaded(first.dtype, profile), None
    quantised: dict[str, dict[str, torch.Tensor]] = {}
    errors: dict[str, Errors] = {}
    try:
        for (expert, transformer), timestep in zip(transformers.items(), timesteps, strict=True):
            inputs = check_inputs(transformer, device, timestep=timestep, context=context)
            reference = _run(transformer, inputs)
            quantised[expert] = quantize(transformer)
            errors[expert] = output_error(reference, _run(transformer, inputs))
    except Exception as error:  # a kernel without support for a shape, an old driver: bf16 still works
        for expert, originals in quantised.items():
            restore(transformers[expert], originals, device)
        return PrecisionChoice(BF16, FP8, f"FP8 check raised {type(error).__name__}: {str(error)[:200]}"), None
    worst_abs = max(e[0] for e in errors.values())
    worst_rel = max(e[1] for e in errors.values())
    if worst_rel > limit:
        for expert, originals in quantised.items():
            restore(transformers[expert], originals, device)
        return PrecisionChoice(BF16, FP8, f"FP8 output is {worst_rel:.2%} from the unquantised one on the check "
                                          f"step (> {limit * 100:g}%); running bf16", worst_abs, worst_rel), None
    blocks = Fp8Blocks(choice, transformers, quantised, device, timesteps=dict(zip(transformers, timesteps)),
                       context=context, limit=limit, errors=errors)
    return blocks.loaded, blocks
