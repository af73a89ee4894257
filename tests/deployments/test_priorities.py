"""Batch priorities on a real server: `clipmill submit --priority` puts a batch in the GPU
pool's urgent, normal or bulk queue (made by deployments/setup.sh), and a worker with one slot
takes the urgent batch first although the bulk one was submitted before it."""
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.flows.test_workers import api_client, start, stop

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _spec(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 5, "fps": 8, "steps": 1,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": "clip", "prompt": "a dog runs"}]}))
    return path


def test_an_urgent_batch_overtakes_a_bulk_one(prefect_server, tmp_path):
    env = {**prefect_server, "CLIPMILL_RUN_ROOT": str(tmp_path / "runs"), "CLIPMILL_GPUS": ""}
    setup = subprocess.run(["bash", "deployments/setup.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=300)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    clipmill = str(BIN / "clipmill")
    for name, priority in (("later", "bulk"), ("first", "urgent")):
        queued = subprocess.run([clipmill, "submit", str(_spec(tmp_path, name)), "--priority", priority],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0 and f"work queue '{priority}'" in queued.stdout, queued.stderr[-2000:]
    worker = start([str(BIN / "prefect"), "worker", "start", "--pool", "clipmill-gpu", "--limit", "1"], env,
                   tmp_path / "worker.log")
    try:
        runs = _wait_for_two_finished_runs(env)
    finally:
        stop(worker)
    by_batch = {next(t for t in run.tags if t.startswith("batch:")): run for run in runs}
    assert by_batch["batch:first"].start_time < by_batch["batch:later"].start_time
    assert {run.state.type.value for run in runs} == {"COMPLETED"}


def _wait_for_two_finished_runs(env, seconds=240):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    deadline = time.monotonic() + seconds
    with api_client(env) as client:
        while time.monotonic() < deadline:
            runs = [run for priority in ("urgent", "bulk") for run in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"priority:{priority}"])))]
            if len(runs) == 2 and all(run.state and run.state.is_final() for run in runs):
                return runs
            time.sleep(1.0)
    raise AssertionError("the worker did not finish both batches")
