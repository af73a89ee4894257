"""The demo batch as an operator runs it (issue 24): `deployments/setup.sh` on a real `prefect
server start`, `clipmill serve`, a process worker, `clipmill submit deployments/specs/demo.yaml`;
then what the dashboard shows, read back through the API and in a headless Chromium: the run
keeps the name submit printed, every job's wrapping task run has its job's state type (the
timeline's colour), the batch's state name carries the counts, no log holds a traceback, every
job has a card whose poster URL answers with an image, progress is readable while it runs, and
each clip's retry decisions are in its own run's log."""
import json
import re
import subprocess
import time
import urllib.request
import pytest

from tests.browser import CHROMIUM, chromium_page
from tests.flows.test_workers import BIN, REPO, api_client, free_port, start, start_server, stop

pytestmark = pytest.mark.slow

DEMO_JOBS = {"t2v-frisbee": "COMPLETED", "i2v-espresso": "COMPLETED", "two-segment-walk": "COMPLETED",
             "keyword-earbuds": "COMPLETED", "gate-mismatch": "FAILED", "retry-still-clip": "FAILED",
             "broken-photo": "FAILED"}
OUTPUT = REPO / "runs" / "test-output"
# The run page's Artifacts tab, clicked once it is there: it lists the run's artifacts.
CLICK_ARTIFACTS_TAB = ("(() => { const tab = [...document.querySelectorAll('button, a, [role=tab], li, span')]"
                       ".find(e => e.textContent.trim() === 'Artifacts'); if (tab) tab.click(); return !!tab })()")


@pytest.fixture(scope="module")
def demo_on_a_worker(tmp_path_factory):
    """The demo submitted to the `batch` deployment and run by a worker, once for the module:
    (env, run name, run id, folder). The server stays up for the tests that read it."""
    folder = tmp_path_factory.mktemp("dashboard")
    prefect, env = start_server(folder)
    processes = [prefect]
    try:
        env = {**env, "CLIPMILL_RUN_ROOT": str(folder / "runs"), "CLIPMILL_GPUS": ""}
        env.pop("CLIPMILL_PUBLIC_URL", None)  # the worker learns it from the server (setup.sh)
        (folder / "runs").mkdir()
        port = free_port()
        processes.append(start([str(BIN / "clipmill"), "serve", "--port", str(port)], env, folder / "serve.log"))
        setup = subprocess.run(["bash", "deployments/setup.sh"], cwd=REPO, capture_output=True, text=True,
                               env={**env, "CLIPMILL_PUBLIC_URL": f"http://127.0.0.1:{port}"}, timeout=300)
        assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
        assert "trending-poller is paused" in setup.stdout
        queued = subprocess.run([str(BIN / "clipmill"), "submit", "deployments/specs/demo.yaml"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0, queued.stdout[-2000:] + queued.stderr[-2000:]
        found = re.search(r"queued demo as (demo-\d{8}-\d{6}) \(([0-9a-f-]{36})\) on clipmill-batch/batch",
                          queued.stdout)
        assert found, queued.stdout
        worker = start([str(BIN / "prefect"), "worker", "start", "--pool", "clipmill-gpu", "--limit", "1"], env,
                       folder / "worker.log")
        try:
            _wait_finished(env, found.group(2), folder)
        finally:
            stop(worker)
        yield env, found.group(1), found.group(2), folder
    finally:
        for process in reversed(processes):
            stop(process)


def _wait_finished(env, run_id, folder, seconds=600):
    deadline = time.monotonic() + seconds
    with api_client(env) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(run_id).state
            if state is not None and state.is_final():
                return
            time.sleep(2)
    raise AssertionError(f"the batch did not finish in {seconds} s:\n{(folder / 'worker.log').read_text()[-4000:]}")


def test_the_dashboard_tells_the_truth_about_a_worker_run(demo_on_a_worker):
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

    env, name, run_id, folder = demo_on_a_worker
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
    worker_log = (folder / "worker.log").read_text()
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


def test_progress_logs_and_names_are_where_a_person_looks(demo_on_a_worker):
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )

    env, _, run_id, _ = demo_on_a_worker
    with api_client(env) as client:
        jobs = {job.name: job for job in client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id])))}
        [progress] = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(
            any_=["clipmill-demo-progress"])))
        history = client.read_flow_run_states(run_id)
        batch_logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        clip = jobs["retry-still-clip"]
        clip_logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[clip.id])))
        clip_tasks = {task.name for task in client.read_task_runs(flow_run_filter=FlowRunFilter(
            id={"any_": [clip.id]}))}

    # The progress card carries the count; the run's message said done/total while it ran.
    assert (progress.type, progress.data) == ("progress", 100.0)
    assert progress.description.endswith("7/7 jobs done · 4 accepted")
    running = [state.message for state in history if state.type.value == "RUNNING" and state.message]
    assert running[0] == "0/7 jobs done · 0 accepted" and running[-1] == "7/7 jobs done · 4 accepted", running

    # Each retry decision and its reason in the clip's own run, not the batch's.
    decisions = [log.message for log in clip_logs if "failed QA" in log.message]
    assert [re.match(r"retry-still-clip attempt (\d) failed QA", m).group(1) for m in decisions] == ["1", "2", "3"]
    assert all("barely moves" in m for m in decisions)
    assert not [log.message for log in batch_logs if "failed QA (" in log.message]

    # Task runs named by job, attempt and segment.
    for attempt in (1, 2, 3):
        assert {f"generate-retry-still-clip-attempt-{attempt}-segment-1",
                f"retry-still-clip-attempt-{attempt}-check-clip", f"retry-still-clip-attempt-{attempt}-deflicker",
                f"retry-still-clip-attempt-{attempt}-encode-mp4",
                f"retry-still-clip-attempt-{attempt}-decide-retry"} <= clip_tasks, sorted(clip_tasks)
    assert "retry-still-clip-structure-prompt" in clip_tasks


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_the_ui_shows_posters_and_reasons(demo_on_a_worker, tmp_path):
    """In Prefect's own UI: from the batch run's page and from a failed clip's run page, the
    Artifacts tab leads to a card whose poster is loaded (naturalWidth > 0) beside the reason."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterName

    env, _, run_id, _ = demo_on_a_worker
    ui = env["PREFECT_API_URL"].rsplit("/api", 1)[0]
    with api_client(env) as client:
        [failed] = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["retry-still-clip"])))
        artifacts = {a.key: a.id for a in client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(
            any_=["clipmill-demo-clips", "clipmill-demo-retry-still-clip-card"])))}
    with chromium_page(tmp_path / "profile", free_port()) as page:
        for run, key, reasons, shot in (
                (run_id, "clipmill-demo-clips", ["barely moves", "below the gate threshold"], "dashboard-batch.png"),
                (failed.id, "clipmill-demo-retry-still-clip-card", ["barely moves"], "dashboard-failed-clip.png")):
            page.open(f"{ui}/runs/flow-run/{run}", "document.body.innerText.includes('Artifacts')")
            page.wait(CLICK_ARTIFACTS_TAB)
            # The tab lists the run's artifacts as cards linking to their pages, which render them.
            link = f"/artifacts/artifact/{artifacts[key]}"
            href = page.wait(f"[...document.querySelectorAll('a')].map(a => a.href).find(h => h.endsWith('{link}'))")
            reasons_shown = " && ".join(f"document.body.innerText.includes({json.dumps(r)})" for r in reasons)
            loaded = page.open(href, "(() => { const images = [...document.images].filter(i => i.complete && "
                                     "i.naturalWidth > 0 && i.src.startsWith('http://127.0.0.1:')); "
                                     f"return images.length > 0 && {reasons_shown} && "
                                     "images.map(i => [i.src, i.naturalWidth]) })()")
            text = page.evaluate("document.body.innerText")
            assert all(reason in text for reason in reasons), text[:3000]
            assert loaded and all(width > 0 for _, width in loaded), loaded
            page.screenshot(OUTPUT / shot)
