"""The disk fills up mid-run, with the SQLite database on that same disk (issue #23 item 7): a
really full filesystem (a small tmpfs), filled from outside once the first segment is on
disk. The run ends with one line naming the full disk and exit 3, no traceback, no temporary
file left; once space is freed the next run finishes every job and leaves nothing "running"
(what the database could not record as it filled, that run closes: the takeover of a dead
run's jobs, storage.leases)."""
import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.slow

CLIPMILL = str(Path(sys.executable).with_name("clipmill"))


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs of the test's own: a filesystem that really runs out of space."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot mount a small tmpfs to fill ({error}); needs root or CAP_SYS_ADMIN")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({done.stderr.strip() or done.returncode}); "
                    "needs root or CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def _fill_when_generating(run_root: Path, ballast: Path, stop: threading.Event) -> None:
    """Once the first segment is on disk, write until the filesystem is full."""
    while not stop.is_set() and not list(run_root.glob("*/jobs/*/attempt-*/segment-1.npy")):
        time.sleep(0.05)
    if stop.is_set():
        return
    with open(ballast, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 2**20)
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC, error


def _rows(db_file: Path, sql: str) -> list:
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def _spec(folder: Path) -> Path:
    spec = folder / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "full", "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 128, "height": 128, "frames": 9, "fps": 8, "steps": 4,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": f"clip-{k}", "prompt": f"a dog runs in a park, take {k}", "seed": k} for k in range(4)]}))
    return spec


def _env(run_root: Path, db_url: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "CLIPMILL_DATABASE_URL")}
    env["CLIPMILL_RUN_ROOT"] = str(run_root)
    if db_url:
        env["CLIPMILL_DATABASE_URL"] = db_url
    return env


def _run_while_filling(spec: Path, run_root: Path, ballast: Path, env: dict) -> subprocess.CompletedProcess:
    stop = threading.Event()
    filler = threading.Thread(target=_fill_when_generating, args=(run_root, ballast, stop), daemon=True)
    filler.start()
    try:
        run = subprocess.run([CLIPMILL, "run", str(spec)], env=env, cwd=spec.parent, capture_output=True, text=True,
                             timeout=500)
    finally:
        stop.set()
        filler.join(timeout=60)
    assert ballast.exists(), "the disk was never filled: the run ended before its first segment"
    return run


def test_a_disk_that_fills_mid_run_ends_it_in_one_line_and_the_rerun_finishes(small_disk):
    spec = _spec(small_disk)
    run_root, db_file, ballast = small_disk / "runs", small_disk / "runs" / "clipmill.db", small_disk / "ballast"
    env = _env(run_root)  # the database beside the clips, on the disk that fills

    run = _run_while_filling(spec, run_root, ballast, env)
    output = run.stdout + run.stderr
    assert run.returncode == 3, output[-4000:]
    [line] = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert "disk full" in line and str(small_disk) in line and "run it again" in line, line
    assert "Traceback" not in output, output[-4000:]
    assert not list(run_root.rglob(".*.tmp*")), "a half-written temporary file was left behind"

    ballast.unlink()  # space freed: the next run makes every job
    rerun = subprocess.run([CLIPMILL, "run", str(spec)], env=env, cwd=small_disk, capture_output=True, text=True,
                           timeout=500)
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-4000:]
    assert _rows(db_file, "SELECT key, status FROM jobs ORDER BY key") == [
        (f"clip-{k}", "accepted") for k in range(4)]
    assert _rows(db_file, "SELECT count(*) FROM attempts WHERE status = 'running'") == [(0,)]
    assert _rows(db_file, "SELECT count(*) FROM attempts WHERE status = 'interrupted'")[0][0] >= 1
    assert _rows(db_file, "SELECT status FROM batches") == [("finished",)]
    assert not list(run_root.rglob(".*.tmp*"))


def test_with_the_database_elsewhere_the_full_disk_leaves_nothing_running(small_disk, tmp_path):
    """The database on another disk can still be written: the stopped run closes what it
    leaves at once, interrupted (resumable), and the batch failed."""
    spec = _spec(small_disk)
    run_root, ballast, db_file = small_disk / "runs", small_disk / "ballast", tmp_path / "elsewhere.db"
    run = _run_while_filling(spec, run_root, ballast, _env(run_root, f"sqlite:///{db_file}"))
    output = run.stdout + run.stderr
    assert run.returncode == 3 and "Traceback" not in output, output[-4000:]
    assert _rows(db_file, "SELECT count(*) FROM attempts WHERE status = 'running'") == [(0,)]
    assert _rows(db_file, "SELECT count(*) FROM jobs WHERE status = 'running' OR claimed_by IS NOT NULL") == [(0,)]
    interrupted = _rows(db_file, "SELECT error FROM attempts WHERE status = 'interrupted'")
    assert interrupted and all(error.startswith("disk full") for (error,) in interrupted)
    assert _rows(db_file, "SELECT status FROM batches") == [("failed",)]
    assert not list(run_root.rglob(".*.tmp*"))
