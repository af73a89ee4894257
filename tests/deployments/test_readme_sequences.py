"""The command blocks of README.md's "Prefect: dashboard, schedules, workers", run as written
against a fresh `prefect server start`: one GPU, then several GPUs, then serve.py beside them.

What the test changes in a block: the server's address (the one in the block becomes a free
port on 127.0.0.1); a worker started in the foreground goes to the background (with job
control on, as in a terminal); and where the workers of a block have started, the test waits
until each has reported to the server and stops them with SIGTERM, so that `prefect deployment
run` leaves its run scheduled instead of running a batch. The GPUs are named for
deployments/setup.sh through CLIPMILL_GPUS on the one-GPU host and by an `nvidia-smi` that
lists four GPUs on the several-GPU host."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.flows.test_workers import BIN, REPO, api_client, start, start_server, stop

pytestmark = pytest.mark.slow

SECTION = "## Prefect: dashboard, schedules, workers"
SECTION_END = "#### Artifacts on a shared store"
ADDRESSES = ("http://127.0.0.1:4200/api", "http://prefect-host:4200/api")
HOST = socket.gethostname()

# Defined before each block: waits until the block's background workers have reported to
# the server (a heartbeat after the block started), then stops them with SIGTERM. Each must
# still be running, stop within 30 s and exit 0, or the block fails.
PRELUDE = r"""PS4='+ $EPOCHREALTIME '
set -ex
clipmill_test_stop_workers() {
  "$CLIPMILL_TEST_PYTHON" -c "$CLIPMILL_TEST_WAIT_WORKERS"
  local pids pid i
  pids=$(jobs -p)
  kill $pids
  for pid in $pids; do
    for i in $(seq 60); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
    if kill -0 $pid 2>/dev/null; then echo "worker $pid did not stop on SIGTERM" >&2; kill -9 $pid; return 1; fi
    wait $pid
  done
}
"""

# Plain HTTP against the server's REST API: a Prefect client would take seconds to import.
WAIT_WORKERS = r"""
import json, os, sys, time, urllib.request
from datetime import datetime, timezone
since = datetime.fromtimestamp(float(os.environ["CLIPMILL_TEST_SINCE"]), timezone.utc)
expected = json.loads(os.environ["CLIPMILL_TEST_WORKERS"])

def reported(pool):
    request = urllib.request.Request(f"{os.environ['PREFECT_API_URL']}/work_pools/{pool}/workers/filter",
                                     data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        workers = json.load(response)
    return sorted(w["name"] for w in workers if w["last_heartbeat_time"]
                  and datetime.fromisoformat(w["last_heartbeat_time"].replace("Z", "+00:00")) >= since)

deadline = time.monotonic() + 150
while True:
    seen = {pool: reported(pool) for pool in expected}
    if all(len(seen[pool]) >= n for pool, n in expected.items()):
        print("workers online:", seen)
        break
    if time.monotonic() > deadline:
        sys.exit(f"workers not online after 150 s: {seen}, expected {expected}")
    time.sleep(0.5)
"""


def section_blocks() -> dict[str, str]:
    """The bash blocks of the section, by what they are for."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):text.index(SECTION_END)]
    one_host, several = section.split("### Several GPUs or hosts")
    bash = lambda part: re.findall(r"```bash\n(.*?)```", part, re.S)  # noqa: E731
    one_gpu = [b for b in bash(one_host) if "deployments/setup.sh" in b]
    serve = [b for b in bash(one_host) if "deployments/serve.py" in b]
    several_gpus = [b for b in bash(several) if "deployments/setup.sh" in b]
    assert len(one_gpu) == len(serve) == len(several_gpus) == 1, section
    return {"one-gpu": one_gpu[0], "serve": serve[0], "several-gpus": several_gpus[0]}


def as_test_script(block: str, api: str) -> str:
    for address in ADDRESSES:
        block = block.replace(address, api)
    assert f"export PREFECT_API_URL={api}" in block, f"the block must point the commands at a server:\n{block}"
    lines = []
    stopped = False
    for line in block.splitlines():
        code, hash_, comment = line.partition("  #")
        if "prefect worker start" in code and not code.rstrip().endswith("&"):
            lines.append("set -m  # the test's: a background job in a script ignores SIGINT otherwise")
            line = f"{code.rstrip()} &" + (f"  #{comment}" if hash_ else "")
        if "prefect deployment run" in code and not stopped:
            lines.append("clipmill_test_stop_workers")
            stopped = True
        lines.append(line)
    if not stopped:
        lines.append("clipmill_test_stop_workers")
    return PRELUDE + "\n".join(lines) + "\n"


def kill_marked(marker: str) -> None:
    """Kill what a block left running: the processes that carry its marker in their environment."""
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes().split(b"\0"):
                os.kill(int(environ.parent.name), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def run_block(name: str, block: str, server_env: dict, tmp_path, workers: dict, extra_env: dict) -> str:
    """Run one README block in bash from the repository root; every command must exit 0."""
    script = tmp_path / f"{name}.sh"
    script.write_text(as_test_script(block, server_env["PREFECT_API_URL"]))
    marker = f"CLIPMILL_TEST_BLOCK={uuid.uuid4()}"  # in the environment of all it starts
    env = {key: value for key, value in server_env.items()
           if key not in ("PREFECT_API_URL", "PREFECT_WORKER_QUERY_SECONDS", "CLIPMILL_HOME")}
    env.update(extra_env, CLIPMILL_TEST_PYTHON=str(BIN / "python"), CLIPMILL_TEST_WAIT_WORKERS=WAIT_WORKERS,
               CLIPMILL_TEST_WORKERS=json.dumps(workers), CLIPMILL_TEST_SINCE=str(time.time() - 1))
    env.update([marker.split("=", 1)])
    log = tmp_path / f"{name}.log"
    bash = start(["bash", str(script)], env, log)
    try:
        rc = bash.wait(timeout=300)
    except subprocess.TimeoutExpired:
        rc = "timeout"
    finally:
        stop(bash)
        kill_marked(marker)
    output = log.read_text()
    assert rc == 0, f"{name} ({script}) exited {rc}:\n{output[-6000:]}"
    return output


def server_view(env: dict) -> dict:
    """Deployments (by flow/name), global concurrency limits and flow runs, as the server has them."""
    with api_client(env) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        deployments = {f"{flows[d.flow_id]}/{d.name}": d for d in client.read_deployments()}
        # Deployments' own concurrency limits are global limits named deployment:<id>.
        limits = {limit.name: limit for limit in client.read_global_concurrency_limits(limit=100)
                  if not limit.name.startswith("deployment:")}
        runs = client.read_flow_runs()
    return {"deployments": deployments, "limits": limits, "runs": runs}


def test_readme_sequences_work_as_written_on_a_fresh_server(tmp_path):
    blocks = section_blocks()
    project = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    entry_flows = {"flows/batch.py:batch_flow": "clipmill-batch", "flows/fanout.py:fanout_batch": "clipmill-fanout",
                   "flows/trending.py:trending_poller": "clipmill-trending-poller"}
    expected_pools = {f"{entry_flows[d['entrypoint']]}/{d['name']}": d["work_pool"]["name"]
                      for d in project["deployments"]}

    fake_gpus = tmp_path / "bin"
    fake_gpus.mkdir()
    (fake_gpus / "nvidia-smi").write_text(
        '#!/bin/sh\n[ "$*" = "--query-gpu=index --format=csv,noheader" ] || exit 9\nprintf "0\\n1\\n2\\n3\\n"\n')
    (fake_gpus / "nvidia-smi").chmod(0o755)

    server, env = start_server(tmp_path)
    try:
        # One GPU: the pools, this host's GPU 0 limit, every deployment, a worker on each pool
        # (no deployment waits "Not Ready" on a pool nobody polls) and the file server.
        log = run_block("one-gpu", blocks["one-gpu"], env, tmp_path, {"clipmill-gpu": 1, "clipmill-control": 1},
                        {"CLIPMILL_GPUS": "0"})
        assert "serving " in log and "read-only at http://127.0.0.1:8700/" in log, log[-3000:]
        view = server_view(env)
        assert {name: d.work_pool_name for name, d in view["deployments"].items()} == expected_pools
        # The poller waits, paused, for real sources instead of failing every 30 minutes.
        assert {name for name, d in view["deployments"].items() if d.paused} == {
            "clipmill-trending-poller/trending-poller"}
        with api_client(env) as client:
            assert client.read_variable_by_name("clipmill_public_url").value == "http://127.0.0.1:8700"
        assert {name: limit.limit for name, limit in view["limits"].items()} == {f"gpu-{HOST}-0": 1}

        # Several GPUs, on the same server: setup.sh again (pools and GPU 0's limit exist), four
        # GPU workers and the control worker, then a fan-out run.
        log = run_block("several-gpus", blocks["several-gpus"], env, tmp_path,
                        {"clipmill-gpu": 4, "clipmill-control": 1}, {"PATH": f"{fake_gpus}:{env['PATH']}"})
        assert "setup: work pool clipmill-gpu exists" in log and f"gpu-{HOST}-0 exists" in log, log[-3000:]
        view = server_view(env)
        assert {name: d.work_pool_name for name, d in view["deployments"].items()} == expected_pools
        assert {name: (limit.limit, limit.active) for name, limit in view["limits"].items()} == {
            f"gpu-{HOST}-{i}": (1, True) for i in range(4)}
        fanout = view["deployments"]["clipmill-fanout/fanout"]
        runs = [r for r in view["runs"] if r.deployment_id == fanout.id]
        assert len(runs) == 1 and not runs[0].auto_scheduled, runs
        assert runs[0].parameters == {"spec_path": "deployments/specs/demo.yaml", "shards": 4}, runs[0].parameters
        assert runs[0].state_type.value == "SCHEDULED", runs[0].state
        with api_client(env) as client:
            gpu_workers = sorted(w.name for w in client.read_workers_for_work_pool("clipmill-gpu"))
        assert set(gpu_workers) >= {f"gpu-{HOST}-{i}" for i in range(4)}, gpu_workers

        # serve.py beside the work-pool deployments: a deployment of its own, paused when it stops.
        serve_line = next(line for line in blocks["serve"].splitlines() if "serve.py" in line)
        command = serve_line.split("  #")[0].split()
        serve_env = {**env, "PREFECT_LOGGING_LEVEL": "INFO"}
        served = start(command, serve_env, tmp_path / "serve.log")
        try:
            # READY: the runner has polled for its runs, so it is serving (and handles SIGTERM).
            deadline = time.monotonic() + 60
            while True:
                view = server_view(env)
                served_deployment = view["deployments"].get("clipmill-batch/nightly-batch-served")
                if served_deployment and served_deployment.status.value == "READY":
                    break
                assert served.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
                time.sleep(0.5)
        finally:
            stop(served)
        deployments = view["deployments"]
        served_deployment = deployments["clipmill-batch/nightly-batch-served"]
        nightly = deployments["clipmill-batch/nightly-batch"]
        assert served_deployment.work_pool_name is None and not served_deployment.paused
        assert served_deployment.schedules[0].schedule.cron == nightly.schedules[0].schedule.cron
        assert served_deployment.schedules[0].schedule.timezone == nightly.schedules[0].schedule.timezone
        assert served_deployment.parameters == nightly.parameters
        assert nightly.work_pool_name == "clipmill-gpu" and not nightly.paused

        # Stopped: the served deployment is paused and its future runs are gone; the pool's
        # nightly batch keeps its pool, its schedule and its runs.
        after = server_view(env)
        assert after["deployments"]["clipmill-batch/nightly-batch-served"].paused, \
            (tmp_path / "serve.log").read_text()[-3000:]
        assert not [r for r in after["runs"] if r.deployment_id == served_deployment.id
                    and r.state_type.value == "SCHEDULED"]
        assert not after["deployments"]["clipmill-batch/nightly-batch"].paused
        assert after["deployments"]["clipmill-batch/nightly-batch"].work_pool_name == "clipmill-gpu"
        nightly_runs = [r for r in after["runs"] if r.deployment_id == nightly.id and r.auto_scheduled]
        assert nightly_runs and all(r.expected_start_time > datetime.now(timezone.utc) for r in nightly_runs)
    finally:
        stop(server)
