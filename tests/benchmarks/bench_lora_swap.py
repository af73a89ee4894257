"""LoRA swap cost: what a job whose LoRA set differs from the previous job's pays before its
first denoising step, through clipmill's own path (models.lora.FusedLoras, as the generator
calls it), on TI2V-5B-sized transformer blocks (random weights, bfloat16).

Builds `--layers` blocks of the released TI2V-5B transformer (30 blocks, 3072 wide, ffn 14336)
and two rank-64 LoRAs over every attention and feed-forward layer, as lightx2v's Lightning LoRAs
are, saved in their key layout (`diffusion_model.*.lora_down/up` + alpha). Times: the first
fuse (it also copies the original weights to host memory), the same set again (nothing to do),
a swap to the other set, and back to no LoRA; each phase of the swap is reported
(FusedLoras.last_phases: restore, read, check, keep_originals, fuse). As the generator does, a
set's files are read and converted first (`prepare`, on the clip's thread, off the device) and
the swap itself (`use`) is what holds the device. Everything but a fixed part grows with the
blocks, so the whole transformer's cost is given as measured per block x 30.

    .venv/bin/python -m tests.benchmarks.bench_lora_swap --layers 4 --json tests/benchmarks/results/lora_swap_cpu.json
    python -m tests.benchmarks.bench_lora_swap --device cuda --layers 30      # the whole transformer on a GPU

Not part of the test suite. On 2 CPU cores 4 blocks take about a minute and 4 GB of memory.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from diffusers import WanPipeline, WanTransformer3DModel  # noqa: E402

from clipmill.models.lora import FusedLoras  # noqa: E402
from clipmill.models.lora_files import lora_weights  # noqa: E402
from clipmill.models.tiny_wan import build_tiny_components  # noqa: E402
from tests.benchmarks.bench_wan_gpu import TRANSFORMER_5B  # noqa: E402
from tests.benchmarks.results_json import emit  # noqa: E402
from tests.models.lora_files import random_lora, save_lora  # noqa: E402

FULL_LAYERS = TRANSFORMER_5B["num_layers"]


def build_pipeline(layers: int, device: torch.device) -> WanPipeline:
    """The tiny pipeline's text encoder and VAE around TI2V-5B-sized transformer blocks."""
    components = build_tiny_components()
    with torch.device(device):
        transformer = WanTransformer3DModel(**{**TRANSFORMER_5B, "num_layers": layers}).to(torch.bfloat16).eval()
    components["transformer"] = transformer
    components["transformer_2"] = None
    return WanPipeline(**components)


def timed(run) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    run()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=4, help="transformer blocks to build (TI2V-5B has 30)")
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--swaps", type=int, default=3, help="swaps A -> B -> A ... to time")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)

    pipeline = build_pipeline(args.layers, device)
    transformer = pipeline.transformer
    folder = Path(tempfile.mkdtemp(prefix="clipmill-lora-bench-"))
    paths = [save_lora(random_lora(transformer, rank=args.rank, seed=seed, alpha=float(args.rank)),
                       folder / f"lora-{seed}.safetensors", "lightx2v") for seed in (1, 2)]
    first, second = (lora_weights(path, 1.0) for path in paths)
    lora_bytes = paths[0].stat().st_size

    fused = FusedLoras()
    results: dict = {"what": "LoRA swap through models.lora.FusedLoras, TI2V-5B-sized blocks, bf16, random weights",
                     "device": str(device), "layers": args.layers, "rank": args.rank,
                     "lora_mib": round(lora_bytes / 2**20, 1), "machine": platform.machine(),
                     "cpus": os.cpu_count(), "torch": torch.__version__}
    results["first_fuse_s"] = round(timed(lambda: fused.use(pipeline, [first], "bench")), 3)
    results["first_fuse_phases"] = {k: round(v, 3) for k, v in fused.last_phases.items()}
    results["same_set_s"] = round(timed(lambda: fused.use(pipeline, [first], "bench")), 6)
    fused.KEEP_READ = 1  # every swap reads its files again (in prepare), as a set no longer kept read does
    swaps, phases, prepares = [], [], []
    for index in range(args.swaps):
        target = second if index % 2 == 0 else first
        prepares.append(timed(lambda: fused.prepare([target])))
        swaps.append(timed(lambda: fused.use(pipeline, [target], "bench")))
        phases.append(dict(fused.last_phases))
    results["prepare_off_device_median_s"] = round(statistics.median(prepares), 3)
    results["swap_s"] = [round(s, 3) for s in swaps]
    results["swap_median_s"] = round(statistics.median(swaps), 3)
    results["swap_phases_median"] = {key: round(statistics.median(p[key] for p in phases), 3) for key in phases[0]}
    results["to_no_lora_s"] = round(timed(lambda: fused.use(pipeline, [], "bench")), 3)
    per_block = results["swap_median_s"] / args.layers
    results["swap_per_block_s"] = round(per_block, 4)
    results[f"swap_{FULL_LAYERS}_blocks_estimate_s"] = round(per_block * FULL_LAYERS, 2)
    results["lora_mib_30_blocks_estimate"] = round(lora_bytes / 2**20 / args.layers * FULL_LAYERS, 1)
    emit(results, args.json)


if __name__ == "__main__":
    sys.exit(main())
