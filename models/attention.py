"""Which attention kernel a Wan transformer runs: FlashAttention-4 on Hopper when it is
installed and agrees with PyTorch's SDPA, SDPA otherwise.

At TI2V-5B 720p (27,280 tokens x 24 heads x 128) FlashAttention-4's Hopper forward
(`flash_attn.cute.flash_attn_func`, the `clipmill[hopper]` extra) runs at ~700 TFLOP/s on an
H200 against ~590 for SDPA's best backend (cuDNN), and attention is about half of each forward.
torch's own `activate_flash_attention_impl("FA4")` fails with flash-attn-4 4.0.0b36, so the
kernel is called directly, wrapped as a `torch.library` custom op with a fake implementation:
the compiled transformer blocks (`fullgraph=True`) then see one opaque op with known output
shape instead of tracing into CuTe's Python, which would break the graph.

The choice is made once, at load, and recorded (`AttentionChoice`): the attempt says which
kernel made the clip and, on a fallback, why.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

logger = logging.getLogger(__name__)

FLASH_ATTENTION_4 = "flash-attention-4"
SDPA = "sdpa"
# "auto" (the default), "sdpa" or "flash-attention-4"; read at load, for benchmarks and for
# turning the fast kernel off without a code change.
ATTENTION_ENV = "CLIPMILL_ATTENTION"
# Largest |FA4 - SDPA| accepted on the check's random bf16 inputs (unit scale): bf16 rounding of
# outputs of that size is ~4e-3; a wrong kernel (layout, scale) is off by 1e-1 or more.
CHECK_TOLERANCE = 2e-2


@dataclass(frozen=True)
class AttentionChoice:
    """The kernel chosen at load, and why (a fallback's reason included)."""

    kernel: str
    reason: str
    max_abs_diff: float | None = None  # FA4 against SDPA in the check at load

    def __str__(self) -> str:
        return self.kernel


def decide(requested: str, *, device_type: str, capability: tuple[int, int] | None, dtype: torch.dtype,
           fa4_import_error: str | None) -> AttentionChoice:
    """The kernel to use before the numerical check: pure, so the CPU tests cover every case.

    Args:
        requested: "auto", "sdpa" or "flash-attention-4" (the last only prefers it: where it
            cannot run, SDPA is used and the reason says so).
        device_type: "cuda" or "cpu".
        capability: The GPU's compute capability, None without one.
        dtype: The transformer's compute dtype (FA4 takes bf16 and fp16 only).
        fa4_import_error: Why `flash_attn.cute` did not import, None when it did.
    """
    if requested not in ("auto", SDPA, FLASH_ATTENTION_4):
        raise ValueError(f"unknown attention kernel {requested!r}; choose auto, {SDPA} or {FLASH_ATTENTION_4}")
    if requested == SDPA:
        return AttentionChoice(SDPA, f"asked for ({ATTENTION_ENV} or argument)")
    if device_type != "cuda" or capability is None:
        return AttentionChoice(SDPA, "no CUDA device")
    if capability[0] != 9:
        # FA4 also has a Blackwell path, but only Hopper (sm90) has been measured here.
        return AttentionChoice(SDPA, f"GPU is sm{capability[0]}{capability[1]}, not Hopper (sm90)")
    if dtype not in (torch.bfloat16, torch.float16):
        return AttentionChoice(SDPA, f"transformer runs in {dtype}, FlashAttention-4 takes bf16/fp16")
    if fa4_import_error is not None:
        return AttentionChoice(SDPA, f"flash-attn-4 not usable ({fa4_import_error}); pip install 'clipmill[hopper]'")
    return AttentionChoice(FLASH_ATTENTION_4, "Hopper GPU with flash-attn-4 installed")


def fa4_import_error() -> str | None:
    """None when FlashAttention-4's CuTe interface imports, else the error in one line."""
    try:
        from flash_attn.cute import flash_attn_func  # noqa: F401
    except Exception as error:  # ImportError, or a CUDA/driver error raised at import
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
    return None


# --- the custom op ------------------------------------------------------------------------

@torch.library.custom_op("clipmill::flash_attention_4", mutates_args=())
def flash_attention_4(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, softmax_scale: float) -> torch.Tensor:
    """Non-causal attention, (batch, seq, heads, head_dim) in and out, through FA4's CuTe kernel."""
    from flash_attn.cute import flash_attn_func

    out = flash_attn_func(query.contiguous(), key.contiguous(), value.contiguous(),
                          softmax_scale=softmax_scale, causal=False)
    return out[0] if isinstance(out, tuple) else out


@flash_attention_4.register_fake
def _flash_attention_4_fake(query, key, value, softmax_scale):
    return query.new_empty((*query.shape[:-1], value.shape[-1]))


def _diffusers_flash_4(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                       attn_mask: torch.Tensor | None = None, scale: float | None = None,
                       is_causal: bool = False, _parallel_config=None) -> torch.Tensor:
    # Runs inside the compiled blocks: no logging, counters or other Python side effects here,
    # or dynamo recompiles on every call until it gives up.
    if attn_mask is not None or is_causal:
        raise ValueError("clipmill's FlashAttention-4 path takes no mask and is not causal")
    softmax_scale = scale if scale is not None else query.shape[-1] ** -0.5
    return flash_attention_4(query, key, value, softmax_scale)


def _register_with_diffusers():
    """Serve diffusers' `flash_4_hub` backend name with the locally installed FA4.

    diffusers' own entry for that name fetches the kernel from the Hub at run time (the
    `kernels` package), which a worker cannot do; it is the same kernel, so clipmill's
    implementation takes the name. Returns the backend's name."""
    from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

    name = AttentionBackendName.FLASH_4_HUB
    if _AttentionBackendRegistry._backends.get(name) is not _diffusers_flash_4:
        _AttentionBackendRegistry.register(name, constraints=[], supports_context_parallel=False)(_diffusers_flash_4)
    return name


def use_kernel(transformer: torch.nn.Module, kernel: str) -> int:
    """Point every attention module of `transformer` at `kernel`; returns how many.

    Not `transformer.set_attention_backend`: for FA4's name it insists on downloading the hub
    kernel. Call before compiling the blocks: the backend becomes a constant of the graph."""
    from diffusers.models.attention import AttentionModuleMixin

    backend = _register_with_diffusers() if kernel == FLASH_ATTENTION_4 else None
    count = 0
    for module in transformer.modules():
        if isinstance(module, AttentionModuleMixin):
            module.processor._attention_backend = backend
            count += 1
    return count


def check_against_sdpa(device: torch.device, *, heads: int = 8, head_dim: int = 128, tokens: int = 1024,
                       context: int = 512) -> float:
    """Largest |FA4 - SDPA| over self- and cross-attention shapes on fresh random bf16 inputs."""
    worst = 0.0
    generator = torch.Generator(device=device).manual_seed(int.from_bytes(os.urandom(4), "little"))
    for kv_tokens in (tokens, context):
        q = torch.randn(1, tokens, heads, head_dim, device=device, dtype=torch.bfloat16, generator=generator)
        k, v = (torch.randn(1, kv_tokens, heads, head_dim, device=device, dtype=torch.bfloat16, generator=generator)
                for _ in range(2))
        fast = flash_attention_4(q, k, v, head_dim ** -0.5)
        reference = torch.nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
        diff = (fast.float() - reference.float()).abs().max().item()
        if diff != diff:  # NaN
            return float("inf")
        worst = max(worst, diff)
    return worst


def choose_kernel(device: torch.device, dtype: torch.dtype, requested: str | None = None) -> AttentionChoice:
    """Decide at load: FA4 on Hopper when it imports and matches SDPA on random inputs, else SDPA.

    `requested` None reads `CLIPMILL_ATTENTION` (default "auto")."""
    requested = requested or os.environ.get(ATTENTION_ENV, "auto").strip() or "auto"
    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    import_error = fa4_import_error() if device.type == "cuda" and requested != SDPA else None
    choice = decide(requested, device_type=device.type, capability=capability, dtype=dtype,
                    fa4_import_error=import_error)
    if choice.kernel != FLASH_ATTENTION_4:
        return choice
    try:
        diff = check_against_sdpa(device)
    except Exception as error:  # kernel compile or launch failure: SDPA still works
        logger.warning("FlashAttention-4 failed its check (%s); using SDPA", error)
        return AttentionChoice(SDPA, f"FlashAttention-4 check raised {type(error).__name__}: {error}")
    if diff > CHECK_TOLERANCE:
        logger.warning("FlashAttention-4 differs from SDPA by %.3g (> %.3g); using SDPA", diff, CHECK_TOLERANCE)
        return AttentionChoice(SDPA, f"FlashAttention-4 differs from SDPA by {diff:.3g} (> {CHECK_TOLERANCE})", diff)
    return AttentionChoice(FLASH_ATTENTION_4, f"{choice.reason}; max |diff| vs SDPA {diff:.2g}", diff)
