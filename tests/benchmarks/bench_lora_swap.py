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

With `--precision fp8` the blocks are quantised first as a generator in FP8 loads them
(models.precision.apply_fp8_blocks, its check included), and every swap goes through the FP8
path: the bf16 weights back from the host copy (`dequantise`), the set fused into them, and the
layers quantised again with the check against the fused bf16 model (`quantise`). On the CPU
torchao's hardware guard is opened for it, as the tests do (its float8 path runs there, slowly:
the GPU figure is the one that counts; the JSON says which).

    .venv/bin/python tests/benchmarks/bench_lora_swap.py --layers 4 --json tests/benchmarks/results/lora_swap_cpu.json
    .venv/bin/python tests/benchmarks/bench_lora_swap.py --layers 2 --precision fp8 \
        --json tests/benchmarks/results/lora_swap_fp8_cpu.json
    python3 tests/benchmarks/bench_lora_swap.py --device cuda --layers 30 [--precision fp8]   # the whole transformer on a GPU

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

import clipmill.models  # noqa: F401,E402  first: it quiets diffusers' torchao notice (models/__init__.py)
from diffusers import WanPipeline, WanTransformer3DModel  # noqa: E402

from clipmill.models import precision  # noqa: E402
from clipmill.models.lora import FusedLoras  # noqa: E402
from clipmill.models.lora_files import lora_weights  # noqa: E402
from clipmill.models.tiny_wan import build_tiny_components  # noqa: E402

# Run as a file (`python tests/benchmarks/bench_lora_swap.py`, as on the GPU machine, where `-m`
# would put the repository's root first and its clipmill/ folder would hide the installed
# clipmill.models): the root goes last, for `tests.` alone.
if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.bench_wan_gpu import TRANSFORMER_5B, scale_to_weights  # noqa: E402
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


def quantise_blocks(transformer: torch.nn.Module, device: torch.device) -> tuple[precision.Fp8Blocks, float]:
    """The blocks in FP8 as a generator loads them (check included), and the seconds it took."""
    if device.type == "cpu":  # torchao's float8 path runs on the CPU; only its hardware guard says no
        from torchao.quantization import quant_api

        quant_api._check_hardware_support = lambda granularities: None
        quant_api.is_sm_at_least_89 = lambda: True
    planned = precision.PrecisionChoice(precision.FP8, precision.FP8, "bench_lora_swap")
    started = time.perf_counter()
    choice, blocks = precision.apply_fp8_blocks(planned, {"transformer": transformer}, device, profile="resident",
                                                timesteps=[999.0])
    if blocks is None:
        sys.exit(f"FP8 not applied: {choice.reason}")
    return blocks, time.perf_counter() - started


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
    parser.add_argument("--precision", choices=["bf16", "fp8"], default="bf16",
                        help="fp8: the blocks in FP8 (models.precision), each swap through their bf16 weights")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)

    pipeline = build_pipeline(args.layers, device)
    transformer = pipeline.transformer
    folder = Path(tempfile.mkdtemp(prefix="clipmill-lora-bench-"))
    # Each update a tenth of its layer's weight spread: unscaled, the random LoRA swamps the random
    # weights and the FP8 check refuses the fused model (bench_wan_gpu.scale_to_weights).
    paths = [save_lora(scale_to_weights(random_lora(transformer, rank=args.rank, seed=seed, alpha=float(args.rank)),
                                        transformer), folder / f"lora-{seed}.safetensors", "lightx2v")
             for seed in (1, 2)]
    first, second = (lora_weights(path, 1.0) for path in paths)
    lora_bytes = paths[0].stat().st_size

    fused = FusedLoras()
    results: dict = {"what": f"LoRA swap through models.lora.FusedLoras, TI2V-5B-sized blocks, {args.precision}, "
                             "random weights",
                     "device": str(device), "precision": args.precision, "layers": args.layers, "rank": args.rank,
                     "lora_mib": round(lora_bytes / 2**20, 1), "machine": platform.machine(),
                     "cpus": os.cpu_count(), "torch": torch.__version__,
                     "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
                     # other work on the machine slows the CPU figures: the load it had, at the start
                     "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    fp8 = None
    if args.precision == "fp8":
        fp8, seconds = quantise_blocks(transformer, device)
        results.update({"fp8_load_s": round(seconds, 3), "fp8_layers": fp8.layers,
                        "fp8_host_copy_gib": round(fp8.host_bytes() / 2**30, 2),
                        "fp8_load_check_relative_error": fp8.loaded.relative_error})
        if device.type == "cpu":
            results["fp8_on_cpu"] = "torchao's hardware guard opened: its float8 path on the CPU, not a GPU figure"
    use = lambda wanted: fused.use(pipeline, wanted, "bench", fp8=fp8)  # noqa: E731
    results["first_fuse_s"] = round(timed(lambda: use([first])), 3)
    results["first_fuse_phases"] = {k: round(v, 3) for k, v in fused.last_phases.items()}
    if fp8 is not None:
        results["fp8_check_relative_error_with_lora"] = fp8.choice.relative_error
    results["same_set_s"] = round(timed(lambda: use([first])), 6)
    fused.KEEP_READ = 1  # every swap reads its files again (in prepare), as a set no longer kept read does
    swaps, phases, prepares = [], [], []
    for index in range(args.swaps):
        target = second if index % 2 == 0 else first
        prepares.append(timed(lambda: fused.prepare([target])))
        swaps.append(timed(lambda: use([target])))
        phases.append(dict(fused.last_phases))
    results["prepare_off_device_median_s"] = round(statistics.median(prepares), 3)
    results["swap_s"] = [round(s, 3) for s in swaps]
    results["swap_median_s"] = round(statistics.median(swaps), 3)
    results["swap_phases_median"] = {key: round(statistics.median(p[key] for p in phases), 3) for key in phases[0]}
    results["to_no_lora_s"] = round(timed(lambda: use([])), 3)
    if fp8 is not None:  # back to the checkpoint's FP8 weights: the load's check, measured again
        results["fp8_check_relative_error_no_lora"] = fp8.choice.relative_error
    results["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    per_block = results["swap_median_s"] / args.layers
    results["swap_per_block_s"] = round(per_block, 4)
    results[f"swap_{FULL_LAYERS}_blocks_estimate_s"] = round(per_block * FULL_LAYERS, 2)
    results["lora_mib_30_blocks_estimate"] = round(lora_bytes / 2**20 / args.layers * FULL_LAYERS, 1)
    emit(results, args.json)


if __name__ == "__main__":
    sys.exit(main())
