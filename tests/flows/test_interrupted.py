"""A worker killed mid-generation (kill -9, as the OOM killer or a reboot would): once its job
lease expires, the next run closes its attempt as interrupted, resumes the job with a seed
never tried, and leaves no row "running"."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from storage.db import init_db, session_scope
from storage.reports import batch_report
from tests.flows.conftest import run_batch

pytestmark = pytest.mark.slow


def _running_attempts(db_file: Path) -> int:
    if not db_file.exists():
        return 0
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM attempts WHERE status = 'running'")).scalar()
    except Exception:  # not migrated yet
        return 0
    finally:
        engine.dispose()


def test_a_killed_run_is_resumed_with_a_new_seed(harness, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "killed", "models": {"clip_pretrained": "random", "detector": "random"},
        # Enough denoising steps that the kill lands inside the generation.
        "defaults": {"model": "tiny", "width": 128, "height": 128, "frames": 9, "fps": 8, "steps": 200,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": "long", "prompt": "a dog runs in a park", "seed": 5}]}))
    run_root = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "CLIPMILL_DATABASE_URL")}
    # A short lease, so the killed run's claim expires within the test (120 s by default).
    env.update(CLIPMILL_RUN_ROOT=str(run_root), CLIPMILL_LEASE_SECONDS="3")
    worker = subprocess.Popen([str(Path(sys.executable).with_name("clipmill")), "run", str(spec)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while _running_attempts(run_root / "clipmill.db") == 0:
            assert worker.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no attempt started"
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    # Until its lease expires the killed run still holds the job: a run now leaves it alone.
    state, result = run_batch(spec, run_root)
    assert result["jobs"]["long"]["status"] == "skipped" and "made by" in result["jobs"]["long"]["reason"]
    time.sleep(3.5)
    state, result = run_batch(spec, run_root)
    assert result["jobs"]["long"]["status"] == "accepted" and state.is_completed()
    with session_scope(init_db(f"sqlite:///{run_root / 'clipmill.db'}")) as session:
        [job] = batch_report(session, "killed")["jobs"]
    attempts = job["attempts"]
    assert [a["status"] for a in attempts] == ["interrupted", "accepted"]
    assert attempts[0]["seed"] == 5 and attempts[1]["seed"] != 5
    assert attempts[0]["finished_at"] is not None and "interrupted" in attempts[0]["error"]
    assert not list((run_root / "killed" / "clips").glob(".*"))  # no half-written published file
