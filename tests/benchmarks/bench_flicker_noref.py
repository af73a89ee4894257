"""No-reference flicker before and after `qa.deflicker`, on real footage as it is, and its speed.

    .venv/bin/python tests/benchmarks/bench_flicker_noref.py [--frames N] [--json OUT]

No clean version exists of footage that really flickers, so nothing here is compared
with a reference: each clip of ../shared/data/video (120 frames from its start, at
832x480) is deflickered and measured with the QA stage's own flicker metric
(`qa.temporal.flicker_score`, luma levels) and VBench's temporal flickering score, next
to how much the deflicker changed (PSNR of output against input, frames left exact).
Footage that does not flicker should come out unchanged; footage whose camera pumps its
exposure should come out steadier. Also the speed at 832x480 (81 frames, start-up
excluded: the first call is made before timing), as wall time and CPU time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from clipmill.qa.deflicker import deflicker  # noqa: E402
from clipmill.qa.temporal import flicker_score  # noqa: E402
from tests.benchmarks.bench_quality import DATA, load_window  # noqa: E402
from tests.benchmarks.flicker_models import FLICKER_MODELS  # noqa: E402
from tests.benchmarks.quality_measures import psnr, vbench_flicker  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "deflicker_noref_speed.json"


def measure_clip(frames: np.ndarray) -> dict:
    out = deflicker(frames)
    value = psnr(out, frames)
    return {
        "flicker_levels": {"before": flicker_score(frames), "after": flicker_score(out)},
        "vbench_flicker": {"before": vbench_flicker(frames), "after": vbench_flicker(out)},
        "output_vs_input_psnr": value if np.isfinite(value) else "identical",
        "identical_frames": int(sum(np.array_equal(a, b) for a, b in zip(out, frames))),
        "frames": len(frames),
    }


def measure_speed(frames: np.ndarray, repeats: int = 3) -> dict:
    deflicker(frames[:8])  # start-up: imports, OpenCV's first calls, thread pool
    load_before = os.getloadavg()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        deflicker(frames)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"frames": len(frames), "size": f"{frames.shape[2]}x{frames.shape[1]}",
            "fps_wall_best": len(frames) / min(walls), "fps_wall_median": len(frames) / float(np.median(walls)),
            "cpu_ms_per_frame_best": 1000 * min(cpus) / len(frames),
            "cpu_count": os.cpu_count(), "opencv_threads": cv2.getNumThreads(),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report = {"command": "tests/benchmarks/bench_flicker_noref.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "real_footage": {}}
    paths = sorted(DATA.glob("*.mp4")) if DATA.is_dir() else []
    for path in paths:
        clip = load_window(path, 0, args.frames, (832, 480))
        report["real_footage"][path.stem] = r = measure_clip(clip)
        print(f"{path.stem:<40} flicker {r['flicker_levels']['before']:.3f} -> {r['flicker_levels']['after']:.3f} levels, "
              f"output vs input {r['output_vs_input_psnr']} dB, {r['identical_frames']}/{r['frames']} frames exact", flush=True)
    if paths:
        source = load_window(paths[0], 0, 81, (832, 480))
    else:
        rng = np.random.default_rng(0)
        canvas = cv2.GaussianBlur(rng.integers(0, 256, (480, 832 + 2 * 81, 3), dtype=np.uint8), (0, 0), 2)
        source = np.stack([canvas[:, 2 * t:2 * t + 832] for t in range(81)])
    report["speed"] = {"clean": measure_speed(source), "flickering": measure_speed(FLICKER_MODELS["decode"](source, 2.0, 7))}
    for label, s in report["speed"].items():
        print(f"speed ({label}) {s['fps_wall_best']:.1f} frames/s at {s['size']} (best of 3; median "
              f"{s['fps_wall_median']:.1f}), {s['cpu_ms_per_frame_best']:.1f} ms CPU a frame, "
              f"load average {s['loadavg_before'][0]:.2f} before", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
