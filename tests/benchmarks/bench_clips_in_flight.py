"""One worker, one device: batch wall time and device-busy fraction with 1 and 2 clips in flight.

With two clips in flight (flows/batch.py), one clip's CPU stages (stitch, deflicker, QA,
encode, publish) run while the next clip holds the device to generate. This runs the same
batch of tiny-backend jobs both ways, each in a fresh database, under a temporary Prefect
server, and reports wall time, clips per minute and how much of the wall time some clip held
the generation device (the sum of the `generate` stage over all attempts, read back from the
database).

    .venv/bin/python tests/benchmarks/bench_clips_in_flight.py --json tests/benchmarks/results/clips_in_flight_cpu.json

On a CPU-only machine the "device" is the CPU too, so the two clips also compete for the same
cores: the gain here is a lower bound of what a GPU worker gets, where generation leaves the
CPU free.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

from tests.benchmarks.results_json import emit  # noqa: E402


# QA thresholds every random-weight clip passes: each QA stage still runs in full, every clip is
# accepted on its first attempt, and each setting of a benchmark does the same work.
OPEN_QA = {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255, "min_motion": 0.0,
           "max_frozen_fraction": 1.0, "max_black_fraction": 1.0, "max_seam_ratio": 1000.0}


def write_spec(folder: Path, jobs: int, steps: int, size: int, frames: int) -> Path:
    """Identical text-to-video jobs (seeds differ) that pass QA first time: equal work per clip."""
    spec = {
        "name": "clips-in-flight",
        "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": size, "height": size, "frames": frames, "fps": 8, "steps": steps,
                     "max_attempts": 1, "qa": OPEN_QA},
        "jobs": [{"id": f"clip-{n}", "prompt": "A brown dog runs toward a boy in a park", "seed": n}
                 for n in range(jobs)],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def run_once(spec: Path, run_root: Path, clips_in_flight: int) -> dict:
    from clipmill.flows.batch import batch_flow
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.reports import batch_report

    started = time.perf_counter()
    result = batch_flow(str(spec), str(run_root), clips_in_flight=clips_in_flight)
    wall = time.perf_counter() - started
    with session_scope(init_db(result["database"])) as session:
        report = batch_report(session, "clips-in-flight")
    attempts = [a for job in report["jobs"] for a in job["attempts"]]
    generate = sum((a.get("timings") or {}).get("generate", 0.0) for a in attempts)
    accepted = sum(1 for job in report["jobs"] if job["status"] == "accepted")
    return {"clips_in_flight": clips_in_flight, "wall_s": round(wall, 2), "accepted": accepted,
            "clips_per_min": round(60 * accepted / wall, 2), "device_busy_s": round(generate, 2),
            "device_busy_fraction": round(generate / wall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--size", type=int, default=128, help="width and height of the clips")
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each setting, alternating; the median is kept")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    results: dict = {"machine": platform.machine(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
                     "jobs": args.jobs, "steps": args.steps, "size": args.size, "frames": args.frames,
                     "load_average_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness():
        folder = Path(tmp)
        # A worker loads its models once; a one-clip batch does that before anything is timed.
        run_once(write_spec(folder / "warm-up", 1, args.steps, args.size, args.frames), folder / "warm-up", 1)
        spec = write_spec(folder, args.jobs, args.steps, args.size, args.frames)
        measured: dict[int, list[dict]] = {1: [], 2: []}
        for repeat in range(args.repeats):
            for n in (1, 2):
                measured[n].append(run_once(spec, folder / f"runs-{n}-{repeat}", n))
        # The run with the median wall time of each setting: a shared CPU makes single runs noisy.
        runs = [sorted(measured[n], key=lambda run: run["wall_s"])[len(measured[n]) // 2] for n in (1, 2)]
    for run in runs:
        print(f"{run['clips_in_flight']} in flight: {run['wall_s']:7.2f} s wall  {run['clips_per_min']:6.2f} clips/min  "
              f"device busy {run['device_busy_fraction']:.3f}  ({run['accepted']}/{args.jobs} accepted)", flush=True)
    results["runs"] = runs
    results["all_walls_s"] = {n: [run["wall_s"] for run in measured[n]] for n in (1, 2)}
    results["speedup_2_in_flight"] = round(runs[0]["wall_s"] / runs[1]["wall_s"], 3)
    results["load_average_after"] = os.getloadavg()[0]
    emit(results, args.json)


if __name__ == "__main__":
    main()
