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

    from models.devices import gpu_summary

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

    from storage.config import results_database_url
    from storage.db import init_db

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

    from models.wan import MODEL_SPECS

    found = []
    for name, spec in MODEL_SPECS.items():
        if not spec.hub_id:
            continue
        cached = try_to_load_from_cache(spec.hub_id, "model_index.json")
        found.append(Finding(f"weights {name}", "ok" if isinstance(cached, str) else "warn",
                             f"{spec.hub_id} in the Hugging Face cache" if isinstance(cached, str) else
                             f"{spec.hub_id} not downloaded; pass a local folder via models.generator_source"))
    yolo = Path(os.environ.get("CLIPMILL_YOLO_WEIGHTS", "yolov8n.pt"))
    found.append(Finding("weights yolo", "ok" if yolo.is_file() else "warn",
                         f"{yolo.resolve()}" if yolo.is_file() else
                         f"{yolo} not found locally; set models.detector to a .pt file ('random' for plumbing tests)"))
    return found


def run_checks(*, db_url: str | None = None, run_root: Path | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in (check_ffmpeg, check_torch, lambda: check_database(db_url, run_root), check_weights):
        try:
            findings += check()
        except Exception as error:  # a broken check is itself a finding, never a crash of doctor
            findings.append(Finding(getattr(check, "__name__", "check"), "fail", f"{type(error).__name__}: {error}"))
    api = os.environ.get("PREFECT_API_URL")
    findings.append(Finding("prefect api", "ok" if api else "warn",
                            api or "PREFECT_API_URL unset: each run starts a temporary local server; "
                                   "run `prefect server start` for the dashboard"))
    return findings
