"""GPU scaling of the worker-per-GPU layout: 1, 2, 4 ... GPUs, one process each.

Each process does what a clipmill GPU worker does: it pins one GPU (CUDA_VISIBLE_DEVICES),
builds the real-size TI2V-5B architecture (random weights) once, warms it up (compilation),
then generates its clips through `models.wan.VideoGenerator`. All workers start their clips at
the same moment; the batch's wall time runs from then until the last clip is done.

    python tests/benchmarks/bench_gpu_scaling.py --gpus 1,2,4 --json tests/benchmarks/results/gpu_scaling_h200.json

Reports throughput (clips/s), scaling efficiency = throughput(N) / (N x throughput(1)) and the
GPU busy fraction (generation time / wall time, over all GPUs). Prefect's own overhead is
measured separately on CPU (tests/flows/test_workers.py); the device machine has no Prefect.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
if str(HERE.parents[2]) not in sys.path:  # run as a file: the repository root, last, for `tests.benchmarks`
    sys.path.append(str(HERE.parents[2]))

from tests.benchmarks.results_json import emit  # noqa: E402


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE.parent))
    import torch
    from bench_wan_gpu import NEGATIVE, PROMPT, build_components
    from diffusers import WanPipeline

    from clipmill.models.wan import MODEL_SPECS, GenerationRequest, VideoGenerator

    device = torch.device("cuda")
    spec = MODEL_SPECS["wan2.2-ti2v-5b"]
    generator = VideoGenerator(spec, "real-size random weights", WanPipeline(**build_components("ti2v-5b", device, False)),
                               random_weights=True, device=device)

    def request(steps: int, seed: int) -> GenerationRequest:
        return GenerationRequest(prompt=PROMPT, negative_prompt=NEGATIVE, width=args.width, height=args.height,
                                 num_frames=args.frames, steps=steps, guidance=spec.default_guidance, seed=seed)

    generator.generate(request(2, 0))  # compile and load kernels: once per worker, before the batch
    torch.cuda.synchronize()
    Path(args.ready).touch()
    while not Path(args.start).exists():
        time.sleep(0.01)
    clips = []
    for k in range(args.clips):
        started = time.time()
        generator.generate(request(args.steps, k))
        torch.cuda.synchronize()
        clips.append([started, time.time()])
    Path(args.out).write_text(json.dumps({"clips": clips}))


def run_batch(gpus: int, args: argparse.Namespace, scratch: Path) -> dict:
    for stale in scratch.glob("*"):
        stale.unlink()
    procs = []
    for index in range(gpus):
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": str(index)}
        procs.append(subprocess.Popen(
            [sys.executable, str(HERE), "--worker", "--ready", str(scratch / f"ready-{index}"),
             "--start", str(scratch / "start"), "--out", str(scratch / f"out-{index}.json"),
             "--clips", str(args.clips), "--steps", str(args.steps), "--frames", str(args.frames),
             "--width", str(args.width), "--height", str(args.height)], env=env))
    while not all((scratch / f"ready-{i}").exists() for i in range(gpus)):
        if any(p.poll() not in (None, 0) for p in procs):
            raise SystemExit("a worker failed while warming up")
        time.sleep(0.2)
    start = time.time()
    (scratch / "start").touch()
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("a worker failed")
    clips = [c for i in range(gpus) for c in json.loads((scratch / f"out-{i}.json").read_text())["clips"]]
    wall = max(end for _, end in clips) - start
    busy = sum(end - begin for begin, end in clips) / (gpus * wall)
    result = {"gpus": gpus, "clips": len(clips), "wall_s": round(wall, 2),
              "clips_per_s": round(len(clips) / wall, 5), "gpu_busy_fraction": round(busy, 4),
              "s_per_clip": round(sum(e - b for b, e in clips) / len(clips), 2)}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpus", default="1,2,4")
    parser.add_argument("--clips", type=int, default=2, help="clips per GPU")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--frames", type=int, default=121)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=704)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ready", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    import torch

    scratch = Path("/tmp/clipmill-scaling")
    scratch.mkdir(exist_ok=True)
    runs = {}
    for gpus in (int(g) for g in args.gpus.split(",")):
        if gpus > torch.cuda.device_count():
            print(f"skipping {gpus} GPUs: only {torch.cuda.device_count()} visible", flush=True)
            continue
        runs[gpus] = run_batch(gpus, args, scratch)
    base = runs[1]["clips_per_s"] if 1 in runs else None
    results = {
        "gpu": torch.cuda.get_device_name(0), "model": "wan2.2-ti2v-5b", "width": args.width, "height": args.height,
        "frames": args.frames, "steps": args.steps, "clips_per_gpu": args.clips, "layout": "one process per GPU",
        "torch": torch.__version__, "runs": {str(k): v for k, v in runs.items()},
        "gpu_busy_fraction": min(r["gpu_busy_fraction"] for r in runs.values()),
    }
    for gpus, run in runs.items():
        if base and gpus > 1:
            results[f"scaling_efficiency_{gpus}gpu"] = round(run["clips_per_s"] / (gpus * base), 4)
    emit(results, args.json)


if __name__ == "__main__":
    main()
