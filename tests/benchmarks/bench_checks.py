"""Checked frames per second of the detection path of QA, on the real footage.

The detection path is what `clipmill.judge.judge_frames` spends its time on: YOLO on every
`stride`-th frame, ByteTrack linking the boxes, then the interaction checks. Random weights
have the same compute as trained ones (same graph, same input size), so the numbers hold for
a real yolov8n.pt; only the tracker's share can differ, because random weights find different
(and more) boxes.

    .venv/bin/python tests/benchmarks/bench_checks.py                  # 640 px, stride 1
    .venv/bin/python tests/benchmarks/bench_checks.py --label baseline # store under another key

Prints one line per clip and merges the run into tests/benchmarks/results/checks.json under
`--label`, with the machine's load average, because the CPU may be shared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

VIDEO_DIR = ROOT.parent / "shared" / "data" / "video"
RESULTS = Path(__file__).resolve().parent / "results" / "checks.json"

# A person and a dog approaching each other: the expectation of the sam2 clip, used for all
# clips so every run exercises presence, count, vanish and interaction code.
EXPECTATIONS = {"classes": {"person": 1, "dog": 1}, "interaction": "approach", "subjects": ["person", "dog"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="frames read from the start of each clip")
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--weights", default="random", help="'random' or a local yolov8n.pt")
    parser.add_argument("--no-track", action="store_true", help="detection only, no ByteTrack")
    parser.add_argument("--label", default="current", help="key under which the run is stored in the JSON")
    args = parser.parse_args()

    import torch

    from clipmill.media import read_video
    from clipmill.models.detector import load_detector
    from clipmill.qa.interaction import interaction_checks
    from clipmill.qa.types import Expectations

    clips = sorted(VIDEO_DIR.glob("*.mp4"))
    if not clips:
        print(f"no footage in {VIDEO_DIR}; nothing to measure", file=sys.stderr)
        return 1
    detector = load_detector(args.weights)
    expectations = Expectations.from_dict(EXPECTATIONS)
    warm, _ = read_video(clips[0], max_frames=4)
    detector.detect(warm, stride=1, imgsz=args.imgsz, track=not args.no_track)  # first call builds the predictor

    load_before = os.getloadavg()
    rows = []
    for clip in clips:
        frames, _ = read_video(clip, max_frames=args.frames)
        started, cpu_started = time.perf_counter(), time.process_time()
        examined, detections = detector.detect(frames, stride=args.stride, imgsz=args.imgsz,
                                               track=not args.no_track)
        interaction_checks(detections, examined, expectations)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        row = {"clip": clip.name, "size": f"{frames.shape[2]}x{frames.shape[1]}", "checked_frames": len(examined),
               "seconds": round(seconds, 3), "checked_fps": round(len(examined) / seconds, 2),
               "detections": len(detections),
               # CPU time is what the work costs; wall time is what it costs on a machine shared
               # with others. With one torch thread their ratio is the share of a core we got.
               "cpu_seconds": round(cpu_seconds, 3), "checked_per_cpu_second": round(len(examined) / cpu_seconds, 2)}
        rows.append(row)
        print(f"{clip.name:<42} {row['size']:>9}  {row['checked_frames']:>4} frames  "
              f"{row['checked_fps']:6.2f} checked frames/s  "
              f"({row['checked_per_cpu_second']:.2f} per CPU second, {row['detections']} detections)")
    load_after = os.getloadavg()

    run = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "weights": detector.source, "imgsz": args.imgsz, "stride": args.stride, "track": not args.no_track,
        "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in load_after],
        "clips": rows,
        "min_checked_fps": min(r["checked_fps"] for r in rows),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    print(f"load average before {run['load_average_before']}, after {run['load_average_after']}; "
          f"torch threads {run['torch_threads']} of {run['cpus']} CPUs")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    stored = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    stored[args.label] = run
    RESULTS.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
