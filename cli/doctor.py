"""`clipmill doctor`: what this machine can and cannot do, before a batch finds out the hard way."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    name: str
    level: str  # "ok" | "warn" | "fail"
    detail: str


def _version_line(binary: str) -> str:
    out = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=20).stdout
    return out.splitlines()[0] if out else "unknown version"


def check_ffmpeg() -> list[Finding]:
    from clipmill.media import MediaError, ffmpeg_binary, ffprobe_binary

    try:
        ffmpeg = ffmpeg_binary()
        found = [Finding("ffmpeg", "ok", f"{ffmpeg}: {_version_line(ffmpeg)}")]
    except MediaError as error:
        found = [Finding("ffmpeg", "fail", str(error))]
    ffprobe = ffprobe_binary()
    found.append(Finding("ffprobe", "ok", ffprobe) if ffprobe else
                 Finding("ffprobe", "fail", "not found: encoded clips cannot be verified (apt-get install ffmpeg)"))
    return found


def check_torch() -> list[Finding]:
    import torch

    from clipmill.models.devices import gpu_summary

    found = [Finding("torch", "ok", f"{torch.__version__}")]
    if not torch.cuda.is_available():
        found.append(Finding("cuda", "warn", "no CUDA device: real Wan2.2 models will be far too slow; 'tiny' works"))
        return found
    found.append(Finding("cuda", "ok", f"CUDA {torch.version.cuda}, {torch.cuda.device_count()} device(s)"))
    for index, gpu in enumerate(gpu_summary()):
        found.append(Finding(f"gpu {index}", "ok", ", ".join(f"{k}={v}" for k, v in gpu.items())))
    return found


def check_database(db_url: str | None, run_root: Path | None) -> list[Finding]:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from clipmill.storage.config import results_database_url
    from clipmill.storage.db import init_db

    url = results_database_url(run_root, db_url)
    shown = make_url(url).render_as_string(hide_password=True)  # doctor output gets pasted into tickets
    try:
        with init_db(url).connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # any driver's error means the same thing here: unreachable
        reason = " ".join(str(getattr(error, "orig", None) or error).split())[:200]
        return [Finding("database", "fail", f"{shown}: {type(error).__name__}: {reason}")]
    return [Finding("database", "ok", f"{shown} reachable, schema at head")]


def check_weights() -> list[Finding]:
    """Which real weights could load without a download (hub cache, or CLIPMILL_* paths)."""
    from huggingface_hub import try_to_load_from_cache

    from clipmill.models.wan import MODEL_SPECS

    found = []
    for name, spec in MODEL_SPECS.items():
        if not spec.hub_id:
            continue
        cached = try_to_load_from_cache(spec.hub_id, "model_index.json")
        found.append(Finding(f"weights {name}", "ok" if isinstance(cached, str) else "warn",
                             f"{spec.hub_id} in the Hugging Face cache" if isinstance(cached, str) else
                             f"{spec.hub_id} not downloaded; pass a local folder via models.generator_source"))
    return found


def check_detector(source: str | None = None) -> list[Finding]:
    """Whether the QA detector would load: its files exist, and an OpenCV DNN graph reads.

    `source` as a spec's `models.detector` names it; unset: $CLIPMILL_DETECTOR, else
    $CLIPMILL_YOLO_WEIGHTS, else yolov8n.pt. A YOLO .pt is not unpickled here (that needs a pin).
    """
    from clipmill.models.detector import OPENCV_DNN, DetectorSource

    source = source or os.environ.get("CLIPMILL_DETECTOR") or os.environ.get("CLIPMILL_YOLO_WEIGHTS", "yolov8n.pt")
    try:
        parsed = DetectorSource.parse(source)
    except ValueError as error:
        return [Finding("detector", "fail", str(error))]
    missing = [f for f in parsed.files if not Path(f).expanduser().is_file()]
    if missing:
        return [Finding("detector", "warn", f"{parsed}: {', '.join(missing)} not found locally; set models.detector to "
                                            "ultralytics:PATH or opencv-dnn:GRAPH.pb:CONFIG.pbtxt ('random' for "
                                            "plumbing tests)")]
    if parsed.backend == OPENCV_DNN:
        from clipmill.models.detector_dnn import DnnGraphError, load_dnn_model

        try:
            model = load_dnn_model(parsed.path, parsed.config)
        except DnnGraphError as error:
            return [Finding("detector", "fail", str(error))]
        return [Finding("detector", "ok", f"{parsed}: OpenCV DNN graph reads, {len(model.names)} classes")]
    return [Finding("detector", "ok", f"{parsed}" + (" (random weights)" if not parsed.files else ""))]


def check_loras(spec_path: Path) -> list[Finding]:
    """Whether every LoRA a batch spec names would load into its job's model: the file exists,
    is safetensors, and its keys match the model's layers (clipmill.preflight.lora_problems)."""
    from clipmill.preflight import lora_problems
    from clipmill.spec import SpecError, load_spec

    try:
        spec = load_spec(spec_path)
    except SpecError as error:
        return [Finding("loras", "fail", str(error))]
    problems = lora_problems(spec)
    if problems:
        return [Finding("lora", "fail", problem) for problem in problems]
    files = {str(lora.path) for job in spec.jobs for lora in (*job.loras, *job.loras_2)}
    return [Finding("loras", "ok", f"{len(files)} LoRA file(s) of {spec.name} fit their jobs' models" if files
                    else f"{spec.name} names no LoRA")]


def run_checks(*, db_url: str | None = None, run_root: Path | None = None,
               detector: str | None = None, spec: Path | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in (check_ffmpeg, check_torch, lambda: check_database(db_url, run_root), check_weights,
                  lambda: check_detector(detector), *([lambda: check_loras(spec)] if spec else [])):
        try:
            findings += check()
        except Exception as error:  # a broken check is itself a finding, never a crash of doctor
            findings.append(Finding(getattr(check, "__name__", "check"), "fail", f"{type(error).__name__}: {error}"))
    api = os.environ.get("PREFECT_API_URL")
    findings.append(Finding("prefect api", "ok" if api else "warn",
                            api or "PREFECT_API_URL unset: each run starts a temporary local server; "
                                   "run `prefect server start` for the dashboard"))
    return findings
