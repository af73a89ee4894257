"""GPU benchmark: the stages outside Wan's denoising loop, TI2V-5B at its real size (random weights).

Decodes the same latents of a 1280x704x121 clip with the Wan2.2 VAE in float32 and in a
bfloat16 copy (clipmill's `LatentDecoder`, as `GenerationRequest.decode_dtype` picks it):
seconds of each and the PSNR between the two decodes' uint8 frames. Also times UMT5-XXL
encoding one prompt, and the same prompt again through clipmill's embedding cache.

    python tests/benchmarks/bench_vae_decode.py --json tests/benchmarks/results/vae_decode_h200.json

Random weights: the PSNR says how far bf16 rounding moves this network's output, not how a
trained VAE's frames look. Not part of the test suite: needs a CUDA GPU with ~40 GB free.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch


from tests.benchmarks.bench_wan_gpu import NEGATIVE, PROMPT, build_components  # noqa: E402
from tests.benchmarks.results_json import emit  # noqa: E402


def seconds(run, repeats: int = 2) -> float:
    best = math.inf
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.float() - b.float()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)


def main() -> None:
    from diffusers import WanPipeline

    from clipmill.models.wan_stages import LatentDecoder, PromptEmbeddings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=121)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=704)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("a CUDA GPU is needed")
    if args.smoke:
        args.frames, args.width, args.height = 9, 320, 192
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True  # as VideoGenerator sets it
    pipe = WanPipeline(**build_components("ti2v-5b", device, args.smoke))
    pipe.set_progress_bar_config(disable=True)
    z = pipe.vae.config.z_dim
    shape = (1, z, (args.frames - 1) // 4 + 1, args.height // 16, args.width // 16)
    latents = torch.randn(shape, device=device, generator=torch.Generator(device).manual_seed(0))
    results: dict = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "model": "wan2.2-ti2v-5b",
                     "width": args.width, "height": args.height, "frames": args.frames, "random_weights": True}

    decoder = LatentDecoder()
    frames = {}
    for dtype in ("float32", "bfloat16"):
        decoder.decode(pipe, latents, dtype, resident=True)  # cuDNN picks its algorithms once per shape
        torch.cuda.reset_peak_memory_stats()
        results[f"decode_{dtype}_s"] = round(seconds(lambda: frames.update({dtype: decoder.decode(
            pipe, latents, dtype, resident=True)[0]})), 2)
        results[f"decode_{dtype}_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    results["decode_bf16_psnr_db_vs_fp32"] = round(psnr(frames["float32"], frames["bfloat16"]), 2)
    diff = (frames["float32"].int() - frames["bfloat16"].int()).abs()
    results["decode_bf16_max_abs_diff_uint8"] = int(diff.max().item())
    results["decode_bf16_mean_abs_diff_uint8"] = round(diff.float().mean().item(), 3)
    results["decode_bf16_speedup"] = round(results["decode_float32_s"] / results["decode_bfloat16_s"], 3)

    cache = PromptEmbeddings()
    cache.get(pipe, "warm up")
    results["encode_prompt_s"] = round(seconds(lambda: pipe._get_t5_prompt_embeds(
        prompt=PROMPT, max_sequence_length=512, device=device), 3), 4)
    cache.get(pipe, NEGATIVE)
    results["encode_prompt_cached_s"] = round(seconds(lambda: cache.get(pipe, NEGATIVE), 3), 6)
    print(f"decode fp32 {results['decode_float32_s']} s, bf16 {results['decode_bfloat16_s']} s, PSNR "
          f"{results['decode_bf16_psnr_db_vs_fp32']} dB; encode {results['encode_prompt_s']} s, cached "
          f"{results['encode_prompt_cached_s']} s", flush=True)
    emit(results, args.json)


if __name__ == "__main__":
    main()
