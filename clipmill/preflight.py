"""What a batch needs before its first generation (tools, folders, disk, database, weights, the
label font and signing files), checked before any GPU time is spent.

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
    problems = [*_tools(), *_writable(config, spec), *_database(config), *_weights(spec),
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


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or "\\" in value
