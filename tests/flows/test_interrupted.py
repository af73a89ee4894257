"""A worker killed mid-generation (kill -9, as the OOM killer or a reboot would), and a run
started again at once, as an operator or the next schedule would: the killed run's process is
gone, so its leases are taken over without waiting them out; its attempt is closed as
interrupted and the job resumed with a seed never tried. A job a *live* run holds is left to
it, and a run that ends with such jobs unmade says so and exits 4, not 0."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CLIPMILL = str(Path(sys.executable).with_name("clipmill"))


def _count(db_file: Path, sql: str) -> int:
    if not db_file.exists():
        return 0
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    except Exception:  # not migrated yet
        return 0
    finally:
        engine.dispose()


def _scalar(db_file: Path, sql: str):
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def _spec(tmp_path: Path, name: str, jobs: list[dict]) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": name, "models": {"clip_pretrained": "random", "detector": "random"},
        # Enough denoising steps that the kill lands inside the generation.
        "defaults": {"model": "tiny", "width": 128, "height": 128, "frames": 9, "fps": 8, "steps": 200,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": jobs}))
    return spec


def _env(run_root: Path) -> dict:
    # The default lease (120 s): a rerun that waited it out would blow the test's time.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "CLIPMILL_DATABASE_URL", "CLIPMILL_LEASE_SECONDS", "CLIPMILL_WAIT_HELD_S")}
    env["CLIPMILL_RUN_ROOT"] = str(run_root)
    return env


def _summary(out: str) -> dict:
    return json.loads(out[out.index("{"):out.rindex("}") + 1])


def test_a_run_started_at_once_after_a_kill_takes_the_killed_runs_jobs_over(tmp_path):
    spec = _spec(tmp_path, "killed", [{"id": "long", "prompt": "a dog runs in a park", "seed": 5},
                                      {"id": "next", "prompt": "a cat sits on a wall", "seed": 6, "steps": 4}])
    run_root, db_file = tmp_path / "runs", tmp_path / "runs" / "clipmill.db"
    worker = subprocess.Popen([CLIPMILL, "run", str(spec)], env=_env(run_root), cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        # The long job's own attempt: the short one may start first and end before the kill.
        while _count(db_file, "SELECT count(*) FROM attempts a JOIN jobs j ON a.job_id = j.id "
                              "WHERE j.key = 'long' AND a.status = 'running'") == 0:
            assert worker.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no attempt started"
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    # The killed run's lease is live for two more minutes: only its dead process frees the job.
    expiry = _scalar(db_file, "SELECT lease_expires_at FROM jobs WHERE key = 'long'")
    assert _count(db_file, "SELECT count(*) FROM jobs WHERE key = 'long' "
                           "AND lease_expires_at > datetime('now', '+60 seconds')") == 1

    rerun = subprocess.run([CLIPMILL, "run", str(spec), "--json"], env=_env(run_root), cwd=tmp_path,
                           capture_output=True, text=True, timeout=400)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    closed = _scalar(db_file, "SELECT a.finished_at FROM attempts a JOIN jobs j ON a.job_id = j.id "
                              "WHERE j.key = 'long' AND a.status = 'interrupted'")
    assert closed is not None and closed < expiry, "the rerun waited the killed run's lease out"
    summary = _summary(rerun.stdout)
    assert {key: job["status"] for key, job in summary["jobs"].items()} == {"long": "accepted", "next": "accepted"}
    assert "Traceback" not in rerun.stderr

    with session_scope(init_db(f"sqlite:///{db_file}")) as session:
        report = batch_report(session, "killed")
    jobs = {job["key"]: job for job in report["jobs"]}
    attempts = jobs["long"]["attempts"]
    assert [a["status"] for a in attempts] == ["interrupted", "accepted"]
    assert attempts[0]["seed"] == 5 and attempts[1]["seed"] != 5
    assert attempts[0]["finished_at"] is not None and "interrupted" in attempts[0]["error"]
    assert _count(db_file, "SELECT count(*) FROM attempts WHERE status = 'running'") == 0
    assert _count(db_file, "SELECT count(*) FROM jobs WHERE status = 'running' OR claimed_by IS NOT NULL") == 0
    assert report["status"] == "finished"
    assert not list((run_root / "killed").rglob(".*.tmp*"))  # the killed run's half-written files


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from clipmill.storage import repository as repo
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.leases import JobLease
    db_url, batch, key, release = sys.argv[1:5]
    engine = init_db(db_url)
    with session_scope(engine) as session:
        row = repo.get_or_create_batch(session, name=batch, spec_path="", spec_sha256="", run_dir="")
        job_id = repo.upsert_job(session, row, key=key, prompt="p", model="tiny", params={}).id
    # A live run making the job: its lease renewed by the heartbeat until told to let go.
    with JobLease(db_url, job_id, lease_s=30) as lease:
        print(lease.worker, flush=True)
        while not Path(release).exists():
            time.sleep(0.2)
""")


def test_a_job_a_live_run_holds_is_left_to_it_and_the_run_says_so(tmp_path):
    spec = _spec(tmp_path, "held", [{"id": "theirs", "prompt": "a dog runs in a park", "seed": 1, "steps": 4},
                                    {"id": "mine", "prompt": "a cat sits on a wall", "seed": 2, "steps": 4}])
    run_root, db_file = tmp_path / "runs", tmp_path / "runs" / "clipmill.db"
    run_root.mkdir()
    release = tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, f"sqlite:///{db_file}", "held", "theirs", str(release)],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        worker = holder.stdout.readline().strip()
        assert worker, "the holder did not start"

        # A short wait, and the holder keeps the job throughout: the run makes its own job and
        # ends non-zero, naming the held job, its holder and when the lease expires.
        run = subprocess.run([CLIPMILL, "run", str(spec), "--json", "--wait-held", "2"], env=_env(run_root),
                             cwd=tmp_path, capture_output=True, text=True, timeout=400)
        assert run.returncode == 4, (run.returncode, run.stderr[-3000:])
        [line] = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        assert "theirs" in line and worker in line and "lease expires" in line and "mine" not in line
        assert "Traceback" not in run.stderr
        jobs = _summary(run.stdout)["jobs"]
        assert jobs["mine"]["status"] == "accepted" and jobs["theirs"]["status"] == "skipped"
        assert _count(db_file, "SELECT count(*) FROM attempts a JOIN jobs j ON a.job_id = j.id "
                               "WHERE j.key = 'theirs'") == 0, "a job a live run holds was made"
        assert holder.poll() is None

        # A longer wait: the holder lets go meanwhile, and the run makes the job itself.
        rerun = subprocess.Popen([CLIPMILL, "run", str(spec), "--json", "--wait-held", "120"], env=_env(run_root),
                                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        release.touch()
        out, err = rerun.communicate(timeout=400)
        assert rerun.returncode == 0, err[-3000:]
        jobs = _summary(out)["jobs"]
        assert jobs["theirs"]["status"] == "accepted" and jobs["mine"]["resumed"]
    finally:
        release.touch()
        holder.wait(timeout=30)
