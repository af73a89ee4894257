"""Where one clip's QA spends its seconds, part by part, on this machine's CPU (and GPU, if any).

A distilled batch generates a 1280x704x121 clip in about 10 s on an H100; with two clips in
flight the GPU stays busy only if the other clip's CPU side (deflicker, QA, encode) is shorter.
This times `qa.judge.judge_frames` on such a clip, real footage scaled to the batch's size, with
the models the batch benchmark uses (random-weight YOLO and CLIP, which cost what trained ones
do, and the real PP-OCRv4 reader), and splits the text part into reading whole frames and
reading corners. Each OCR thread count given runs the same clip.

    .venv/bin/python tests/benchmarks/bench_qa_parts.py --ocr-threads 2 --repeats 3 \
        --json tests/benchmarks/results/qa_parts_cpu.json

Not part of the test suite (it prints numbers; nothing is asserted).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOOTAGE = ROOT.parent / "shared" / "data" / "video" / "sam2_01_dog.mp4"
PROMPT = "A woman walks her dog along a garden path"
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from tests.benchmarks.results_json import emit  # noqa: E402


def batch_sized_clip(path: Path, width: int, height: int, frames: int):
    """`frames` frames of `path` at width x height, the footage looped if it is shorter."""
    import cv2
    import numpy as np

    from clipmill.media import read_video

    video, _ = read_video(path, max_frames=frames)
    video = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in video])
    return np.concatenate([video] * (frames // len(video) + 1))[:frames]


def time_parts(frames, threads: int, repeats: int, device: str) -> dict:
    from clipmill.models.clip import load_clip_scorer
    from clipmill.models.detector import load_detector
    from clipmill.models.ocr import load_text_reader
    from clipmill.planning import plan_shot
    from clipmill.qa.judge import judge_frames
    from clipmill.qa.settings import QASettings
    from clipmill.qa.text_in_frame import text_frame_indices

    qa = QASettings()
    plan = plan_shot(PROMPT)
    detector, scorer = load_detector("random", device=device), load_clip_scorer("ViT-B-32", "random", device=device)
    reader = load_text_reader(threads=threads)
    judge_frames(frames, qa=qa, expectations=plan.expectations, text=PROMPT, detector=detector, scorer=scorer,
                 text_reader=reader)  # warm-up: first calls allocate and compile
    parts: dict[str, list[float]] = {}
    read_at = text_frame_indices(len(frames), qa.text_samples)
    for _ in range(repeats):
        judgement = judge_frames(frames, qa=qa, expectations=plan.expectations, text=PROMPT, detector=detector,
                                 scorer=scorer, text_reader=reader)
        for part, seconds in judgement.seconds.items():
            parts.setdefault(part, []).append(seconds)
        started = time.perf_counter()
        reader.read(frames, read_at)
        parts.setdefault("text: whole frames", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        reader.read_corners(frames, read_at)
        parts.setdefault("text: corners", []).append(time.perf_counter() - started)
    median = {part: round(statistics.median(values), 3) for part, values in parts.items()}
    median["total"] = round(sum(v for k, v in median.items() if not k.startswith("text: ")), 3)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ocr-threads", default="2", help="comma-separated onnxruntime thread counts [2]")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--qa-device", default="cpu", help="comma-separated devices of the detector and CLIP [cpu]")
    parser.add_argument("--size", default="1280x704x121", help="WIDTHxHEIGHTxFRAMES of the clip")
    parser.add_argument("--footage", type=Path, default=FOOTAGE, help=f"the video to scale [{FOOTAGE.name}]")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    width, height, frames = (int(v) for v in args.size.split("x"))
    clip = batch_sized_clip(args.footage, width, height, frames)
    import torch

    results: dict = {"cpus": os.cpu_count(), "load_average": os.getloadavg()[0], "python": platform.python_version(),
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                     "clip": f"{args.footage.name} at {width}x{height}x{frames}", "prompt": PROMPT,
                     "repeats": args.repeats, "qa_device": args.qa_device, "seconds_by_ocr_threads": {}}
    for device in args.qa_device.split(","):
        for threads in (int(t) for t in args.ocr_threads.split(",")):
            median = time_parts(clip, threads, args.repeats, device)
            results["seconds_by_ocr_threads"][f"{threads} ({device})" if "," in args.qa_device else str(threads)] = median
            print(f"detector and CLIP on {device}, OCR threads {threads}: "
                  + ", ".join(f"{part} {s:.2f} s" for part, s in median.items()), flush=True)
    if args.json:
        emit(results, args.json)


if __name__ == "__main__":
    main()
