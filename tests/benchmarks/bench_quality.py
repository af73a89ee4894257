"""Deflicker and stitching quality against ffmpeg and naive joins, on real footage.

    .venv/bin/python tests/benchmarks/bench_quality.py [--frames N] [--quick] [--json OUT]

Everything is measured in one run, from clean clips the project did not make
(../shared/data/video): damage of a known kind is added with a seeded generator,
repaired, and compared with the clean original. The damage is written down in
flicker_models.py (six kinds of flicker) and seam_drifts.py (seven kinds of drift at a
seam), the metrics in quality_measures.py, so the numbers can be reproduced and argued
with.

Held out: deflicker was developed on the first frames of the bottle and basketball
clips at flicker levels 1 and 3, stitching on the same two windows at drift sizes 1 and 3.
This benchmark reads other windows of every clip (`WINDOWS`, none overlapping the
development frames), flicker levels 2 and 4 and drift sizes 0.5, 2 and 4; the
development windows are not reported. A second set (`STRONGER_WINDOWS`: later windows,
81 frames, every kind at level 6) checks flicker stronger than anything tuned on.

Deflicker metrics, all against the clean clip or along its motion:
  PSNR / SSIM   fidelity to the clean clip (SSIM on luma, Wang et al. 2004, sigma 1.5)
  steady PSNR   PSNR once an oracle has removed the clip's constant level (one tone curve
                per channel for the whole clip, fitted to the clean clip, for every method
                alike): a correlated drift's mean over the clip cannot be known without
                the clean clip, and ffmpeg's per-clip best setting partly picks it
                (quality_measures.psnr_steady)
  warp error    Lai et al. 2018: frame t-1 warped onto t with the flow of the CLEAN
                clip, squared error over pixels its forward-backward check keeps,
                RGB in [0, 1], reported x1000 (lower is better)
  flicker       no-reference: qa.temporal.flicker_score, luma levels (what the QA stage
                checks), and VBench's temporal flickering score

ffmpeg's `deflicker` corrects plane 0 only, so it is given luma (as it would be for a
YUV clip) rather than planar RGB, where plane 0 is green; that is the fair use of it.
Every mode x size is run on every damaged clip, and the best by PSNR is reported.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from clipmill.media import ffmpeg_binary  # noqa: E402
from clipmill.qa.deflicker import deflicker  # noqa: E402
from clipmill.qa.stitch import seam_metrics, stitch_segments  # noqa: E402
from clipmill.qa.temporal import flicker_score  # noqa: E402
from tests.benchmarks.flicker_models import FLICKER_MODELS  # noqa: E402
from tests.benchmarks.quality_measures import CleanMotion, psnr, quality  # noqa: E402
from tests.benchmarks.seam_drifts import DRIFT_KINDS, apply_drift, describe, drift_parameters  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "video"
RESULTS = Path(__file__).resolve().parent / "results" / "quality.json"
# (clip, first frame): windows away from the development frames (0-48 of bottle and basketball).
WINDOWS = {
    "bottle": ("intel_bottle-detection.mp4", 600),
    "car": ("intel_car-detection.mp4", 120),
    "basketball": ("mmaction2_test_video_structuralize.mp4", 150),
    "dog": ("sam2_01_dog.mp4", 150),
}
# Stronger flicker on longer windows that nothing was tuned on: 81 frames (a Wan clip's length)
# at level 6, half again the strongest above (gain and gamma sd 30%, most bright frames clipping).
STRONGER_WINDOWS = {
    "bottle": ("intel_bottle-detection.mp4", 900),
    "car": ("intel_car-detection.mp4", 250),
    "basketball": ("mmaction2_test_video_structuralize.mp4", 200),
    "dog": ("sam2_01_dog.mp4", 200),
}
STRONGER_FRAMES, STRONGER_LEVEL = 81, 6.0
SIZES = {"832x480": (832, 480), "1280x720": (1280, 720)}
# 1280x720 costs 2.3 times as much: two windows at one level there keep the run under an hour on 2 cores.
WINDOWS_720P = ("car", "dog")
LEVELS = (2.0, 4.0)
DRIFT_SIZES = (0.5, 2.0, 4.0)
FFMPEG_MODES = ("am", "gm", "hm", "qm", "cm", "pm", "median")
FFMPEG_SIZES = (5, 9, 15, 29)


def ffmpeg_deflicker(frames: np.ndarray, mode: str, size: int) -> np.ndarray:
    """ffmpeg's filter on the luma plane, the chroma planes left as they were.

    That is what ffmpeg does to a YUV clip: it rescales plane 0 only. In YCbCr -> RGB
    luma adds equally to R, G and B, so ffmpeg's luma change is added back to the RGB
    frame here; pixels ffmpeg leaves alone stay exactly as they were.
    """
    n, h, w, _ = frames.shape
    luma_in = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    cmd = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray",
           "-s", f"{w}x{h}", "-i", "pipe:0", "-vf", f"deflicker=mode={mode}:size={size}",
           "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    proc = subprocess.run(cmd, input=luma_in.tobytes(), capture_output=True, check=True)
    luma_out = np.frombuffer(proc.stdout, np.uint8).reshape(n, h, w)
    out = np.empty_like(frames)
    for i in range(n):
        # Saturating uint8 arithmetic: the brightened and darkened pixels are disjoint.
        up = cv2.cvtColor(cv2.subtract(luma_out[i], luma_in[i]), cv2.COLOR_GRAY2RGB)
        down = cv2.cvtColor(cv2.subtract(luma_in[i], luma_out[i]), cv2.COLOR_GRAY2RGB)
        out[i] = cv2.subtract(cv2.add(frames[i], up), down)
    return out


def best_ffmpeg(flickering: np.ndarray, clean: np.ndarray, pool: ThreadPoolExecutor) -> tuple[str, np.ndarray]:
    """The best mode and size by PSNR against the clean clip: an oracle no user has.

    Every mode at size 15, then every size for the best mode. (On the first benchmark's
    full 7 x 3 grids the modes other than median stayed within 0.3 dB of each other at
    any size, so the mode and the size can be chosen one after the other.)
    """
    def score(setting):
        return psnr(ffmpeg_deflicker(flickering, *setting), clean), setting

    _, (mode, _) = max(pool.map(score, [(m, 15) for m in FFMPEG_MODES]))
    _, (mode, size) = max(pool.map(score, [(mode, s) for s in FFMPEG_SIZES]))
    return f"{mode}:{size}", ffmpeg_deflicker(flickering, mode, size)


def load_window(path: Path, start: int, frames: int, size: tuple[int, int]) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    while len(out) < frames:
        ok, bgr = capture.read()
        if not ok:
            break
        interpolation = cv2.INTER_AREA if bgr.shape[1] > size[0] else cv2.INTER_CUBIC
        out.append(cv2.cvtColor(cv2.resize(bgr, size, interpolation=interpolation), cv2.COLOR_BGR2RGB))
    capture.release()
    return np.stack(out)


def load_clips(windows: dict, frames: int, size: tuple[int, int], suffix: str) -> dict[str, np.ndarray]:
    """Each window of `windows` (name -> (file, first frame)) that exists, keyed name + suffix."""
    return {f"{name}{suffix}": load_window(DATA / file, start, frames, size)
            for name, (file, start) in windows.items() if (DATA / file).exists()}


def _seed(*parts) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def _row(frames: np.ndarray, clean: np.ndarray, motion: CleanMotion) -> dict:
    return {**quality(frames, clean, motion), "flicker_levels": flicker_score(frames)}


def bench_deflicker(clips: dict, levels, kinds, pool) -> dict:
    results = {}
    for key, clean in clips.items():
        motion = CleanMotion(clean)
        passthrough = deflicker(clean)
        rows = {}
        for kind in kinds:
            for level in levels:
                flickering = FLICKER_MODELS[kind](clean, level, _seed(key, kind, level) % 100000)
                setting, theirs = best_ffmpeg(flickering, clean, pool)
                rows[f"{kind}@{level:g}"] = {
                    "input": _row(flickering, clean, motion),
                    "clipmill": _row(deflicker(flickering), clean, motion),
                    "ffmpeg": {**_row(theirs, clean, motion), "setting": setting},
                }
                r = rows[f"{kind}@{level:g}"]
                print(f"{key:<24}{kind:<12}{level:>4g}  input {r['input']['psnr']:6.2f}  ffmpeg {r['ffmpeg']['psnr']:6.2f} "
                      f"({setting:<9}) clipmill {r['clipmill']['psnr']:6.2f}  margin "
                      f"{r['clipmill']['psnr'] - r['ffmpeg']['psnr']:+6.2f} dB (steady {r['clipmill']['psnr_steady'] - r['ffmpeg']['psnr_steady']:+6.2f})",
                      flush=True)
        margins = {kind: _mean_margin(rows, kind, levels, "psnr") for kind in kinds}
        steady = {kind: _mean_margin(rows, kind, levels, "psnr_steady") for kind in kinds}
        identical = int(sum(np.array_equal(a, b) for a, b in zip(passthrough, clean)))
        results[key] = {
            "size": f"{clean.shape[2]}x{clean.shape[1]}x{len(clean)}",
            "clean": {"passthrough_psnr": _finite(psnr(passthrough, clean)), "identical_frames": identical,
                      "frames": len(clean), "flicker_levels": flicker_score(clean),
                      "warp_error": motion.warp_error(clean)},
            "cases": rows,
            "margin_db_by_kind": margins,
            "steady_margin_db_by_kind": steady,
        }
        print(f"{key:<24}clean passed through: {results[key]['clean']['passthrough_psnr']} dB, "
              f"{identical}/{len(clean)} frames identical", flush=True)
    return results


def _mean_margin(rows: dict, kind: str, levels, metric: str) -> float:
    return float(np.mean([rows[f"{kind}@{lv:g}"]["clipmill"][metric] - rows[f"{kind}@{lv:g}"]["ffmpeg"][metric] for lv in levels]))


def _finite(value: float) -> float | str:
    return value if np.isfinite(value) else "identical"


def bench_stitch(clips: dict, sizes, kinds) -> dict:
    results = {}
    for key, clean in clips.items():
        half = (len(clean) // 2) // 4 * 4 + 1  # segments of 4k+1 frames, the later one repeating the boundary
        first, second = clean[:half], clean[half - 1:]
        rows = {"clean": seam_metrics(clean, [half])[0]["seam_ratio"]}
        for kind in kinds:
            for size in sizes:
                p = drift_parameters(kind, size, np.random.default_rng(_seed(key, kind, size)))
                later = apply_drift(second, p)
                naive = np.concatenate([first, later[1:]])
                result = stitch_segments([first, later], shared_frames=1)
                ours = seam_metrics(result.frames, result.seams)[0]
                rows[f"{kind}@{size:g}"] = {"drift": describe(p), "naive_ratio": seam_metrics(naive, [half])[0]["seam_ratio"],
                                            "clipmill": ours, "jump_undone": list(result.jumps[0])}
        ratios = [r["clipmill"]["seam_ratio"] for k, r in rows.items() if k != "clean"]
        naive = [r["naive_ratio"] for k, r in rows.items() if k != "clean"]
        results[key] = {"cases": rows, "worst_ratio": max(ratios), "naive_range": [min(naive), max(naive)]}
        print(f"{key:<24}seam ratio worst {max(ratios):.2f} over {len(ratios)} drifts (naive {min(naive):.2f}-{max(naive):.2f}, "
              f"uncut clip {rows['clean']:.2f})", flush=True)
    return results


def bench_speed(frames: int) -> dict:
    """Frames a second at 832x480 on the first clip found (or a panning texture), best of 3."""
    path = next(iter(sorted(DATA.glob("*.mp4"))), None)
    if path is not None:
        clip = load_window(path, 0, frames, (832, 480))
    else:
        rng = np.random.default_rng(0)
        canvas = cv2.GaussianBlur(rng.integers(0, 256, (480, 832 + 2 * frames, 3), dtype=np.uint8), (0, 0), 2)
        clip = np.stack([canvas[:, 2 * t:2 * t + 832] for t in range(frames)])
    clip = FLICKER_MODELS["decode"](clip, 2.0, 7)
    deflicker(clip[:5])  # start-up: imports, OpenCV's first calls
    load_before = os.getloadavg()
    walls, cpus = [], []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        deflicker(clip)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"frames": len(clip), "size": "832x480", "fps": len(clip) / min(walls),
            "cpu_seconds_per_frame": min(cpus) / len(clip), "cpu_count": os.cpu_count(),
            "opencv_threads": cv2.getNumThreads(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=49, help="frames read from each window (default 49)")
    parser.add_argument("--quick", action="store_true", help="832x480 only, one level, for a first look")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report: dict = {"command": "tests/benchmarks/bench_quality.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "frames": args.frames, "windows": {k: list(v) for k, v in WINDOWS.items()},
                    "held_out": "development used frames 0-48 of bottle and basketball, flicker levels 1 and 3, "
                                "drift sizes 1 and 3; none of these are measured here. The latest deflicker fixes "
                                "were diagnosed on dog and basketball (correlated), dog (local drift) and the "
                                "stronger set's car and bottle windows, so those are no longer unseen"}
    sizes = {"832x480": SIZES["832x480"]} if args.quick else SIZES
    levels = LEVELS[:1] if args.quick else LEVELS
    report["deflicker"], report["stitch"] = {}, {}
    if DATA.is_dir():
        with ThreadPoolExecutor(max_workers=2) as pool:
            for label, size in sizes.items():
                names = WINDOWS_720P if label == "1280x720" else WINDOWS
                clips = load_clips({name: WINDOWS[name] for name in names}, args.frames, size, f"@{label}")
                at = levels if label == "832x480" else levels[:1]
                report["deflicker"].update(bench_deflicker(clips, at, list(FLICKER_MODELS), pool))
                report["stitch"].update(bench_stitch(clips, DRIFT_SIZES, DRIFT_KINDS))
            if not args.quick:
                clips = load_clips(STRONGER_WINDOWS, STRONGER_FRAMES, SIZES["832x480"], f"@832x480x{STRONGER_FRAMES}")
                report["deflicker_stronger"] = bench_deflicker(clips, (STRONGER_LEVEL,), list(FLICKER_MODELS), pool)
    else:
        print(f"no real footage at {DATA}: deflicker and stitch skipped, speed measured on a synthetic pan")
    report["speed"] = bench_speed(81)
    report["summary"] = summarise(report)
    report["seconds"] = time.perf_counter() - started
    print(json.dumps(report["summary"], indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {args.json} ({report['seconds']:.0f} s)")
    return 0


def summarise(report: dict) -> dict:
    margins = [m for r in report["deflicker"].values() for m in r["margin_db_by_kind"].values()]
    steady = [m for r in report["deflicker"].values() for m in r["steady_margin_db_by_kind"].values()]
    passthrough = [r["clean"]["passthrough_psnr"] for r in report["deflicker"].values()]
    finite = [p for p in passthrough if p != "identical"]
    ratios = [r["worst_ratio"] for r in report["stitch"].values()]
    s = report["speed"]
    stronger = [m for r in report.get("deflicker_stronger", {}).values() for m in r["margin_db_by_kind"].values()]
    stronger_passthrough = [r["clean"]["passthrough_psnr"] for r in report.get("deflicker_stronger", {}).values()]
    return {
        "deflicker_margin_db_mean": float(np.mean(margins)) if margins else None,
        "deflicker_margin_db_min_clip_kind": float(np.min(margins)) if margins else None,
        "deflicker_steady_margin_db_mean": float(np.mean(steady)) if steady else None,
        "deflicker_steady_margin_db_min_clip_kind": float(np.min(steady)) if steady else None,
        "clean_passthrough_min_db": (min(finite) if finite else "identical") if passthrough else None,
        "clean_passthrough_identical_clips": sum(p == "identical" for p in passthrough),
        "stronger_margin_db_mean": float(np.mean(stronger)) if stronger else None,
        "stronger_margin_db_min_clip_kind": float(np.min(stronger)) if stronger else None,
        "stronger_clean_passthrough_min_db": min(p for p in stronger_passthrough if p != "identical") if stronger else None,
        "seam_ratio_worst": max(ratios) if ratios else None,
        "speed_fps_832x480": s["fps"], "speed_cpu_ms_per_frame": 1000 * s["cpu_seconds_per_frame"],
        "loadavg_during_speed": s["loadavg_before"][0],
    }


if __name__ == "__main__":
    sys.exit(main())
