"""GPU benchmark: which attention kernel serves Wan2.2 TI2V-5B at 720p best.

Self-attention is about half the FLOPs of a TI2V-5B forward at 1280x704x121 (27,280 tokens).
This times PyTorch's scaled-dot-product-attention backends at exactly that shape, then one
whole transformer forward (real-size architecture, random weights, blocks compiled as
clipmill compiles them) with diffusers' native attention and with cuDNN attention.

    python tests/benchmarks/bench_attention.py --json tests/benchmarks/results/attention_h200.json

Not part of the test suite: it needs a CUDA GPU with ~30 GB free.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=31 * 22 * 40, help="self-attention length [720p, 121 frames]")
    parser.add_argument("--forward", action=argparse.BooleanOptionalAction, default=True,
                        help="also time a whole compiled transformer forward per backend")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("a CUDA GPU is needed")

    heads, head_dim = TRANSFORMER_5B["num_attention_heads"], TRANSFORMER_5B["attention_head_dim"]
    results: dict = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
                     "cudnn": torch.backends.cudnn.version(), "tokens": args.tokens, "heads": heads,
                     "head_dim": head_dim}
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, heads, args.tokens, head_dim, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    flop = 4 * args.tokens**2 * head_dim * heads
    reference = None
    for name, backend in BACKENDS.items():
        try:
            with contextlib.nullcontext() if backend is None else sdpa_kernel([backend]):
                seconds = gpu_seconds(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v), 10)
                out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        except RuntimeError as error:  # a backend this build or GPU does not offer
            results[f"sdpa_{name}_error"] = str(error).splitlines()[0]
            print(f"sdpa {name}: unavailable ({results[f'sdpa_{name}_error']})", flush=True)
            continue
        reference = out if reference is None else reference
        results[f"sdpa_{name}_ms"] = round(seconds * 1000, 2)
        results[f"sdpa_{name}_tflops"] = round(flop / seconds / 1e12, 1)
        results[f"sdpa_{name}_max_abs_diff_vs_default"] = round((out.float() - reference.float()).abs().max().item(), 5)
        print(f"sdpa {name:>9}: {seconds * 1000:7.2f} ms  {flop / seconds / 1e12:6.1f} TFLOP/s  "
              f"max |diff| vs default {results[f'sdpa_{name}_max_abs_diff_vs_default']}", flush=True)
    del q, k, v, out, reference

    if args.forward:
        from diffusers import WanTransformer3DModel

        with torch.device("cuda"):
            transformer = _bf16_like_from_pretrained(WanTransformer3DModel(**TRANSFORMER_5B))
        latents = torch.randn(1, 48, 31, 44, 80, device="cuda", dtype=torch.bfloat16)
        text = torch.randn(1, 512, 4096, device="cuda", dtype=torch.bfloat16)
        timestep = torch.full((1,), 500.0, device="cuda")
        outputs = {}
        for name in ("native", "_native_cudnn"):
            torch._dynamo.reset()
            transformer.set_attention_backend(name)
            transformer.compile_repeated_blocks(fullgraph=True, dynamic=False)

            def forward() -> None:
                with torch.inference_mode():
                    outputs[name] = transformer(latents, timestep, text, return_dict=False)[0]

            seconds = gpu_seconds(forward, 4)
            results[f"forward_{name.strip('_')}_s"] = round(seconds, 4)
            print(f"forward {name:>14}: {seconds:.4f} s", flush=True)
        diff = (outputs["native"].float() - outputs["_native_cudnn"].float()).abs()
        results["forward_cudnn_max_abs_diff"] = round(diff.max().item(), 5)
        results["forward_cudnn_mean_abs_diff"] = round(diff.mean().item(), 6)
        results["forward_speedup_cudnn"] = round(results["forward_native_s"] / results["forward_native_cudnn_s"], 3)
        print(f"cuDNN forward speed-up {results['forward_speedup_cudnn']}x, "
              f"output max |diff| {results['forward_cudnn_max_abs_diff']}", flush=True)

    emit(results, args.json)


if __name__ == "__main__":
    main()
