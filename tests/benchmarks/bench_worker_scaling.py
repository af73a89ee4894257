"""Prefect worker scaling on CPU: one batch fanned out over 1, 2, 4 process workers.

What runs is what an operator runs (see tests/flows/test_workers.py): a real `prefect server
start`, the `gpu-shard` deployment of deployments/prefect.yaml on the `clipmill-gpu` process pool,
N `prefect worker start --pool clipmill-gpu --limit 1` workers, and `flows.fanout.fanout_batch`
splitting the batch into N shards. The jobs are identical tiny (random-weight) text-to-video clips
with QA opened so each is accepted on its first attempt: every run does the same work.

    .venv/bin/python tests/benchmarks/bench_worker_scaling.py --json tests/benchmarks/results/worker_scaling_cpu.json
    .venv/bin/python tests/benchmarks/bench_worker_scaling.py --smoke     # 2 jobs, 1 and 2 workers

The wall time of a run goes from the fanout flow's call to its return (report written). The
workers are already polling by then, but each shard is a fresh flow-run process that imports
torch and builds its models, so that start-up is in the wall, as it is in production.
Throughput = accepted clips / wall s; efficiency(N) = throughput(N) / (N x throughput(1)).
Each run also records its shards (worker, state, start and end after submission), the submission
races the workers lost, and the clips' mean seconds by stage: how much of a slowdown is inside
the work rather than in orchestration.

The tiny backend is CPU-bound: on a machine with fewer cores than workers it cannot scale, and the
numbers measure Prefect's orchestration under CPU contention, not GPU scaling
(tests/benchmarks/bench_gpu_scaling.py measures that).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import fsspec
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[2]

from tests.benchmarks.results_json import emit  # noqa: E402
from tests.flows.test_workers import BIN, run, start, start_server, stop  # noqa: E402

POOL = "clipmill-gpu"
SUBMITTED_RE = re.compile(r"Worker '[^']+' submitting flow run '([0-9a-f-]+)'")
ABORTED_RE = re.compile(r"Aborted submission of flow run '([0-9a-f-]+)'")
NOTE = ("The tiny backend is CPU-bound, so N workers on {cpus} cores can only scale as far as there are "
        "free cores: these numbers measure Prefect's orchestration under CPU contention, not GPU scaling.")



def batch_spec(name: str, jobs: int) -> dict:
    """The spec of tests/flows/test_workers.py: random judges, QA opened so every clip passes at once."""
    return {
        "name": name,
        "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 2,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": f"clip-{k}", "prompt": f"a dog runs in a park, take {k}"} for k in range(jobs)],
    }


def submit(args: argparse.Namespace) -> None:
    """Hidden mode, in its own process with the server's env: time one fanout, read its shards back."""
    from prefect.client.orchestration import get_client

    from clipmill.flows.fanout import fanout_batch

    submitted = time.time()
    result = fanout_batch(str(args.submit), args.shards, poll_s=0.5)
    finished = time.time()
    with get_client(sync_client=True) as client:
        shards = [client.read_flow_run(run_id) for run_id in result["shards"]]
    args.out.write_text(json.dumps({
        "submitted": submitted, "finished": finished, "result": result,
        "shards": [{"id": str(r.id), "state": r.state.type.value, "jobs": r.parameters["only_jobs"],
                    "started_s": round(r.start_time.timestamp() - submitted, 2) if r.start_time else None,
                    "ended_s": round(r.end_time.timestamp() - submitted, 2) if r.end_time else None}
                   for r in shards],
    }, default=str))


def stop_tree(process) -> None:
    """Stop a process group and everything it started.

    Prefect's process worker runs each flow run in a session of its own, out of reach of a
    SIGTERM to the worker's group; so the descendants are listed before the worker is stopped
    and any that outlive it are stopped one by one.
    """
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    with contextlib.suppress(ProcessLookupError):
        stop(process)
    for child in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    for child in psutil.wait_procs(descendants, timeout=10)[1]:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def wait_polling(api: str, names: list[str], workers: list, logs: list[Path], seconds: float = 180) -> None:
    """Until the server has a heartbeat from every worker: its polling loop starts alongside."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker, log in zip(workers, logs):
            if worker.poll() is not None:
                raise SystemExit(f"a worker exited at start-up:\n{log.read_text()[-2000:]}")
        request = urllib.request.Request(f"{api}/work_pools/{POOL}/workers/filter", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            online = {w["name"] for w in json.load(response) if w["status"] == "ONLINE"}
        if online >= set(names):
            return
        time.sleep(0.5)
    raise SystemExit(f"workers not online after {seconds} s")


def shard_workers(names: list[str], logs: list[Path]) -> tuple[dict[str, str], int]:
    """Which worker ran each flow run, and how many submission races the workers lost.

    Idle workers race for each scheduled run: every one logs "submitting", the server lets one
    move it to Pending and the others log "Aborted submission". The winner ran it.
    """
    taken_by, lost_races = {}, 0
    for name, log in zip(names, logs):
        text = log.read_text()
        aborted = set(ABORTED_RE.findall(text))
        lost_races += len(aborted)
        taken_by.update((run_id, name) for run_id in set(SUBMITTED_RE.findall(text)) - aborted)
    return taken_by, lost_races


def stage_seconds(report_url: str) -> tuple[int, dict[str, float]]:
    """Attempts, and their mean seconds by stage (each shard's first clip includes model loading):
    separates contention inside the clips' work from orchestration and process start-up."""
    with fsspec.open(report_url, "rt") as report_file:  # a path, or a URL in $CLIPMILL_ARTIFACT_URL's store
        report = json.load(report_file)
    attempts = [attempt for job in report["jobs"] for attempt in job["attempts"]]
    totals: dict[str, float] = {}
    for attempt in attempts:
        for stage, seconds in (attempt["timings"] or {}).items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    return len(attempts), {stage: round(total / len(attempts), 2) for stage, total in totals.items()}


def run_batch(workers: int, args: argparse.Namespace, env: dict, scratch: Path, processes: list) -> dict:
    folder = scratch / f"{workers}-workers"
    folder.mkdir()
    spec = folder / "spec.yaml"
    # A batch name of its own, so a shared CLIPMILL_DATABASE_URL (PostgreSQL) starts a fresh batch
    # instead of resuming an earlier run's accepted jobs.
    spec.write_text(yaml.safe_dump(batch_spec(f"worker-scaling-{workers}w-{int(time.time())}", args.jobs)))
    # A fresh run root, hence a fresh SQLite database when CLIPMILL_DATABASE_URL is unset.
    run_env = {**env, "CLIPMILL_RUN_ROOT": str(folder / "runs")}
    # Flow runs inherit their worker's environment, so this caps torch's threads in every shard.
    threads = str(args.threads_per_worker)
    worker_env = {**run_env, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}

    names = [f"w{workers}-{i}" for i in range(workers)]
    logs = [folder / f"worker-{name}.log" for name in names]
    pool = [start([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--limit", "1", "--name", name],
                  worker_env, log) for name, log in zip(names, logs)]
    processes += pool
    wait_polling(env["PREFECT_API_URL"], names, pool, logs)

    load_before = os.getloadavg()[0]
    out = folder / "fanout.json"
    run([sys.executable, str(Path(__file__).resolve()), "--submit", str(spec), "--shards", str(workers),
         "--out", str(out)], run_env, timeout=args.timeout)
    for worker in pool:
        stop_tree(worker)
        processes.remove(worker)

    fanout = json.loads(out.read_text())
    taken_by, lost_races = shard_workers(names, logs)
    shards = [{**shard, "worker": taken_by.get(shard["id"])} for shard in fanout["shards"]]
    attempts, stage_s = stage_seconds(fanout["result"]["report"])
    wall = fanout["finished"] - fanout["submitted"]
    accepted = fanout["result"]["counts"].get("accepted", 0)
    result = {"workers": workers, "shards": shards, "counts": fanout["result"]["counts"], "accepted": accepted,
              "attempts": attempts, "stage_s_per_attempt": stage_s,
              "lost_submission_races": lost_races, "wall_s": round(wall, 2), "clips_per_s": round(accepted / wall, 5),
              "load_average_1min_before": round(load_before, 2)}
    print(json.dumps({k: v for k, v in result.items() if k != "shards"}), flush=True)
    for shard in shards:
        print(f"  shard on {shard['worker']}: {shard['state']}, {len(shard['jobs'])} job(s), "
              f"ran {shard['started_s']}..{shard['ended_s']} s after submission", flush=True)
    return result


def measure(args: argparse.Namespace, scratch: Path, processes: list) -> dict:
    server, env = start_server(scratch)
    processes.append(server)
    prefect = str(BIN / "prefect")
    run([prefect, "work-pool", "create", POOL, "--type", "process"], env)
    run([prefect, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--name", "gpu-shard"], env)

    runs = [run_batch(workers, args, env, scratch, processes) for workers in args.workers]
    base = next((r["clips_per_s"] for r in runs if r["workers"] == 1), None)
    for r in runs:
        r["efficiency"] = round(r["clips_per_s"] / (r["workers"] * base), 4) if base else None
    efficiency = {r["workers"]: r["efficiency"] for r in runs}
    cpus = os.cpu_count()
    return {
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "workers": args.workers, "jobs": args.jobs, "cpu_count": cpus,
        "threads_per_worker": args.threads_per_worker,
        "database": "CLIPMILL_DATABASE_URL" if os.environ.get("CLIPMILL_DATABASE_URL") else "sqlite per run",
        "python": platform.python_version(), "prefect": importlib.metadata.version("prefect"),
        "torch": importlib.metadata.version("torch"),
        "runs": runs,
        "scaling_efficiency_2workers": efficiency.get(2), "scaling_efficiency_4workers": efficiency.get(4),
        "note": NOTE.format(cpus=cpus),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--jobs", type=int, default=8, help="clips in the batch")
    parser.add_argument("--threads-per-worker", type=int,
                        help="torch threads of each worker; default: max(1, cpu_count // most workers)")
    parser.add_argument("--smoke", action="store_true", help="2 jobs over 1 and 2 workers: an end-to-end check")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one batch may take")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--submit", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--shards", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.submit:
        submit(args)
        return
    if args.smoke:
        args.jobs, args.workers = 2, "1,2"
    args.workers = [int(w) for w in args.workers.split(",")]
    if args.threads_per_worker is None:
        args.threads_per_worker = max(1, (os.cpu_count() or 1) // max(args.workers))

    scratch = Path(tempfile.mkdtemp(prefix="clipmill-worker-scaling-"))
    processes: list = []
    try:
        results = measure(args, scratch, processes)
    except BaseException:
        print(f"logs kept in {scratch}", file=sys.stderr)
        raise
    finally:
        for process in processes:
            stop_tree(process)
    shutil.rmtree(scratch)
    emit(results, args.json, shown={k: v for k, v in results.items() if k != "runs"})


if __name__ == "__main__":
    main()
