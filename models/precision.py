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
"""
from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
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


def quantize(transformer: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Give the blocks' Linear layers FP8 weights (in place); returns their original weights on
    the host, which `restore` puts back. On the host, so that the GPU holds only the FP8 copy
    (A14B's second expert could not be quantised with the first one's bf16 weights still there)."""
    from torchao.quantization import Float8DynamicActivationFloat8WeightConfig, PerRow, quantize_

    originals = {name: module.weight.detach().to("cpu", copy=True)
                 for name, module in transformer.named_modules() if quantizable(module, name)}
    # set_inductor_config=False: torchao would otherwise switch on coordinate-descent tuning for
    # every later compile of the process, which lengthens the worker's start and would make
    # the bf16 and FP8 measurements differ by more than the matmuls.
    config = Float8DynamicActivationFloat8WeightConfig(granularity=PerRow(), set_inductor_config=False)
    quantize_(transformer, config, filter_fn=quantizable)
    return originals


def restore(transformer: torch.nn.Module, originals: dict[str, torch.Tensor], device: torch.device) -> None:
    """Put the weights `quantize` returned back (a refused check)."""
    modules = dict(transformer.named_modules())
    for name, weight in originals.items():
        module = modules[name]
        module.weight = torch.nn.Parameter(weight.to(device), requires_grad=False)
        module.__dict__.pop("extra_repr", None)  # torchao's per-instance repr naming the FP8 weight


def apply(choice: PrecisionChoice, transformers: Sequence[torch.nn.Module], device: torch.device, *,
          profile: str, timesteps: Sequence[float], context: torch.Tensor | None = None,
          max_relative_error: float | None = None) -> PrecisionChoice:
    """Quantise `transformers` when `choice` (from `plan`) is FP8 and the check accepts it.

    Call after the attention kernel is set and before compiling: the check then runs each
    transformer as it will run, and the compiled graph sees the FP8 weights.

    Args:
        choice: The plan made before placement.
        transformers: The model's transformers (both experts of A14B: both or neither in FP8).
        device: Where they sit.
        profile: The memory profile they sit in (FP8 only with "resident").
        timesteps: Each transformer's check timestep: the first step it runs.
        context: A prompt's text embedding, (1, tokens, text_dim), for the check's input.
        max_relative_error: Beyond it the check refuses FP8; None: `MAX_RELATIVE_ERROR`, read
            at the call (a benchmark may set it to time FP8 that the check would refuse).

    Returns:
        What the model runs in now, with the check's errors.
    """
    if choice.precision != FP8:
        return choice
    limit = MAX_RELATIVE_ERROR if max_relative_error is None else max_relative_error
    if profile != "resident":
        return _offloaded(transformers[0].dtype, profile)
    quantised: list[tuple[torch.nn.Module, dict[str, torch.Tensor]]] = []
    worst_abs = worst_rel = 0.0
    try:
        for transformer, timestep in zip(transformers, timesteps, strict=True):
            inputs = check_inputs(transformer, device, timestep=timestep, context=context)
            reference = _run(transformer, inputs)
            quantised.append((transformer, quantize(transformer)))
            max_abs, relative = output_error(reference, _run(transformer, inputs))
            worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, relative)
    except Exception as error:  # a kernel without support for a shape, an old driver: bf16 still works
        for transformer, originals in quantised:
            restore(transformer, originals, device)
        return PrecisionChoice(BF16, FP8, f"FP8 check raised {type(error).__name__}: {str(error)[:200]}")
    if worst_rel > limit:
        for transformer, originals in quantised:
            restore(transformer, originals, device)
        return PrecisionChoice(BF16, FP8, f"FP8 output is {worst_rel:.2%} from the unquantised one on the check "
                                          f"step (> {limit * 100:g}%); running bf16", worst_abs, worst_rel)
    layers = sum(len(originals) for _, originals in quantised)
    return PrecisionChoice(FP8, FP8, f"{choice.reason}; {layers} Linear layers in FP8, check step "
                                     f"{worst_rel:.2%} from unquantised (max |diff| {worst_abs:.3g})",
                           worst_abs, worst_rel, layers)
