"""`clipmill check VIDEO` and `clipmill calibrate-gate FOLDER`: QA by hand, with the pipeline's code.

`check` runs `qa.judge.judge_frames`, the function the clip flow's QA task runs, on any
video file. `calibrate-gate` scores labelled image-prompt pairs and suggests the input gate's
threshold for a CLIP model.

Both are plain functions with typer parameters; `cli/main.py` registers them:
    app.command("check")(check)
    app.command("calibrate-gate")(calibrate_gate)
Exit codes: 0 the clip passed (or calibration done), 1 the clip failed QA, 2 bad input.
"""
from __future__ import annotations

import io
import json as json_module
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from clipmill.cli.console import fail

from clipmill.models.trust import UntrustedWeightsError, command_line_pins
from clipmill.storage.user_files import UserFileError, read_user_bytes, read_user_text
from clipmill.qa.types import INTERACTIONS, Expectations

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
TrustSha256 = typer.Option([], "--trust-sha256", metavar="SHA",
                           help="sha256 a named weights file (.pt: it can run code) must have to be loaded; "
                                "repeatable, one for each file [also: a registry YAML in $CLIPMILL_TRUSTED_WEIGHTS]")


class InputError(ValueError):
    """A bad argument or file; shown as one line, exit code 2."""


def parse_expect(items: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """["person:2", "dog", "car:2+"] -> ({"person": 2, "dog": 1}, {"car": 2}): exact counts, and
    the fewest of a class where more may be in view ("N+"). The names are checked against the
    detector's classes once it is loaded (`unknown_classes`)."""
    classes: dict[str, int] = {}
    at_least: dict[str, int] = {}
    for item in items:
        name, _, count = item.rpartition(":") if ":" in item else (item, "", "1")
        name = name.strip()
        if not name:
            raise InputError(f"--expect {item!r}: give a class name, e.g. person:2")
        or_more = count.endswith("+")
        try:
            number = int(count.removesuffix("+"))
        except ValueError:
            raise InputError(f"--expect {item!r}: the count after ':' must be a whole number, "
                             "or one followed by '+' for 'at least'") from None
        if number < 1:
            raise InputError(f"--expect {item!r}: the count must be at least 1")
        target = at_least if or_more else classes
        target[name] = target.get(name, 0) + number
    both = sorted(set(classes) & set(at_least))
    if both:
        raise InputError(f"--expect {both[0]!r}: given both as an exact count and as 'at least'; give one")
    return classes, at_least


def expectations_from_args(expect: list[str], interaction: str | None) -> Expectations:
    """Subjects of the interaction are the expected instances in the order given: the first
    two take part; for a handover the third is the object handed over
    (`--expect person:2 --expect cup` hands a cup from one person to the other)."""
    classes, at_least = parse_expect(expect)
    if interaction is None:
        return Expectations(classes=classes, at_least=at_least)
    if interaction not in INTERACTIONS:
        raise InputError(f"--interaction {interaction!r}: choose one of {', '.join(INTERACTIONS)}")
    instances = [name for counts in (classes, at_least) for name, count in counts.items() for _ in range(count)]
    needed = {"handover": 3, "approach": 2, "contact": 2}.get(interaction, 1)
    if len(instances) < needed:
        raise InputError(f"--interaction {interaction} needs {needed} expected subjects (--expect CLASS:COUNT), "
                         f"got {len(instances)}")
    subjects = tuple(instances[:needed]) if interaction != "enter" and interaction != "leave" else ()
    return Expectations(classes=classes, at_least=at_least, interaction=interaction, subjects=subjects)


def check(
    video: Path = typer.Argument(..., help="video file to judge (anything ffmpeg/OpenCV reads)"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="the prompt: enables text-video similarity; "
                                         "without --expect, its shot plan gives the expectations"),
    expect: list[str] = typer.Option([], "--expect", help="CLASS:COUNT that must appear (repeatable), e.g. person:2; "
                                       "CLASS:N+ for at least N, more being fine (person:1+)"),
    interaction: Optional[str] = typer.Option(None, "--interaction", help="approach|contact|handover|enter|leave"),
    json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    detector: str = typer.Option("yolov8n.pt", "--detector",
                                 help="ultralytics:PATH (YOLO .pt or .onnx), opencv-dnn:GRAPH.pb[:CONFIG.pbtxt], "
                                      "a bare path, or 'random'"),
    clip_model: str = typer.Option("ViT-B-32", "--clip-model", help="open_clip architecture, or 'none' to skip CLIP"),
    clip_pretrained: Optional[str] = typer.Option(None, "--clip-pretrained",
                                                  help="open_clip tag or checkpoint file; unset: random weights"),
    ocr: bool = typer.Option(True, "--ocr/--no-ocr", help="read text in the frames (PP-OCRv4)"),
    reference: Optional[Path] = typer.Option(None, "--reference", help="the job's input image: frames far blurrier, "
                                             "noisier or blockier than it fail"),
    stride: int = typer.Option(2, "--stride", help="run the detector on every n-th frame"),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", help="judge only the first N frames"),
    trust_sha256: list[str] = TrustSha256,
) -> None:
    """Judge a video with the pipeline's QA checks; print the verdict, every metric and every reason."""
    try:
        result = run_check(video, prompt=prompt, expect=expect, interaction=interaction, detector=detector,
                           clip_model=clip_model, clip_pretrained=clip_pretrained, ocr=ocr, reference=reference,
                           stride=stride, max_frames=max_frames, trust_sha256=trust_sha256)
    except UntrustedWeightsError as error:
        fail(error.command_line_message())
    except (InputError, FileNotFoundError, ValueError, RuntimeError) as error:
        fail(str(error))
    if json:
        typer.echo(json_module.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_result(result)
    raise typer.Exit(code=0 if result["passed"] else 1)


@dataclass(frozen=True)
class CheckModels:
    """The models one `check` judges with, loaded once (a benchmark reuses them across clips)."""

    detector: object  # models.detector.Detector
    scorer: object | None  # models.clip.ClipScorer; None: no CLIP checks
    text_reader: object | None  # models.ocr.TextReader; None: no text-in-frame check


@dataclass(frozen=True)
class ClipRequest:
    """What a clip is judged against: the expectations, where they came from, and the prompt."""

    expectations: Expectations
    source: str  # "prompt", "--expect" or "none"
    prompt: str | None = None
    expects_motion: bool = True


def load_check_models(detector: str, clip_model: str = "ViT-B-32", clip_pretrained: str | None = None, *,
                      ocr: bool = True, trusted: dict[str, str] | None = None) -> CheckModels:
    from clipmill.models.clip import load_clip_scorer
    from clipmill.models.detector import load_detector

    scorer = None if clip_model == "none" else load_clip_scorer(clip_model, clip_pretrained, trusted=trusted)
    text_reader = None
    if ocr:
        from clipmill.models.ocr import load_text_reader

        text_reader = load_text_reader()
    return CheckModels(load_detector(detector, trusted=trusted), scorer, text_reader)


def request_for(prompt: str | None, expect: list[str] = (), interaction: str | None = None) -> ClipRequest:
    """The expectations `--expect`/`--interaction` give, else the prompt's shot plan's."""
    if prompt is not None and not prompt.strip():
        raise InputError("--prompt is empty")
    expectations = expectations_from_args(list(expect), interaction)
    if not prompt:
        return ClipRequest(expectations, "--expect" if expect else "none")
    from clipmill.planning import plan_shot
    from clipmill.planning.motion import moving_actions
    from clipmill.qa.judge import expects_motion

    plan = plan_shot(prompt)
    if expect or interaction is not None:
        return ClipRequest(expectations, "--expect", prompt, expects_motion(moving_actions(plan.actions), plan.expectations))
    return ClipRequest(plan.expectations, "prompt", prompt,
                       expects_motion(moving_actions(plan.actions), plan.expectations))


def run_check(video: Path, *, prompt: str | None = None, expect: list[str] = (), interaction: str | None = None,
              detector: str = "yolov8n.pt", clip_model: str = "ViT-B-32", clip_pretrained: str | None = None,
              ocr: bool = True, reference: Path | None = None, stride: int = 2, max_frames: int | None = None,
              trust_sha256: list[str] = ()) -> dict:
    """What `check` prints, as a dict. Raises InputError (and kin) on bad input; UntrustedWeightsError
    for a weights file that no `trust_sha256` value (nor the registry file) pins."""
    from clipmill.media import MediaError, read_video

    # 1. check inputs, cheapest first, before any model loads
    if stride < 1:
        raise InputError(f"--stride {stride}: must be at least 1")
    if max_frames is not None and max_frames < 1:
        raise InputError(f"--max-frames {max_frames}: must be at least 1")
    request = request_for(prompt, expect, interaction)
    trusted = command_line_pins([detector, clip_pretrained], trust_sha256)
    if not Path(video).is_file():
        raise InputError(f"{video}: no such video file")
    reference_image = _reference_image(reference) if reference is not None else None
    try:
        frames, fps = read_video(video, max_frames=max_frames)
    except MediaError as error:
        raise InputError(str(error)) from None

    # 2. models, loaded once per process
    models = load_check_models(detector, clip_model, clip_pretrained, ocr=ocr, trusted=trusted)

    # 3. judge
    return {"video": str(video), **judge_clip(frames, fps, request, models, stride=stride,
                                              reference_image=reference_image)}


def judge_clip(frames, fps: float, request: ClipRequest, models: CheckModels, *, stride: int = 2,
               reference_image=None, qa=None) -> dict:
    """The verdict on decoded frames, as `check --json` prints it (without the file name)."""
    from clipmill.qa.settings import QASettings
    from clipmill.qa.judge import judge_frames

    known = set(models.detector.class_names.values())
    unknown = sorted((set(request.expectations.classes) | set(request.expectations.at_least)) - known)
    if unknown:
        raise InputError(f"--expect: {', '.join(map(repr, unknown))} not among the detector's classes "
                         f"(e.g. {', '.join(sorted(known)[:6])})")
    qa = qa or QASettings(detect_stride=stride)
    judgement = judge_frames(frames, qa=qa, expectations=request.expectations, text=request.prompt,
                             detector=models.detector, scorer=models.scorer, text_reader=models.text_reader,
                             expects_motion=request.expects_motion, reference_image=reference_image)
    enforced = request.expectations.to_dict()
    unchecked = enforced.pop("unchecked", [])
    clip = f"{models.scorer.model_name} ({models.scorer.source})" if models.scorer is not None else None
    return {
        "frames": int(len(frames)),
        "fps": fps,
        "size": f"{frames.shape[2]}x{frames.shape[1]}",
        "verdict": "accepted" if judgement.verdict.passed else "rejected",
        "expectations": {"enforced": enforced, "unchecked": unchecked, "from": request.source},
        "expects_motion": request.expects_motion,
        "models": {"detector": models.detector.source, "clip": clip,
                   "ocr": "PP-OCRv4 (rapidocr-onnxruntime)" if models.text_reader is not None else None},
        **judgement.to_dict(),
        "reasons": judgement.named_reasons(),
        "metrics": judgement.metrics_by_check(),
    }


def _reference_image(path: Path):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not Path(path).is_file():
        raise InputError(f"--reference {path}: no such image file")
    try:
        data = read_user_bytes(path, kind="image")  # swapped for a FIFO since the check: refused, never waited on
    except UserFileError as error:
        raise InputError(f"--reference {error}") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"--reference {path}: not a readable image ({error})") from None


def _print_result(result: dict) -> None:
    status = result["verdict"].upper()
    typer.secho(f"{result['video']}: {status}", bold=True,
                fg=typer.colors.GREEN if result["passed"] else typer.colors.RED)
    exp = result["expectations"]
    enforced = exp["enforced"]
    typer.echo(f"  {result['frames']} frames, {result['size']}, {result['fps']:.2f} fps; "
               f"{result['examined_frames']} checked by the detector, {result['detections']} detections "
               f"({', '.join(result['detected_labels']) or 'none'})")
    at_least = f", at least {enforced['at_least']}" if enforced.get("at_least") else ""
    typer.echo(f"  expectations ({exp['from']}): classes {enforced['classes'] or 'none'}{at_least}, "
               f"interaction {enforced['interaction'] or 'none'}; motion {'expected' if result['expects_motion'] else 'not required'}")
    for item in exp["unchecked"]:
        typer.echo(f"  not enforced: {item['kind']} {item['subject']} {item['value']} ({item['why']})")
    for c in result["checks"]:
        mark = "ok  " if c["passed"] else "FAIL"
        limit = "informational" if c["threshold"] is None else f"threshold {c['threshold']:g}"
        typer.echo(f"  [{mark}] {c['stage']:<11} {c['metric']:<24} {c['value']:.4g} ({limit})")
        typer.echo(f"         {c['reason']}")
    for reason in result["reasons"]:
        typer.secho(f"  rejected by {reason['check']}: {reason['message']}", fg=typer.colors.RED)
    random = [name for name, flag in result["random_weights"].items() if flag]
    if random:
        typer.secho(f"NOTE: random-weight {' and '.join(random)}: detections and scores mean nothing; "
                    "this run shows the checks working, not the clip's quality.", fg=typer.colors.YELLOW)


# -- calibrate-gate ------------------------------------------------------------------


def labelled_pairs(folder: Path) -> dict[str, list[tuple[Path, str]]]:
    """{"good": [(image, prompt), ...], "bad": [...]} from FOLDER/good and FOLDER/bad.

    Each image (png, jpg, jpeg, webp, bmp) has its prompt in a UTF-8 text file of the same
    name: good/cat.jpg + good/cat.txt. "good" pairs are ones that should pass the gate.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected {folder}/good and {folder}/bad)")
    pairs: dict[str, list[tuple[Path, str]]] = {}
    for label in ("good", "bad"):
        sub = folder / label
        if not sub.is_dir():
            raise InputError(f"{sub}: missing; put image + same-named .txt prompt pairs in {folder}/good and {folder}/bad")
        found = []
        for image in sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            text_file = image.with_suffix(".txt")
            if not text_file.is_file():
                raise InputError(f"{image}: no prompt file {text_file.name} beside it")
            text = read_user_text(text_file, kind="text").strip()
            if not text:
                raise InputError(f"{text_file}: the prompt is empty")
            found.append((image, text))
        if not found:
            raise InputError(f"{sub}: no images ({', '.join(IMAGE_SUFFIXES)}) with prompts")
        pairs[label] = found
    return pairs


def calibrate_gate(
    folder: Path = typer.Argument(..., help="folder with good/ and bad/ subfolders of image + same-named .txt prompt"),
    model: str = typer.Option("ViT-B-32", "--model", help="open_clip architecture the gate will use"),
    pretrained: Optional[str] = typer.Option(None, "--pretrained", help="open_clip tag or checkpoint file; unset: random"),
    trust_sha256: list[str] = TrustSha256,
) -> None:
    """Score labelled image-prompt pairs and suggest the input gate threshold for a CLIP model.

    Layout: FOLDER/good/NAME.jpg + FOLDER/good/NAME.txt (pairs that should pass) and the same
    in FOLDER/bad (pairs that should be rejected). Prints every pair's cosine and the threshold
    that best separates the two groups (balanced accuracy); set it as qa.gate_threshold.
    """
    from PIL import Image, UnidentifiedImageError

    from clipmill.qa.gate import default_gate_threshold, suggest_threshold

    try:
        pairs = labelled_pairs(folder)
        from clipmill.models.clip import load_clip_scorer

        scorer = load_clip_scorer(model, pretrained, trusted=command_line_pins([pretrained], trust_sha256))
        scores: dict[str, list[float]] = {"good": [], "bad": []}
        for label, items in pairs.items():
            for image_path, text in items:
                try:
                    # A FIFO or a device named *.jpg in the folder is refused in one line (UserFileError),
                    # never handed to PIL, whose open() would wait on it forever.
                    data = read_user_bytes(image_path, kind="image")
                    with Image.open(io.BytesIO(data)) as image:
                        score = scorer.image_text_similarity(image.convert("RGB"), text)
                except (UnidentifiedImageError, OSError) as error:
                    raise InputError(f"{image_path}: not a readable image ({error})") from None
                scores[label].append(score)
                typer.echo(f"{label:<4} {score:7.4f}  {image_path.name}: {text[:70]}")
        threshold, stats = suggest_threshold(scores["good"], scores["bad"])
    except UntrustedWeightsError as error:
        fail(error.command_line_message())
    except (InputError, FileNotFoundError, ValueError, RuntimeError) as error:
        fail(str(error))
    typer.secho(f"suggested gate threshold for {model} ({scorer.source}): {threshold:.4f}", bold=True)
    typer.echo(f"  balanced accuracy {stats['balanced_accuracy']:.1%} (pass {stats['true_positive_rate']:.1%} of good, "
               f"reject {stats['true_negative_rate']:.1%} of bad), AUC {stats['auc']:.3f}; "
               f"{stats['good']} good pairs (mean {stats['good_mean']:.3f}), {stats['bad']} bad (mean {stats['bad_mean']:.3f})")
    default = default_gate_threshold(model)
    typer.echo(f"  current default for {model}: {default:.2f}" if default is not None else
               f"  {model} has no default: set qa.gate_threshold")
    if scorer.random_weights:
        typer.secho("NOTE: random-weight CLIP: these scores mean nothing; pass --pretrained for a real threshold.",
                    fg=typer.colors.YELLOW)
