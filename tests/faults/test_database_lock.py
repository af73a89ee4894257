"""A SQLite database another process locks mid-run (`BEGIN EXCLUSIVE`: a backup, a person's
sqlite3 shell): the run's writes wait the lock out, up to a bound (issue #23 item 5); past the
bound each job ends in one line naming the lock, never a traceback."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from clipmill.storage.db import LOCK_WAIT_ENV

pytestmark = pytest.mark.slow
LOCK_HOLDER = Path(__file__).with_name("lock_holder.py")


def clipmill(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The `clipmill` command in a process of its own, as cron runs it, on the test's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    environment = {key: value for key, value in os.environ.items() if key != "CLIPMILL_DATABASE_URL"}
    environment.update(PREFECT_API_URL=PREFECT_API_URL.value(), **env)
    return subprocess.run([str(Path(sys.executable).with_name("clipmill")), *args], env=environment,
                          capture_output=True, text=True, timeout=900)


def _spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({
        "name": "locked-db", "models": {"clip_pretrained": "random", "detector": "random"},
        # Big enough that the lock lands while the first clip is being made.
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 4,
                     "max_attempts": 1,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                            "max_seam_ratio": 1000.0, "detect_stride": 4, "check_text": False}},
        "jobs": [{"id": "first", "prompt": "a dog runs"}, {"id": "second", "prompt": "a cat jumps"}]}))
    return path


def _run_with_a_lock_mid_run(tmp_path: Path, hold_s: float, **env: str):
    """`clipmill run` while another process takes the database's write lock mid-run and holds
    it for `hold_s` (negative: until the run has ended). The lock lands as the first clip's MP4
    is written: generation is done, and the job's next writes are the ones that record it."""
    runs = tmp_path / "runs"
    db = runs / "clipmill.db"
    marker = tmp_path / "lock.txt"
    holder = subprocess.Popen([sys.executable, str(LOCK_HOLDER), str(db), str(hold_s), str(marker),
                               "--when-exists", str(runs / "locked-db" / "jobs" / "*" / "attempt-1" / "clip.mp4")])
    try:
        result = clipmill("run", str(_spec(tmp_path)), "--run-root", str(runs), "--db-url", f"sqlite:///{db}",
                          "--json", **env)
        ended = time.time()
    finally:
        if hold_s < 0:
            holder.kill()
        holder.wait(timeout=120)
    return result, marker.read_text() if marker.exists() else "", ended


def test_a_lock_held_60_s_mid_run_is_waited_out(harness, tmp_path):
    result, marker, ended = _run_with_a_lock_mid_run(tmp_path, hold_s=60)  # the default bound: minutes
    output = result.stdout + result.stderr
    locked, released = (float(line.split()[1]) for line in marker.splitlines())
    assert released - locked >= 60 and ended > released  # a real lock, mid-run, longer than any busy timeout before
    assert result.returncode == 0, output[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{\n"):result.stdout.rindex("\n}") + 2])
    assert {key: job["status"] for key, job in summary["jobs"].items()} == {"first": "accepted",
                                                                            "second": "accepted"}
    assert "is locked" not in output and "Traceback" not in output


def test_past_the_bound_a_job_ends_in_one_line_naming_the_lock(harness, tmp_path):
    started = time.time()
    # Locked until the run gave up, with a bound of 2 s.
    result, marker, ended = _run_with_a_lock_mid_run(tmp_path, hold_s=-1, **{LOCK_WAIT_ENV: "2"})
    output = result.stdout + result.stderr
    assert marker.startswith("locked")
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output and "sqlite3.OperationalError" not in output
    lock_lines = [line for line in output.splitlines() if "is locked by another process" in line]
    assert lock_lines and all("waited 2 s" in line and LOCK_WAIT_ENV in line for line in lock_lines)
    assert any("first" in line for line in lock_lines)  # the job it cost is named
    assert ended - started < 300  # bounded: a few waits of 2 s, not minutes each
