"""GPU benchmark: which attention kernel serves Wan2.2 TI2V-5B at 720p best.

Self-attention is about half the FLOPs of a TI2V-5B forward at 1280x704x121 (27,280 tokens).
This times PyTorch's scaled-dot-product-attention backends and FlashAttention-4 (when
installed: `clipmill[hopper]`) at that shape, with the two CFG passes batched, and at A14B 480p
(32,760 tokens x 40 heads), then one whole transformer forward (real-size architecture, random
weights, blocks compiled as clipmill compiles them) with SDPA and with FlashAttention-4.

    python tests/benchmarks/bench_attention.py --json tests/benchmarks/results/attention_h200.json

Not part of the test suite: it needs a CUDA GPU with ~40 GB free.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel


from tests.benchmarks.bench_wan_gpu import TRANSFORMER_5B, _bf16_like_from_pretrained  # noqa: E402
from tests.benchmarks.results_json import emit  # noqa: E402

BACKENDS = {"default": None, "flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
            "efficient": SDPBackend.EFFICIENT_ATTENTION}


def gpu_seconds(run, repeats: int) -> float:
    """Mean GPU time of `run` over `repeats` calls, after one untimed call."""
    run()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        run()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / repeats


SHAPES = {  # name: (tokens, heads, batch)
    "ti2v5b_720p": (31 * 22 * 40, 24, 1),          # 1280x704, 121 frames
    "ti2v5b_720p_cfg_batched": (31 * 22 * 40, 24, 2),
    "a14b_480p": (21 * 30 * 52, 40, 1),            # 832x480, 81 frames
}


def kernels(results: dict) -> dict:
    """Attention callables taking (batch, seq, heads, dim), as diffusers' dispatch does."""
    def sdpa(q, k, v):
        return torch.nn.functional.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                                v.transpose(1, 2)).transpose(1, 2)
    found = {"sdpa_default": sdpa}
    for name in ("flash", "cudnn"):
        backend = BACKENDS[name]
        found[f"sdpa_{name}"] = lambda q, k, v, backend=backend: _with_backend(backend, sdpa, q, k, v)
    from clipmill.models.attention import fa4_import_error, flash_attention_4
    error = fa4_import_error()
    if error is None:
        found["flash_attention_4"] = lambda q, k, v: flash_attention_4(q, k, v, q.shape[-1] ** -0.5)
    else:
        results["flash_attention_4_error"] = error
    return found


def _with_backend(backend, fn, *args):
    with sdpa_kernel([backend]):
        return fn(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--forward", action=argparse.BooleanOptionalAction, default=True,
                        help="also time a whole compiled transformer forward per kernel")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("a CUDA GPU is needed")

    head_dim = TRANSFORMER_5B["attention_head_dim"]
    results: dict = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
                     "cudnn": torch.backends.cudnn.version(), "head_dim": head_dim, "dtype": "bfloat16"}
    try:
        from importlib.metadata import version
        results["flash_attn_4"] = version("flash-attn-4")
        results["nvidia_cutlass_dsl"] = version("nvidia-cutlass-dsl")
    except Exception:
        pass
    found = kernels(results)
    for shape, (tokens, heads, batch) in SHAPES.items():
        torch.manual_seed(0)
        q, k, v = (torch.randn(batch, tokens, heads, head_dim, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        flop = 4 * tokens**2 * head_dim * heads * batch
        reference = found["sdpa_default"](q, k, v).float()
        row = {"tokens": tokens, "heads": heads, "batch": batch}
        for name, fn in found.items():
            try:
                seconds = gpu_seconds(lambda: fn(q, k, v), 10)
                out = fn(q, k, v)
            except Exception as error:  # a backend this build or GPU does not offer
                row[f"{name}_error"] = str(error).splitlines()[0][:200]
                continue
            row[f"{name}_ms"] = round(seconds * 1000, 2)
            row[f"{name}_tflops"] = round(flop / seconds / 1e12, 1)
            row[f"{name}_max_abs_diff_vs_sdpa"] = round((out.float() - reference).abs().max().item(), 5)
            print(f"{shape:>24} {name:>18}: {seconds * 1000:7.2f} ms  {flop / seconds / 1e12:6.1f} TFLOP/s  "
                  f"max |diff| vs SDPA {row[f'{name}_max_abs_diff_vs_sdpa']}", flush=True)
        results[shape] = row
        del q, k, v, out, reference
        torch.cuda.empty_cache()

    if args.forward:
        from diffusers import WanTransformer3DModel

        from clipmill.models.attention import FLASH_ATTENTION_4, SDPA, use_kernel

        with torch.device("cuda"):
            transformer = _bf16_like_from_pretrained(WanTransformer3DModel(**TRANSFORMER_5B))
        latents = torch.randn(1, 48, 31, 44, 80, device="cuda", dtype=torch.bfloat16)
        text = torch.randn(1, 512, 4096, device="cuda", dtype=torch.bfloat16)
        timestep = torch.full((1,), 500.0, device="cuda")
        outputs = {}
        for name in [SDPA] + ([FLASH_ATTENTION_4] if "flash_attention_4" in found else []):
            torch._dynamo.reset()
            use_kernel(transformer, name)
            transformer.compile_repeated_blocks(fullgraph=True, dynamic=False)

            def forward() -> None:
                with torch.inference_mode():
                    outputs[name] = transformer(latents, timestep, text, return_dict=False)[0]

            seconds = gpu_seconds(forward, 4)
            results[f"forward_{name}_s"] = round(seconds, 4)
            print(f"compiled forward {name:>18}: {seconds:.4f} s", flush=True)
        if FLASH_ATTENTION_4 in outputs:
            diff = (outputs[SDPA].float() - outputs[FLASH_ATTENTION_4].float()).abs()
            results["forward_fa4_max_abs_diff"] = round(diff.max().item(), 5)
            results["forward_fa4_mean_abs_diff"] = round(diff.mean().item(), 6)
            results["forward_fa4_speedup"] = round(results[f"forward_{SDPA}_s"] / results[f"forward_{FLASH_ATTENTION_4}_s"], 3)
            print(f"FA4 forward speed-up {results['forward_fa4_speedup']}x, max |diff| {results['forward_fa4_max_abs_diff']}",
                  flush=True)

    emit(results, args.json)


if __name__ == "__main__":
    main()
