"""The demo batch as an operator runs it (issue 24): `deployments/setup.sh` on a real `prefect
server start`, a process worker, `clipmill submit deployments/specs/demo.yaml`; then what the
dashboard shows, read back through the API: the run keeps the name submit printed, every
job's wrapping task run has its job's state type (the timeline's colour), the batch's state
name carries the counts, and no log of the run holds a traceback."""
import re
import subprocess
import time

import pytest

import urllib.request

from tests.flows.test_workers import BIN, REPO, api_client, free_port, start, stop

pytestmark = pytest.mark.slow

DEMO_JOBS = {"t2v-frisbee": "COMPLETED", "i2v-espresso": "COMPLETED", "two-segment-walk": "COMPLETED",
             "keyword-earbuds": "COMPLETED", "gate-mismatch": "FAILED", "retry-still-clip": "FAILED",
             "broken-photo": "FAILED"}


@pytest.fixture
def demo_on_a_worker(prefect_server, tmp_path, request):
    """The demo submitted to the `batch` deployment and run by a worker: (env, run name, run id)."""
    env = {**prefect_server, "CLIPMILL_RUN_ROOT": str(tmp_path / "runs"), "CLIPMILL_GPUS": ""}
    env.pop("CLIPMILL_PUBLIC_URL", None)  # the worker learns it from the server (setup.sh)
    (tmp_path / "runs").mkdir()
    port = free_port()
    server = start([str(BIN / "clipmill"), "serve", "--port", str(port)], env, tmp_path / "serve.log")
    request.addfinalizer(lambda: stop(server))
    setup = subprocess.run(["bash", "deployments/setup.sh"], cwd=REPO, capture_output=True, text=True,
                           env={**env, "CLIPMILL_PUBLIC_URL": f"http://127.0.0.1:{port}"}, timeout=300)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
    assert "trending-poller is paused" in setup.stdout
    queued = subprocess.run([str(BIN / "clipmill"), "submit", "deployments/specs/demo.yaml"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert queued.returncode == 0, queued.stdout[-2000:] + queued.stderr[-2000:]
    found = re.search(r"queued demo as (demo-\d{8}-\d{6}) \(([0-9a-f-]{36})\) on clipmill-batch/batch", queued.stdout)
    assert found, queued.stdout
    worker = start([str(BIN / "prefect"), "worker", "start", "--pool", "clipmill-gpu", "--limit", "1"], env,
                   tmp_path / "worker.log")
    try:
        _wait_finished(env, found.group(2), tmp_path)
    finally:
        stop(worker)
    return env, found.group(1), found.group(2)


def _wait_finished(env, run_id, tmp_path, seconds=600):
    deadline = time.monotonic() + seconds
    with api_client(env) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                return
            time.sleep(2)
    raise AssertionError(f"the batch did not finish in {seconds} s:\n{(tmp_path / 'worker.log').read_text()[-4000:]}")


def test_the_dashboard_tells_the_truth_about_a_worker_run(demo_on_a_worker, tmp_path):
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterParentFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )

    env, name, run_id = demo_on_a_worker
    with api_client(env) as client:
        batch = client.read_flow_run(run_id)
        jobs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[batch.id])))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[batch.id])))
        time.sleep(3)  # the worker's last logs reach the server in batches
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(
            any_=[batch.id, *(job.id for job in jobs)])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[job.id for job in jobs])))
        [poller] = client.read_deployments(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["trending-poller"])))

    # The run keeps the name submit printed; its badge carries the counts.
    assert batch.name == name
    assert (batch.state.type.value, batch.state.name) == ("FAILED", "4/7 accepted"), batch.state
    assert batch.state.message.startswith("4/7 accepted · 1 rejected · 1 failed QA · 1 error")

    # Each job's wrapping task (what the batch's timeline draws) ends as its job did.
    assert {job.name: job.state.type.value for job in jobs} == DEMO_JOBS
    wrappers = {task.name: task for task in tasks if task.name in DEMO_JOBS}  # run-clip, named by job
    for job in jobs:
        wrapper = wrappers[job.name]
        assert (wrapper.state.type, wrapper.state.name, wrapper.state.message) == \
            (job.state.type, job.state.name, job.state.message), job.name

    # No traceback, no "unexpected exception": a failed batch is an outcome, not a crash.
    assert logs and not [log.message for log in logs
                         if "Traceback" in log.message or "unexpected exception" in log.message]
    worker_log = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in worker_log and "unexpected exception" not in worker_log, worker_log[-4000:]

    # Every job has a card in its own run; every job with frames (or a gate's input image) an
    # image artifact whose URL, served by `clipmill serve`, answers with an image.
    by_run = {job.id: job.name for job in jobs}
    cards = {by_run[a.flow_run_id]: a.data for a in artifacts if a.key and a.key.endswith("-card")}
    posters = {by_run[a.flow_run_id]: a.data for a in artifacts if a.type == "image"}
    assert set(cards) == set(DEMO_JOBS)
    assert set(posters) == set(DEMO_JOBS) - {"broken-photo"}
    for job, url in posters.items():
        assert url.startswith("http://127.0.0.1:") and url in cards[job], (job, url)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("image/"), (job, url)
    assert "Open the clip of attempt 3" in cards["retry-still-clip"] and "barely moves" in cards["retry-still-clip"]
    assert "input image of gate" in cards["gate-mismatch"] and "below the gate threshold" in cards["gate-mismatch"]
    assert "broken-photo.jpg" in cards["broken-photo"]

    # The poller waits, paused, for real sources, on the CPU pool.
    assert poller.paused and poller.work_pool_name == "clipmill-control"
