"""A real `prefect server start`, two process workers with one slot each (as one worker per GPU
would be), and a batch fanned out over them: the deployment in deployments/prefect.yaml, run
as an operator runs it. Every process here is a separate one, as in production."""
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when the test process dies, so a killed test run leaves no
    server or worker behind (PR_SET_PDEATHSIG). SIGINT goes back to its default: a test run
    started in the background of a non-interactive shell inherits it ignored, and a Prefect
    worker stops on SIGTERM by sending itself SIGINT (it hung instead, 30 s and killed)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    except (AttributeError, OSError):
        pass


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=_die_with_parent)


def stop(process: subprocess.Popen) -> None:
    """Stop the process and whatever it started in its session; it may have exited already."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_healthy(url: str, server: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"prefect server exited:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {seconds} s:\n{log.read_text()[-2000:]}")


def start_server(folder: Path, server_env: dict | None = None) -> tuple[subprocess.Popen, dict]:
    """A real `prefect server start` on a free port, its state and log in `folder`; returns the
    server process and the environment that points clients, workers and flows at it.
    `server_env`: settings for the server process only (its services' loop intervals, say)."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect-home"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_LOGGING_LEVEL": "INFO", "CLIPMILL_HOME": str(REPO)}
    log = folder / "server.log"
    server = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                   {**env, **(server_env or {})}, log)
    try:
        wait_healthy(api, server, log)
    except BaseException:
        stop(server)
        raise
    return server, env


@contextmanager
def api_client(env: dict):
    """A synchronous Prefect client of the server that `env` points at (from start_server)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        with get_client(sync_client=True) as client:
            yield client


def run(command: list[str], env: dict, timeout: float = 120) -> str:
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def test_a_batch_fans_out_over_two_workers(prefect_server, tmp_path):
    env = {**prefect_server, "CLIPMILL_RUN_ROOT": str(tmp_path / "runs")}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "two-workers",
        "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 2,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": f"clip-{k}", "prompt": f"a dog runs in a park, take {k}"} for k in range(4)],
    }))
    prefect = str(BIN / "prefect")
    run([prefect, "work-pool", "create", "clipmill-gpu", "--type", "process"], env)
    run([prefect, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--name", "gpu-shard"], env)

    workers = [start([prefect, "worker", "start", "--pool", "clipmill-gpu", "--limit", "1", "--name", f"gpu-{i}"],
                     env, tmp_path / f"worker-{i}.log") for i in range(2)]
    try:
        out = run([str(BIN / "python"), "-c",
                   "import json, sys; from clipmill.flows.fanout import fanout_batch; "
                   f"print('RESULT' + json.dumps(fanout_batch({str(spec)!r}, 2, poll_s=1)))"], env, timeout=400)
    finally:
        for worker in workers:
            stop(worker)
    result = json.loads(out.split("RESULT", 1)[1].splitlines()[0])
    assert list(result["shards"].values()) == ["COMPLETED", "COMPLETED"], result
    assert result["counts"]["accepted"] == 4

    # Each worker ran one shard, and the two ran at the same time.
    for i in range(2):
        log = (tmp_path / f"worker-{i}.log").read_text()
        # Idle workers may both try to take one run; the server lets one have it and the
        # other logs that it aborted its submission.
        taken = log.count(f"Worker 'gpu-{i}' submitting flow run") - log.count("Aborted submission of flow run")
        assert taken == 1, log[-3000:]
    runs = json.loads(run([str(BIN / "python"), "-c", """
import json
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
with get_client(sync_client=True) as client:
    runs = client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["gpu-shard"])))
    print(json.dumps([[r.start_time.timestamp(), r.end_time.timestamp(), r.parameters["only_jobs"]] for r in runs]))
"""], env).strip().splitlines()[-1])
    assert sorted(job for _, _, jobs in runs for job in jobs) == [f"clip-{k}" for k in range(4)]
    (start_a, end_a, _), (start_b, end_b, _) = runs
    assert start_a < end_b and start_b < end_a, "the shards ran one after the other, not on two workers"
