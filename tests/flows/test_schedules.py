"""The schedules in deployments/prefect.yaml, on a real `prefect server start`: the server's
scheduler creates the runs and a process worker runs one, as in production.

Only a running server shows whether its scheduler works (with SQLAlchemy 2.1 it raised "Can't
evaluate bulk DML statement" every minute and created no run, while everything else passed)."""
import json
import subprocess
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.flows.test_workers import BIN, REPO, api_client, run, start, start_server, stop

pytestmark = pytest.mark.slow

INTERVAL_S = 5
# The scheduler's main loop runs once a minute by default; newly deployed deployments are also
# scheduled by a 5-second loop. Both are shortened so the test does not wait on either.
SCHEDULER_ENV = {"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
                 "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "2"}


def read_runs(env: dict, deployment: str) -> list[dict]:
    """The flow runs of `deployment`, as the server has them."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with api_client(env) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment])))
    return [{"id": str(r.id), "auto_scheduled": r.auto_scheduled, "state": r.state_type.value,
             "message": r.state.message if r.state else None, "expected": r.expected_start_time,
             "pool": r.work_pool_name} for r in runs]


def wait_for(condition, seconds: float, what: str, describe):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} within {seconds} s: {describe()}")


def test_the_server_schedules_runs_and_a_worker_completes_one(tmp_path):
    server, env = start_server(tmp_path, SCHEDULER_ENV)
    try:
        env = {**env, "CLIPMILL_RUN_ROOT": str(tmp_path / "runs"),
               "CLIPMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'clipmill.db'}"}
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.safe_dump({
            "name": "scheduled",
            "models": {"clip_pretrained": "random", "detector": "random"},
            "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 5, "fps": 8, "steps": 2,
                         "max_attempts": 1,
                         # Random judges: QA opened so the clip is accepted (see deployments/specs/demo.yaml).
                         "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                                "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
            "jobs": [{"id": "tick", "prompt": "a dog runs in a park"}],
        }))
        # The nightly batch exactly as deployments/prefect.yaml declares it, and a copy of it that
        # fires every few seconds on the tiny spec (same entrypoint, pull step, pool, limit).
        project = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text())
        nightly = next(d for d in project["deployments"] if d["name"] == "nightly-batch")
        frequent = {**nightly, "name": "every-few-seconds", "parameters": {"spec_path": str(spec)},
                    "schedules": [{"interval": INTERVAL_S, "active": True}]}
        project["deployments"] = [nightly, frequent]
        prefect_file = tmp_path / "prefect.yaml"
        prefect_file.write_text(yaml.safe_dump(project, allow_unicode=True))

        prefect = str(BIN / "prefect")
        run([prefect, "work-pool", "create", nightly["work_pool"]["name"], "--type", "process"], env)
        run([prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)], env)
        deployed = time.monotonic()

        # 1. The scheduler, not a client, creates the runs: a few ahead, on the interval's grid.
        scheduled = wait_for(lambda: [r for r in read_runs(env, "every-few-seconds") if r["auto_scheduled"]],
                             30, "no scheduled run created", lambda: (tmp_path / "server.log").read_text()[-3000:])
        scheduled_after_s = time.monotonic() - deployed
        assert len(scheduled) >= 2, scheduled
        times = sorted(r["expected"].timestamp() for r in scheduled)
        assert all(abs((b - a) - INTERVAL_S) < 0.01 for a, b in zip(times, times[1:])), times
        assert {r["pool"] for r in scheduled} == {"clipmill-gpu"}

        # The real nightly schedule: 02:00 in Asia/Shanghai, every night.
        nightly_runs = [r for r in read_runs(env, "nightly-batch") if r["auto_scheduled"]]
        assert nightly_runs, "the nightly batch got no scheduled run"
        for r in nightly_runs:
            local = r["expected"].astimezone(ZoneInfo("Asia/Shanghai"))
            assert (local.hour, local.minute) == (2, 0), r
            assert r["expected"] > datetime.now(timezone.utc)

        # 2. A worker polls once, takes one due run (one slot) and waits for it to finish.
        worker = start([prefect, "worker", "start", "--pool", "clipmill-gpu", "--limit", "1", "--run-once",
                        "--name", "gpu-0"], env, tmp_path / "worker.log")
        try:
            rc = worker.wait(timeout=300)  # ~45 s on 2 idle cores: most of it importing and building models
        except subprocess.TimeoutExpired:
            rc = "still running after 300 s"
        finally:
            stop(worker)
        worker_log = (tmp_path / "worker.log").read_text()
        assert rc == 0, worker_log[-3000:]

        runs = read_runs(env, "every-few-seconds")
        finished = [r for r in runs if r["state"] not in ("SCHEDULED", "PENDING", "RUNNING")]
        assert len(finished) == 1, (runs, worker_log[-3000:])
        ran = finished[0]
        assert ran["auto_scheduled"], ran
        assert ran["id"] in worker_log, worker_log[-3000:]
        assert ran["state"] == "COMPLETED", (ran, worker_log[-3000:])

        # The flow did the batch's work: the job accepted, its clip published in the run root.
        report = json.loads((tmp_path / "runs" / "scheduled" / "report.json").read_text())
        assert report["counts"]["accepted"] == 1, report["counts"]
        assert (tmp_path / "runs" / "scheduled" / "clips" / "tick.mp4").stat().st_size > 0
        print(f"first scheduled run created {scheduled_after_s:.1f} s after deploy")
    finally:
        stop(server)
    # The scheduler services must not have failed once (SQLite's "database is locked", which
    # a busy machine can cause in other services, is retried and does not count here).
    server_log = (tmp_path / "server.log").read_text()
    failed = [line for line in server_log.splitlines()
              if ("ERROR" in line and "schedule_" in line) or "bulk DML" in line]
    assert not failed, "\n".join(failed[:10])
