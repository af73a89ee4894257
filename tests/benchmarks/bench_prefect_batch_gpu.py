"""GPU benchmark: a real clipmill batch through Prefect on one GPU, 1 and 2 clips in flight.

What runs is the product, end to end: `flows.batch.batch_flow` under a real (temporary)
Prefect server, the real Wan loader reading a diffusers checkpoint from a folder, generation
holding the GPU's global concurrency slot (created as deployments/setup.sh does), stitching,
deflicker, the QA stages, the H.264 encode with ffmpeg, the database and the report. The
checkpoint is the real-size TI2V-5B architecture with random weights, saved once:

    python tests/benchmarks/bench_prefect_batch_gpu.py --save-random /tmp/wan-ti2v-5b-random
    python tests/benchmarks/bench_prefect_batch_gpu.py --source /tmp/wan-ti2v-5b-random \
        --in-flight 2,1 --clips 6,2 --json tests/benchmarks/results/prefect_batch_h200.json
    python tests/benchmarks/bench_prefect_batch_gpu.py --source /tmp/wan-ti2v-5b-random --speed distilled \
        --in-flight 2 --clips 12 --json tests/benchmarks/results/prefect_batch_distilled_h100.json
    python tests/benchmarks/bench_prefect_batch_gpu.py --smoke   # the tiny model on the CPU: checks the script

`--speed distilled` puts `speed: distilled` in the job spec, so the product's own distilled path
runs (the catalogue's profile: TI2V-5B 4 steps, guidance 1.0, so no unconditional pass, Euler at
shift 5). No LoRA is loaded (a fused LoRA leaves a step's cost as it is), so every attempt carries
the product's warning that it ran without one; the JSON counts them (`warnings`).

A worker keeps its model loaded between batches (models.cache), so a one-clip batch first
loads and compiles it; its time is reported (`warm_up_batch_s`) and is not part of the
measured batches. Random weights make every clip noise, so QA's thresholds are opened wide
and each job has one attempt: every stage still runs in full, every clip is accepted, and each
setting does the same work.

Measured from each batch run itself:
- `gpu_busy_fraction`: the mean of NVML's utilisation counter (the share of time some kernel
  ran on the GPU) over the batch flow's wall time, sampled every 50 ms;
  `generation_held_fraction`: the `generate` stage's seconds (GPU held) from the database
  over the same wall time.
- `bare_generation_s_per_clip`: the `generate` stage's seconds per accepted clip from the
  database (the GPU's own time: the wait for the GPU slot behind another clip is not in it), and
  `s_per_accepted_clip_over_bare_generation`, the batch's seconds an accepted clip over it (issue
  #26's target for the distilled profile: within 10 %, so at most 1.10).
- `prefect_overhead_fraction`: for each clip, the time Prefect's engine spends around the
  clip's work (its subflow's wall time outside its task runs' Running spans, from the
  server's own timestamps, plus the task runs times a no-op task's cost on the same server),
  over the clip's wall time. An upper bound: our own glue between tasks counts as Prefect's.
  The engine's own cost alone is `prefect_noop_task_s` x `task_runs_per_clip` +
  `prefect_noop_subflow_s`.

Where the time goes, from the same run:
- `gpu_idle_s`: the GPU's idle seconds (100% minus NVML's utilisation, over each sample) by
  what was going on: "generating" (inside a generation's hold on the GPU), else the task runs
  that were running, else "no task run";
- `outside_task_runs_s_by_gap`: a clip's seconds outside its task runs, by the two tasks
  around them (mean per clip);
- `batch_start_to_first_generation_s`, `last_generation_to_batch_end_s`: the batch's head and
  tail, when nothing can keep the GPU busy.
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# The root last, for `tests.benchmarks` alone: clipmill comes from the installed package, which
# the root's clipmill/ folder would shadow where no editable install is (the device machine).
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from tests.benchmarks.bench_clips_in_flight import OPEN_QA  # noqa: E402
from tests.benchmarks.results_json import emit  # noqa: E402

PROMPTS = [  # distinct prompts: each clip encodes its own text, as a real batch does
    "A golden retriever runs across a sunny park toward a boy holding a red ball",
    "A barista pours latte art into a white cup on a wooden counter, slow push-in",
    "A red sports car drives along a coastal road at sunset, tracking shot",
    "Two girls pass a volleyball on the beach, then high-five",
    "A bottle of perfume on a marble table, soft studio light, the camera orbits slowly",
    "A cyclist rides down a forest trail, morning fog, handheld camera",
    "A chef slices tomatoes on a cutting board in a bright kitchen",
    "A cat jumps onto a windowsill and looks out at the rain",
]


def save_random_checkpoint(folder: Path, smoke: bool) -> None:
    """The real-size TI2V-5B (random weights) as a diffusers folder the real loader reads."""
    import torch
    from diffusers import WanPipeline

    from clipmill.models.tiny_wan import RANDOM_WEIGHTS_MARKER
    from tests.benchmarks.bench_wan_gpu import build_components

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    started = time.perf_counter()
    WanPipeline(**build_components("ti2v-5b", device, smoke)).save_pretrained(folder, safe_serialization=True)
    (folder / RANDOM_WEIGHTS_MARKER).write_text("random weights of the real TI2V-5B architecture, for benchmarks\n")
    print(f"saved {folder} in {time.perf_counter() - started:.1f} s", flush=True)


def write_spec(folder: Path, name: str, source: str | None, clips: int, args: argparse.Namespace,
               steps: int | None, qa_device: str = "auto") -> Path:
    """The batch's spec; `args.speed` (quality, fast, distilled) goes into its defaults as the
    job field the product reads, so its own profile decides steps and guidance."""
    models: dict = {"clip_pretrained": "random", "detector": "random"}
    if qa_device != "auto":
        models["qa_device"] = qa_device
    defaults: dict = {"model": "tiny" if source is None else "wan2.2-ti2v-5b", "width": args.width, "height": args.height,
                      "frames": args.frames, "fps": 24, "max_attempts": 1,
                      # random weights make noise no image-quality check passes: measured, recorded, not failing
                      "qa": {**OPEN_QA, "enforce_image_quality": False}}
    if source is not None:
        models.update(generator_source={"wan2.2-ti2v-5b": source}, memory_profile="resident")
    if steps:
        defaults["steps"] = steps
    if args.speed != "quality":
        defaults["speed"] = args.speed
    spec = {"name": name, "models": models, "defaults": defaults,
            "jobs": [{"id": f"clip-{n}", "prompt": PROMPTS[n % len(PROMPTS)], "seed": n} for n in range(clips)]}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


class UtilisationSampler:
    """NVML's GPU utilisation every `every_s` seconds, in a thread; nothing off a GPU."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        try:
            import pynvml

            pynvml.nvmlInit()
            index = int((os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0])
            self._handle, self._nvml = pynvml.nvmlDeviceGetHandleByIndex(index), pynvml
        except Exception:  # no NVIDIA driver: the CPU smoke run
            self._handle = None
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def __enter__(self) -> UtilisationSampler:
        if self._handle is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._handle is not None:
            self._thread.join()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.samples.append((time.time(), self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu))

    def busy_fraction(self, start: float, end: float) -> float | None:
        window = [util for at, util in self.samples if start <= at <= end]
        return round(statistics.fmean(window) / 100, 4) if window else None


def noop_task_seconds(runs: int = 50) -> float:
    """Wall seconds of one task run that does nothing, on this server: Prefect's cost per task."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    @task(cache_policy=NO_CACHE)
    def nothing() -> None:
        return None

    @flow
    def many() -> float:
        nothing()  # the first one sets up the task engine
        started = time.perf_counter()
        for _ in range(runs):
            nothing()
        return (time.perf_counter() - started) / runs

    return many()


def noop_subflow_seconds(runs: int = 10) -> float:
    """Wall seconds of one subflow run that does nothing: what a clip's own flow run costs."""
    from prefect import flow

    @flow
    def empty() -> None:
        return None

    @flow
    def parent() -> float:
        empty()
        started = time.perf_counter()
        for _ in range(runs):
            empty()
        return (time.perf_counter() - started) / runs

    return parent()


CLIP_HALVES = ("make_clip", "judge_and_encode")


def batch_task_runs(batch_name: str) -> tuple[list[dict], list[dict]]:
    """The batch's clip subflows (wall time, task runs' Running spans, the gaps between them) and
    every task run of the batch as (name, start, end) in epoch seconds, from the server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterTags

    time.sleep(3)  # task run states reach the server as events: let the last ones land
    clips, spans = [], []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"batch:{batch_name}"])))
        for run in runs:
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            # A task's key is its function's name and a hash: "check_clip-1a2b3c". The clip's two
            # halves (tasks/clip.py) span the steps inside them: left out, so a gap between two
            # steps is still one.
            timed = sorted(((t.task_key.rsplit("-", 1)[0], t.start_time.timestamp(), t.end_time.timestamp())
                            for t in tasks if t.start_time and t.end_time
                            and t.task_key.rsplit("-", 1)[0] not in CLIP_HALVES), key=lambda span: span[1])
            spans += [{"task": name, "start": start, "end": end} for name, start, end in timed]
            if run.parent_task_run_id is None:
                continue
            start, end = run.start_time.timestamp(), run.end_time.timestamp()
            clips.append({"job": run.name, "wall_s": end - start, "task_runs": len(tasks),
                          "gaps": _gaps(timed, start, end)})
    return clips, spans


def _gaps(timed: list[tuple[str, float, float]], start: float, end: float) -> dict[str, float]:
    """Seconds of a clip flow outside its task runs, by where they fall ("stitch ->
    deflicker_clip"): the engine's and our own code between two tasks. Overlapping task runs (QA
    beside the encode) leave no gap between them."""
    gaps: dict[str, float] = {}
    previous, reached = "(flow start)", start
    for name, task_start, task_end in [*timed, ("(flow end)", end, end)]:
        if task_start > reached:
            key = f"{previous} -> {name}"
            gaps[key] = gaps.get(key, 0.0) + task_start - reached
        if task_end > reached:
            previous, reached = name, task_end
    return gaps


def idle_gpu_seconds(samples: list[tuple[float, int]], held: list[tuple[float, float]], spans: list[dict],
                     start: float, end: float) -> dict[str, float]:
    """Where the GPU's idle time went: each sample's idle share (100 - utilisation) of its
    interval, put under what was going on then: "generating" (a generation held the GPU: its
    CPU side), else the tasks that were running ("check_clip + encode_clip"), else "no task
    run". run_clip and clip_flow (the subflow's own task run in the batch), which span whole
    clips, are left out of the names."""
    idle: dict[str, float] = {}
    window = [(at, util) for at, util in samples if start <= at <= end]
    for (at, util), (next_at, _) in zip(window, window[1:]):
        if util >= 100:
            continue
        middle = (at + next_at) / 2
        if any(s <= middle <= e for s, e in held):
            label = "generating"
        else:
            running = sorted({span["task"] for span in spans if span["task"] not in ("run_clip", "clip_flow")
                              and span["start"] <= middle <= span["end"]})
            label = " + ".join(running) or "no task run"
        idle[label] = idle.get(label, 0.0) + (next_at - at) * (100 - util) / 100
    return {label: round(seconds, 2) for label, seconds in sorted(idle.items(), key=lambda item: -item[1])}


class HeldSpans:
    """The wall-clock spans in which a generation held the GPU (`VideoGenerator._run`, text
    encoding to frames on the host), recorded around the real method; nothing else changes."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []

    def __enter__(self) -> HeldSpans:
        from clipmill.models.wan import VideoGenerator

        self._real = real = VideoGenerator._run
        spans = self.spans

        def timed_run(generator, *args, **kwargs):
            started = time.time()
            try:
                return real(generator, *args, **kwargs)
            finally:
                spans.append((started, time.time()))

        VideoGenerator._run = timed_run
        return self

    def __exit__(self, *exc) -> None:
        from clipmill.models.wan import VideoGenerator

        VideoGenerator._run = self._real


def run_batch(folder: Path, name: str, source: str | None, clips: int, in_flight: int, args, noop_s: float,
              steps: int | None, qa_device: str = "auto") -> dict:
    from clipmill.flows.batch import batch_flow
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.reports import batch_report

    spec = write_spec(folder, name, source, clips, args, steps, qa_device)
    with UtilisationSampler() as sampler, HeldSpans() as held_recorder:
        start = time.time()
        result = batch_flow(str(spec), str(folder / "run"), clips_in_flight=in_flight)
        end = time.time()
    wall = end - start
    with session_scope(init_db(result["database"])) as session:
        report = batch_report(session, name)
    attempts = [a for job in report["jobs"] for a in job["attempts"]]
    held = sum((a.get("timings") or {}).get("generate", 0.0) for a in attempts)
    accepted = sum(1 for job in report["jobs"] if job["status"] == "accepted")
    accepted_held = sum((a.get("timings") or {}).get("generate", 0.0) for job in report["jobs"]
                        if job["status"] == "accepted" for a in job["attempts"])
    bare = accepted_held / accepted if accepted else None
    warnings = sorted({event["reason"] for a in attempts for event in a.get("events") or []
                       if event["kind"] == "warning" and event["reason"]})
    per_clip, spans = batch_task_runs(name)
    held_spans = held_recorder.spans
    # Outside every task run: the gaps, so that QA and the encode, which overlap, count once.
    outside = [sum(c["gaps"].values()) for c in per_clip]
    overheads = [gap + c["task_runs"] * noop_s for gap, c in zip(outside, per_clip)]
    clip_wall = sum(c["wall_s"] for c in per_clip)
    return {
        "clips_in_flight": in_flight, "clips": clips, "accepted": accepted, "attempts": len(attempts),
        "wall_s": round(wall, 2), "s_per_accepted_clip": round(wall / accepted, 2) if accepted else None,
        "gpu_busy_fraction": sampler.busy_fraction(start, end),
        "generation_held_s": round(held, 2), "generation_held_fraction": round(held / wall, 4),
        "generate_s_per_clip": round(held / max(1, len(attempts)), 2),
        "bare_generation_s_per_clip": round(bare, 2) if bare else None,
        "s_per_accepted_clip_over_bare_generation": round(wall / accepted / bare, 3) if bare else None,
        "first_attempt_params": attempts[0]["params"] if attempts else None,  # steps and guidance as run
        "warnings": {"attempts_with_warnings": sum(1 for a in attempts if any(e["kind"] == "warning"
                                                                              for e in a.get("events") or [])),
                     "distinct": warnings},
        "task_runs_per_clip": round(statistics.fmean(c["task_runs"] for c in per_clip), 1) if per_clip else None,
        "prefect_overhead_s_per_clip": round(statistics.fmean(overheads), 3) if overheads else None,
        "prefect_overhead_fraction": round(sum(overheads) / clip_wall, 5) if clip_wall else None,
        "outside_task_runs_s_per_clip": round(statistics.fmean(outside), 3) if outside else None,
        "clip_wall_s": [round(c["wall_s"], 2) for c in per_clip],
        "outside_task_runs_s_by_gap": {gap: round(statistics.fmean(c["gaps"].get(gap, 0.0) for c in per_clip), 3)
                                       for gap in sorted({g for c in per_clip for g in c["gaps"]})},
        "gpu_idle_s": idle_gpu_seconds(sampler.samples, held_spans, spans, start, end),
        "batch_start_to_first_generation_s": round(min(s for s, _ in held_spans) - start, 2) if held_spans else None,
        "last_generation_to_batch_end_s": round(end - max(e for _, e in held_spans), 2) if held_spans else None,
        "stage_s": {stage: round(sum((a.get("timings") or {}).get(stage, 0.0) for a in attempts) / max(1, len(attempts)), 2)
                    for stage in sorted({s for a in attempts for s in (a.get("timings") or {})})},
    }


def create_gpu_slot() -> None:
    """The GPU's global concurrency limit, as deployments/setup.sh creates it for each GPU."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    from clipmill.tasks.concurrency import gpu_slot_name

    import torch

    name = gpu_slot_name(torch.device("cuda", 0))
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save-random", type=Path, help="write the random-weight checkpoint here and stop")
    parser.add_argument("--source", help="the checkpoint folder (or hub id) the batch loads")
    parser.add_argument("--in-flight", default="2,1", help="comma list of clips_in_flight settings, run in this order")
    parser.add_argument("--clips", default="6", help="clips of each setting's batch: one number, or one per setting")
    parser.add_argument("--qa-device", default="auto",
                        help="the spec's models.qa_device (cpu, cuda; auto: unset, the GPU when there is one) for "
                             "each setting: one, or one per setting")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=704)
    parser.add_argument("--frames", type=int, default=121)
    parser.add_argument("--steps", type=int, help="denoising steps [the speed profile's: 50 quality, 4 distilled]")
    parser.add_argument("--speed", choices=("quality", "fast", "distilled"), default="quality",
                        help="the jobs' `speed` field: distilled runs the catalogue's distilled profile")
    parser.add_argument("--smoke", action="store_true", help="the tiny model, small clips: checks the script")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.save_random:
        save_random_checkpoint(args.save_random, args.smoke)
        return
    if args.smoke:
        args.width, args.height, args.frames = 64, 64, 17
        if args.speed != "distilled":  # distilled: the tiny model's own profile (2 steps)
            args.steps = args.steps or 4
    elif not args.source:
        parser.error("--source is needed (or --smoke)")

    import torch
    from prefect.testing.utilities import prefect_test_harness

    on_gpu = torch.cuda.is_available()
    results: dict = {"gpu": torch.cuda.get_device_name(0) if on_gpu else "cpu", "host_cpus": os.cpu_count(),
                     "model": "tiny" if args.smoke else "wan2.2-ti2v-5b", "random_weights": True,
                     "width": args.width, "height": args.height, "frames": args.frames,
                     "speed": args.speed, "steps": args.steps,  # filled in from the first batch's attempts
                     "python": platform.python_version(),
                     "torch": torch.__version__, "host": socket.gethostname()}
    source = None if args.smoke else args.source
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        if on_gpu:
            create_gpu_slot()
        folder = Path(tmp)
        started = time.perf_counter()
        # Loads the checkpoint and compiles: shapes, not steps, decide what compiles. Same speed
        # profile as the measured batches (guidance 1.0 skips the unconditional pass).
        run_batch(folder / "warm-up", "warm-up", source, 1, 1, args, 0.0, steps=2)
        results["warm_up_batch_s"] = round(time.perf_counter() - started, 1)
        results["prefect_noop_task_s"] = round(noop_task_seconds(), 4)
        results["prefect_noop_subflow_s"] = round(noop_subflow_seconds(), 4)
        settings = [int(n) for n in args.in_flight.split(",")]
        clips = [int(n) for n in args.clips.split(",")]
        clips += clips[-1:] * (len(settings) - len(clips))
        qa_devices = args.qa_device.split(",")
        qa_devices += qa_devices[-1:] * (len(settings) - len(qa_devices))
        results["runs"] = []
        for number, (in_flight, n_clips, qa_device) in enumerate(zip(settings, clips, qa_devices)):
            name = f"in-flight-{in_flight}-qa-{qa_device.replace(':', '')}-{number}"
            run = run_batch(folder / name, name, source, n_clips, in_flight, args, results["prefect_noop_task_s"],
                            args.steps, qa_device)
            run["qa_device"] = qa_device
            print(f"{in_flight} in flight, QA on {qa_device}: {run['wall_s']:.1f} s wall, {run['s_per_accepted_clip']} s/accepted clip "
                  f"(bare generation {run['bare_generation_s_per_clip']} s, ratio "
                  f"{run['s_per_accepted_clip_over_bare_generation']}), "
                  f"GPU busy {run['gpu_busy_fraction']}, held {run['generation_held_fraction']}, Prefect overhead "
                  f"{run['prefect_overhead_fraction']} ({run['accepted']}/{n_clips} accepted)", flush=True)
            results["runs"].append(run)
            # The top-level keys come from the first setting's batch (2 in flight: the worker's
            # default); written after every batch so that a run cut short keeps what it measured.
            first = results["runs"][0]
            # The steps the product's speed profile chose (JobSpec.initial_params), as run
            results["steps"] = (first["first_attempt_params"] or {}).get("steps", results["steps"])
            results.update({key: first[key] for key in ("clips", "clips_in_flight", "gpu_busy_fraction",
                                                        "prefect_overhead_fraction", "s_per_accepted_clip",
                                                        "bare_generation_s_per_clip",
                                                        "s_per_accepted_clip_over_bare_generation")})
            emit(results, args.json)


if __name__ == "__main__":
    main()
