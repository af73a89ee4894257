"""Deflicker and stitching quality against ffmpeg and naive joins, on real footage.

    .venv/bin/python tests/benchmarks/bench_quality.py [--frames N] [--json OUT]

Everything is measured in one run, from clean clips the project did not make
(../shared/data/video, see its README): damage of a known kind is added with a
seeded generator, repaired, and compared with the clean original. Nothing here is
tuned on these clips; the damage model is written down in `add_flicker` and
`add_generation_drift` (in quality_measures.py beside this file, with the metrics)
so the numbers can be reproduced and argued with.

Deflicker metrics, all against the clean clip or along its motion:
  PSNR / SSIM   fidelity to the clean clip (SSIM on luma, Wang et al. 2004, sigma 1.5)
  warp error    Lai et al. 2018: frame t-1 warped onto t with the flow of the CLEAN
                clip, squared error over pixels its forward-backward check keeps,
                RGB in [0, 1], reported x1000 (lower is better)
  flicker       VBench temporal flickering: (255 - mean |frame t - frame t-1|) / 255

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from clipmill.media import ffmpeg_binary, read_video  # noqa: E402
from qa.deflicker import deflicker  # noqa: E402
from qa.stitch import seam_metrics, stitch_segments  # noqa: E402
from tests.benchmarks.quality_measures import (  # noqa: E402
    CleanMotion,
    add_flicker,
    add_generation_drift,
    psnr,
    quality,
    vbench_flicker,
)

DATA = ROOT.parent / "shared" / "data" / "video"
RESULTS = Path(__file__).resolve().parent / "results" / "quality.json"
MAX_WIDTH = 832
STRENGTHS = {"mild": 1.0, "medium": 2.0, "strong": 3.0}
FFMPEG_MODES = ("am", "gm", "hm", "qm", "cm", "pm", "median")
FFMPEG_SIZES = (5, 9, 15)
SEED = 20240607


# --------------------------------------------------------------------------- ffmpeg


def ffmpeg_deflicker(frames: np.ndarray, mode: str, size: int) -> np.ndarray:
    """ffmpeg's filter on the luma plane, the chroma planes left as they were.

    That is what ffmpeg does to a YUV clip: it rescales plane 0 only. In YCbCr -> RGB
    luma adds equally to R, G and B, so ffmpeg's luma change is added back to the RGB
    frame here; pixels ffmpeg leaves alone stay exactly as they were, and ffmpeg
    reads and writes a third of the bytes.
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


def best_ffmpeg(flickering: np.ndarray, clean: np.ndarray, pool: ThreadPoolExecutor) -> tuple[str, np.ndarray, list]:
    """Every mode x size; the best by PSNR against the clean clip (ffmpeg is given every chance)."""
    settings = [(m, s) for m in FFMPEG_MODES for s in FFMPEG_SIZES]

    def score(setting):
        out = ffmpeg_deflicker(flickering, *setting)
        return psnr(out, clean), setting

    ranked = sorted(pool.map(score, settings), reverse=True)
    mode, size = ranked[0][1]
    return f"{mode}:{size}", ffmpeg_deflicker(flickering, mode, size), [(f"{m}:{s}", round(p, 2)) for p, (m, s) in ranked]


# --------------------------------------------------------------------------- benchmarks


def load_clips(frames: int) -> dict[str, np.ndarray]:
    clips = {}
    for path in sorted(DATA.glob("*.mp4")):
        meta = cv2.VideoCapture(str(path))
        width = int(meta.get(cv2.CAP_PROP_FRAME_WIDTH))
        meta.release()
        target = min(MAX_WIDTH, width) // 2 * 2
        clip, _ = read_video(path, max_frames=frames, width=target)
        clips[path.stem] = clip[:, : clip.shape[1] // 2 * 2]
    return clips


def bench_deflicker(clips: dict[str, np.ndarray]) -> dict:
    results = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for ci, (name, clean) in enumerate(clips.items()):
            motion = CleanMotion(clean)
            passthrough = psnr(deflicker(clean), clean)
            rows = {}
            for si, (label, level) in enumerate(STRENGTHS.items()):
                flickering = add_flicker(clean, level, seed=SEED + 100 * ci + si)
                ours = deflicker(flickering)
                setting, theirs, ranking = best_ffmpeg(flickering, clean, pool)
                rows[label] = {
                    "input": quality(flickering, clean, motion),
                    "clipmill": quality(ours, clean, motion),
                    "ffmpeg": {**quality(theirs, clean, motion), "setting": setting},
                    "ffmpeg_psnr_by_setting": dict(ranking),
                }
            mean = lambda who, key: float(np.mean([r[who][key] for r in rows.values()]))  # noqa: E731
            averaged = {who: {k: mean(who, k) for k in ("psnr", "ssim", "warp_error", "flicker")}
                        for who in ("input", "clipmill", "ffmpeg")}
            # The per-strength best above is an oracle no user has; also name the one
            # setting that is best for this clip over all strengths.
            single = {k: float(np.mean([r["ffmpeg_psnr_by_setting"][k] for r in rows.values()]))
                      for k in next(iter(rows.values()))["ffmpeg_psnr_by_setting"]}
            best_single = max(single, key=single.get)
            results[name] = {
                "size": f"{clean.shape[2]}x{clean.shape[1]}x{len(clean)}",
                "ffmpeg_best_single_setting": {"setting": best_single, "mean_psnr": single[best_single]},
                "clean": {"flicker": vbench_flicker(clean), "warp_error": motion.warp_error(clean)},
                "clean_passthrough_psnr": passthrough,
                "strengths": rows,
                "mean": averaged,
                "margin_db": averaged["clipmill"]["psnr"] - averaged["ffmpeg"]["psnr"],
            }
    return results


def _mean_lab(frames: np.ndarray) -> np.ndarray:
    return np.mean([cv2.cvtColor(f.astype(np.float32) / 255, cv2.COLOR_RGB2Lab).reshape(-1, 3).mean(0) for f in frames], 0)


def drift_at_seams(frames: np.ndarray, moments: np.ndarray, seams: list[int], clean: np.ndarray) -> list[float]:
    """Delta E of the colour step at each seam beyond the step the clean clip makes there.

    seam_metrics' colour_shift also counts the scene's own change over the 8 frames
    it compares (large where the camera's exposure swings); this is only what the
    stitching added. `moments[i]` is the clean frame that output frame i shows.
    """
    out = []
    for seam in seams:
        before, after = slice(max(0, seam - 4), seam), slice(seam, seam + 4)
        step = _mean_lab(frames[after]) - _mean_lab(frames[before])
        clean_step = _mean_lab(clean[moments[after]]) - _mean_lab(clean[moments[before]])
        out.append(float(np.linalg.norm(step - clean_step)))
    return out


def bench_stitch(clips: dict[str, np.ndarray]) -> dict:
    results = {}
    for ci, (name, clean) in enumerate(clips.items()):
        # Segments of 4k+1 frames (Wan's window), each later one repeating the previous one's last frame.
        count = 3 if len(clean) >= 3 * 17 - 2 else 2
        seg_len = ((len(clean) + count - 1) // count - 1) // 4 * 4 + 1
        if seg_len < 9:
            continue
        rng = np.random.default_rng(SEED + ci)
        drift = {"gain": np.ones(3), "offset": np.zeros(3), "shift": np.zeros(2)}
        segments, start = [], 0
        for k in range(count):
            segment = clean[start:start + seg_len]
            if k:
                segment, drift = add_generation_drift(segment, rng, drift)
            segments.append(segment)
            start += seg_len - 1
        naive = np.concatenate(segments)
        naive_seams = list(np.cumsum([len(s) for s in segments[:-1]]))
        naive_moments = np.concatenate([np.arange(k * (seg_len - 1), k * (seg_len - 1) + seg_len) for k in range(count)])
        stitched = stitch_segments(segments, shared_frames=1)
        stitched_moments = np.arange(len(stitched.frames))
        true_seams = list(np.cumsum([seg_len - 1] * (count - 1)) + 1)
        measured = {
            "clean": seam_metrics(clean[:len(stitched.frames)], true_seams),
            "naive": seam_metrics(naive, naive_seams),
            "clipmill": seam_metrics(stitched.frames, stitched.seams),
        }
        summary = {who: {"seam_ratio": max(m["seam_ratio"] for m in ms),
                         "colour_shift": float(np.mean([m["colour_shift"] for m in ms])),
                         "colour_step": float(np.mean([m["colour_step"] for m in ms]))}
                   for who, ms in measured.items()}
        summary["naive"]["added_colour_step"] = float(np.mean(drift_at_seams(naive, naive_moments, naive_seams, clean)))
        summary["clipmill"]["added_colour_step"] = float(np.mean(
            drift_at_seams(stitched.frames, stitched_moments, stitched.seams, clean)))
        results[name] = {
            "segments": f"{count} x {seg_len} frames",
            "seams": measured,
            "summary": summary,
            "jumps_undone": [list(map(float, j)) for j in stitched.jumps],
            "colour_shift_reduction": 1.0 - summary["clipmill"]["colour_shift"] / max(summary["naive"]["colour_shift"], 1e-9),
            "colour_step_reduction": 1.0 - summary["clipmill"]["colour_step"] / max(summary["naive"]["colour_step"], 1e-9),
            "added_colour_step_reduction": 1.0 - summary["clipmill"]["added_colour_step"]
            / max(summary["naive"]["added_colour_step"], 1e-9),
        }
    return results


def bench_speed(clips: dict[str, np.ndarray], frames: int) -> dict:
    source = next(iter(clips.values())) if clips else None
    if source is None:
        rng = np.random.default_rng(0)
        # A blurred texture panning 2 px a frame stands in for footage.
        canvas = cv2.GaussianBlur(rng.integers(0, 256, (480, 832 + 2 * frames, 3), dtype=np.uint8), (0, 0), 2)
        source = np.stack([canvas[:, 2 * t:2 * t + 832] for t in range(frames)])
    clip = np.stack([cv2.resize(f, (832, 480), interpolation=cv2.INTER_AREA) for f in source])
    clip = add_flicker(clip, 2.0, seed=SEED)
    load_before = os.getloadavg()
    times = []
    for _ in range(2):
        start = time.perf_counter()
        deflicker(clip)
        times.append(time.perf_counter() - start)
    return {
        "frames": len(clip), "size": "832x480", "fps": len(clip) / min(times),
        "cpu_count": os.cpu_count(), "opencv_threads": cv2.getNumThreads(),
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
    }


# --------------------------------------------------------------------------- report


def print_tables(report: dict) -> None:
    print("\nDEFLICKER  (PSNR dB / SSIM / warp error x1e3 / VBench flicker; ffmpeg = its best of 21 settings by PSNR,")
    print("           chosen per clip and strength; margin = clipmill - that, PSNR averaged over strengths)")
    print(f"{'clip':<38}{'strength':<9}{'who':<9}{'PSNR':>7}{'SSIM':>8}{'warp':>8}{'flicker':>9}  setting")
    for name, r in report["deflicker"].items():
        for label, row in [*r["strengths"].items(), ("mean", r["mean"])]:
            for who in ("input", "ffmpeg", "clipmill"):
                q = row[who]
                setting = q.get("setting", "") if isinstance(q, dict) else ""
                print(f"{name[:37]:<38}{label:<9}{who:<9}{q['psnr']:7.2f}{q['ssim']:8.4f}{q['warp_error']:8.3f}"
                      f"{q['flicker']:9.4f}  {setting}")
        single = r["ffmpeg_best_single_setting"]
        print(f"{name[:37]:<38}best single ffmpeg setting {single['setting']} ({single['mean_psnr']:.2f} dB mean)")
        print(f"{name[:37]:<38}margin vs best ffmpeg {r['margin_db']:+.2f} dB; clean passthrough "
              f"{r['clean_passthrough_psnr']:.2f} dB; clean warp {r['clean']['warp_error']:.3f} "
              f"flicker {r['clean']['flicker']:.4f}")
    print("\nSTITCH  (worst seam ratio / mean colour shift dE / mean colour step dE (seam_metrics: the step")
    print("        beyond the footage's own colour trend); clean = the uncut clip at the same frames;")
    print("        'added' = dE of the colour step beyond the clean clip's own step (needs the clean clip)")
    print(f"{'clip':<38}{'segments':<16}{'clean':>20}{'naive':>20}{'clipmill':>20}"
          f"{'shift red.':>11}{'step red.':>10}{'added':>14}{'red.':>6}")
    for name, r in report["stitch"].items():
        cells = "".join(f"{r['summary'][w]['seam_ratio']:7.2f}/{r['summary'][w]['colour_shift']:<5.2f}/"
                        f"{r['summary'][w]['colour_step']:<5.2f}" for w in ("clean", "naive", "clipmill"))
        added = f"{r['summary']['naive']['added_colour_step']:.2f}->{r['summary']['clipmill']['added_colour_step']:.2f}"
        print(f"{name[:37]:<38}{r['segments']:<16}{cells}{r['colour_shift_reduction']:10.0%}"
              f"{r['colour_step_reduction']:10.0%}{added:>14}{r['added_colour_step_reduction']:6.0%}")
    s = report["speed"]
    print(f"\nSPEED  deflicker {s['fps']:.1f} frames/s at {s['size']} ({s['frames']} frames, best of 2), "
          f"{s['cpu_count']} CPUs, OpenCV threads {s['opencv_threads']}, "
          f"load average {s['loadavg_before'][0]:.2f} before / {s['loadavg_after'][0]:.2f} after")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120, help="frames read from each clip (default 120)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    clips = load_clips(args.frames) if DATA.is_dir() else {}
    if not clips:
        print(f"no real footage at {DATA}: deflicker and stitch tables skipped, speed measured on noise")
    report = {
        "frames": args.frames,
        "seed": SEED,
        "deflicker": bench_deflicker(clips),
        "stitch": bench_stitch(clips),
        "speed": bench_speed(clips, args.frames),
    }
    report["seconds"] = time.perf_counter() - started
    print_tables(report)
    print(f"\n{report['seconds']:.0f} s in all")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
