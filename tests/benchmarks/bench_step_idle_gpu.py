"""GPU benchmark: how long the GPU idles while a generation holds it, by where the cancel check asks the API.

The real Wan loader reading the random-weight TI2V-5B checkpoint (see bench_prefect_batch_gpu.py
--save-random), its default 1280x704, 121 frames, inside a real flow run on a temporary Prefect
server, NVML's utilisation sampled every 50 ms over each generation. Two ways to watch for a
cancelled run, interleaved so that drift shows:
- `in_callback`: as generation did before, the step callback asks the API (this flow run and its
  root) every 2 s itself, between two denoising steps;
- `beside`: `tasks.concurrency.CancelWatch`, which asks from a thread beside the generation.

    python tests/benchmarks/bench_step_idle_gpu.py --source /tmp/wan5b --steps 16 --json tests/benchmarks/results/step_idle_h200.json
    python tests/benchmarks/bench_step_idle_gpu.py --smoke   # the tiny model on the CPU: checks the script
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

from tests.benchmarks.bench_prefect_batch_gpu import UtilisationSampler  # noqa: E402
from tests.benchmarks.results_json import emit  # noqa: E402


class CheckInCallback:
    """The cancel check as it was: the step callback itself asks the API, at most every 2 s."""

    def __init__(self, read_states, every_s: float = 2.0) -> None:
        self.read_states, self.every_s, self._last = read_states, every_s, float("-inf")

    def __enter__(self) -> CheckInCallback:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def check(self) -> None:
        from clipmill.tasks.common import GenerationCancelled

        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            if {"CANCELLING", "CANCELLED"} & set(self.read_states()):
                raise GenerationCancelled("cancelled")


def measure(model: str, source: str | None, steps: int, rounds: int) -> dict:
    from prefect import flow

    from clipmill.models.wan import default_request, load_generator
    from clipmill.tasks.concurrency import CancelWatch, prefect_run_states

    @flow(name="step-idle")
    def run() -> dict:
        generator = load_generator(model, source, profile=None if source is None else "resident")
        request = default_request(model, "A golden retriever runs across a sunny park", steps=steps)
        generator.generate(dataclasses.replace(request, steps=2))  # loads and compiles: shapes decide
        results: dict = {"in_callback": [], "beside": []}
        for _ in range(rounds):
            for name, watch in (("in_callback", CheckInCallback(prefect_run_states)), ("beside", CancelWatch(prefect_run_states))):
                with UtilisationSampler() as sampler, watch:
                    start = time.time()
                    run = generator.generate(request, on_step=lambda step, total: watch.check())
                    end = time.time()
                busy = sampler.busy_fraction(start, end)
                results[name].append({"s": round(end - start, 2), "gpu_busy_fraction": busy,
                                      "idle_s": round((1 - busy) * (end - start), 2) if busy is not None else None,
                                      **{k: round(getattr(run, k), 3) for k in ("device_s", "waited_s", "encode_s",
                                                                                 "denoise_s", "decode_s")}})
        return results

    return run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", help="the random-weight checkpoint folder")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.smoke and not args.source:
        parser.error("--source is needed (or --smoke)")

    import torch
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        runs = measure("tiny" if args.smoke else "wan2.2-ti2v-5b", None if args.smoke else args.source,
                       args.steps, args.rounds)
    results = {"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
               "model": "tiny" if args.smoke else "wan2.2-ti2v-5b", "random_weights": True, "steps": args.steps,
               "torch": torch.__version__, "runs": runs,
               "idle_s_per_step": {name: round(statistics.fmean(r["idle_s"] for r in rs) / args.steps, 4)
                                   for name, rs in runs.items() if rs and rs[0]["idle_s"] is not None},
               "command": "python tests/benchmarks/bench_step_idle_gpu.py " + " ".join(sys.argv[1:])}
    emit(results, args.json)


if __name__ == "__main__":
    main()
