"""What a batch needs before its first generation (tools, folders, disk, database, weights, the
jobs' LoRAs, the label font and signing files), checked before any GPU time is spent.

A run nobody watches must not generate for an hour and then fail at encoding because ffprobe
is missing, or write into a read-only folder, a full disk or a locked database. Every problem
found is named in one line; nothing has been written when they are.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clipmill.media import MediaError, ffmpeg_binary, ffprobe_binary
from clipmill.publishing import check_publish_settings
from clipmill.spec import BatchSpec
from clipmill.models.trust import needs_pin, require_trusted
from clipmill.storage.config import RunConfig

# Scratch an attempt keeps as .npy: each segment, the stitched clip, the deflickered frames.
_SCRATCH_COPIES = 4
_DB_TIMEOUT_S = 5


class PreflightError(ValueError):
    """The machine is not ready for this batch; the message lists every reason, in one line."""


def preflight(config: RunConfig, spec: BatchSpec) -> None:
    """Raise PreflightError naming everything that would stop this batch mid-way."""
    problems = [*_tools(), *_writable(config, spec), *_database(config), *_weights(spec), *lora_problems(spec),
                *check_publish_settings(spec.publish)]
    if problems:
        raise PreflightError(f"batch {spec.name} cannot start: " + "; ".join(problems))


def scratch_bytes(spec: BatchSpec) -> int:
    """Disk the first attempt of every job needs in the run root (frames kept as uint8 RGB)."""
    return sum(job.frames * job.width * job.height * 3 * _SCRATCH_COPIES for job in spec.jobs)


def _tools() -> list[str]:
    problems = []
    try:
        ffmpeg_binary()
    except MediaError as error:
        problems.append(str(error))
    if ffprobe_binary() is None:
        problems.append("ffprobe not found (it checks every encoded clip): install ffmpeg, e.g. apt-get install ffmpeg")
    return problems


def _writable(config: RunConfig, spec: BatchSpec) -> list[str]:
    problems = []
    root = config.paths(spec.name).root
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-check-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return [f"run folder {root} is not writable ({error.strerror or error})"]
    free, needed = shutil.disk_usage(root).free, scratch_bytes(spec)
    if free < needed:
        problems.append(f"disk full: {free / 2**20:.0f} MiB free under {root}, the batch needs about "
                        f"{needed / 2**20:.0f} MiB for its first attempts")
    store = config.store(spec.name)
    if store.url != str(root):
        name = f".write-check-{uuid.uuid4().hex[:8]}"
        try:
            store.put_text("", name)
            store.fs.rm(store.url_for(name) if not store.local else str(Path(store.url) / name))
        except Exception as error:
            problems.append(f"artifact store {store.url} is not writable ({type(error).__name__}: {error})")
    return problems


def _database(config: RunConfig) -> list[str]:
    """Reachable, and writable now: a SQLite file another process keeps locked would make
    every record of this run wait and fail."""
    url = make_url(config.db_url)
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and url.database and url.database != ":memory:" and not Path(url.database).exists():
        return []  # a new file: created (and migrated) by the run itself
    options = {"timeout": _DB_TIMEOUT_S} if sqlite else {"connect_timeout": _DB_TIMEOUT_S}
    engine = create_engine(config.db_url, connect_args=options)
    try:
        with engine.connect() as connection:
            if sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.exec_driver_sql("ROLLBACK")
            else:
                connection.execute(text("SELECT 1"))
    except Exception as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())[:200]
        return [f"database {config.database_label} is not usable: {reason}"]
    finally:
        engine.dispose()
    return []


def _weights(spec: BatchSpec) -> list[str]:
    """Local weight files and folders named in the spec must exist (names that are not paths
    are hub ids or model tags, fetched by their libraries)."""
    from clipmill.models.detector import DetectorSource

    try:
        detector_files = DetectorSource.parse(spec.models.detector).files
    except ValueError as error:
        return [f"models.detector: {error}"]
    judging = [("models.detector", f) for f in detector_files] + [("models.clip_pretrained", spec.models.clip_pretrained)]
    named = judging + [(f"models.generator_source.{k}", v) for k, v in spec.models.generator_source.items()]
    problems = [f"{field}: {value} does not exist" for field, value in named
                if value and _looks_like_path(value) and not Path(value).expanduser().exists()]
    for field, value in judging:  # a detector or CLIP pickle runs code when loaded
        if value and value != "random" and Path(value).expanduser().is_file() and needs_pin(value):
            try:
                require_trusted(value, spec.models.trusted_weights)
            except ValueError as error:
                problems.append(f"{field}: {error}")
    return problems


def lora_problems(spec: BatchSpec) -> list[str]:
    """One line for each LoRA of the spec's jobs that cannot be used: a missing or unreadable
    file, one that is not safetensors (a .pt renamed is caught by its header), a changed pinned
    file, keys in no layout diffusers converts, or keys that match no layer of its job's model
    or a layer of another size. The model's layers come from its config, built on the meta
    device: no weights are read. A model whose config is not on this machine yet (a hub id not
    downloaded) has its LoRAs checked against its layers when the generator loads them."""
    uses: dict[tuple[str, str, str, str | None], str] = {}  # (model, expert, path, pin) -> first job
    for job in spec.jobs:
        for key, expert in (("loras", "transformer"), ("loras_2", "transformer_2")):
            for lora in getattr(job, key):
                uses.setdefault((job.model, expert, str(lora.path), lora.sha256), job.id)
    if not uses:
        return []
    from clipmill.models.lora import expected_modules, fit_problems, read_lora_layout
    from clipmill.models.lora_files import lora_weights

    problems, layers = [], {}
    for (model, expert, path, pin), job_id in uses.items():
        try:
            lora_weights(path, 1.0, expert, pinned_sha256=pin)
            converted = read_lora_layout(path)
        except ValueError as error:
            problems.append(f"job {job_id}: {error}")
            continue
        if model not in layers:
            layers[model] = expected_modules(model, spec.models.generator_source.get(model))
        if layers[model] is None:
            continue
        shapes = layers[model].get(expert)
        if shapes is None:
            problems.append(f"job {job_id}: LoRA {path} is for the low-noise expert, which {model} does not have")
            continue
        part = f"{model}'s transformer" if expert == "transformer" else f"{model}'s low-noise expert"
        problem = fit_problems(converted, shapes, path, part)
        if problem:
            problems.append(f"job {job_id}: {problem}")
    return problems


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or "\\" in value
