"""Who runs where, what each lock guards, and when each thread ends: the one page.

A worker process makes several clips at once (flows/batch.py keeps `clips_in_flight` clip
flows running in threads of a Prefect ThreadPoolTaskRunner), so that one clip's CPU stages
(stitch, deflicker, encode) run while the next one generates. The GPU itself stays exclusive.

Threads
-------
- **Clip threads** (Prefect's task runner, flows/batch.py): one clip flow each; a clip's
  QA runs beside its encode in a second runner thread (tasks/clip.py `judge_and_encode`).
  End when the clip flow returns.
- **Model threads** (models/devices.py `run_on_model_thread`): one per role, started at the
  role's first call, daemon, living as long as the process. "generate:<device>" runs every
  generation on that device; "judge" runs the QA and gate models. Calls of one role run one
  at a time, in the order they came. Why threads of their own: cuDNN keeps its tuning per
  thread, and clip threads come and go.
- **Cancel watch** (`CancelWatch`, one per generation, started by tasks/clip.py's
  `generate_segment`): asks the API every 2 s whether the clip's run or its batch is
  cancelling, so the denoising step callback only reads a flag. Stopped and joined when the
  generation ends; a read in flight bounds the join (`STATE_READ_TIMEOUT_S`).
- **Lease heartbeat** (storage/leases.py `JobLease`, one per job, opened by the clip flow):
  renews the job's lease every third of its length, and stops renewing while a step is past
  its time limit (below). Stopped and joined when the clip flow leaves the lease.
- **Prefect's timeout watcher** (Prefect, one per timed task run in a worker thread): at the
  limit it raises `TaskRunTimeoutError` in the task's thread. That exception only lands when
  the thread runs Python: never inside a CUDA kernel, a blocking C call or a wait on a lock.
  Waits for a model thread are made in slices (models/devices.py `wait_interruptibly`) so
  that it lands there within half a second.

Exclusivity of a GPU, in order
------------------------------
1. **In this process**: the device's "generate:<device>" model thread. Its queue is the
   order; no lock besides it.
2. **Across processes** (a served deployment beside a worker on one GPU): the Prefect global
   concurrency limit `gpu-<host>-<physical index>` (limit 1, deployments/setup.sh), taken by
   `gpu_slot` on the model thread once the call's turn has come (`VideoGenerator.generate`'s
   `hold_device`), and released when the generation ends. In this order, clips of one worker
   hand the GPU over the moment one lets go, and only other processes ever poll the slot
   (a denied slot is retried after about a generation's length, up to 30 s). Prefect's client
   renews the slot's own lease while it is held; a dead process's slot frees when it expires.

Other locks: models/cache.py (one load per model, however many threads ask),
models/imports.py (diffusers' lazy imports, once, on one thread), the registry lock of
models/devices.py, and `JobLease`'s lock over the deadlines of the steps running now.

Time limits, and what a timeout really does
-------------------------------------------
Generation, QA and encode tasks declare `timeout_seconds` (`GENERATE_TIMEOUT_S`,
`CHECK_TIMEOUT_S`, `ENCODE_TIMEOUT_S`, each configurable through the environment) and are
wrapped in `lease_lapses_at_timeout`, which tells the job's lease the step's deadline.

- A generation past its deadline stops at its next denoising step (`CancelWatch.check`
  raises `GenerationTimedOut`, a TimeoutError): the GPU and its slot are freed, the task run
  ends Failed "TimedOut", and it is not retried.
- A generation hung inside a kernel never reaches a step. Prefect's exception reaches the
  task's thread, waiting in slices, and the task ends TimedOut; the model thread stays stuck,
  holding its queue and the slot, so this process's later generations wait and time out in
  turn (the worker needs a restart; the GPU needs a look).
- A task whose own thread is stuck (a C call, a child process waited for) is never ended by
  Prefect. The lease does not depend on it: past the deadline the heartbeat stops renewing,
  the lease runs out within `CLIPMILL_LEASE_SECONDS`, and another run can take the job over.
"""
from __future__ import annotations

import contextvars
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from prefect.concurrency.sync import concurrency

from clipmill.storage.leases import current_lease
from clipmill.tasks.common import MODEL_TASK, GenerationCancelled, GenerationTimedOut

P = ParamSpec("P")
R = TypeVar("R")


def _seconds_from_env(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise ValueError(f"{name}={value!r} must be a positive number of seconds")
    return seconds


# Read when the tasks are declared (at import): set them in the worker's environment.
#
# One segment's generation. The heaviest request the catalogue allows, Wan2.2 A14B at
# 1280x704 with 121 frames, 40 steps and CFG, has four times the tokens of the 5B's 720p clip
# (109,120 against 27,280) and nearly three times its weights per step: by that arithmetic
# 15-20 minutes on an H200, where the 5B clip takes 1.5, and several times that on a slower
# GPU with offloading. Two hours leaves that room; a generation hung in a kernel still lets go
# of its job within one lease after it.
GENERATE_TIMEOUT_S = _seconds_from_env("CLIPMILL_GENERATE_TIMEOUT_S", 7200.0)
# One clip's QA: detection on the sampled frames (yolov8n ~65 ms a frame on two CPU cores),
# CLIP scores, temporal metrics: seconds to a few minutes for a four-segment clip on a CPU.
# Thirty minutes is reached only by a stuck model call.
CHECK_TIMEOUT_S = _seconds_from_env("CLIPMILL_CHECK_TIMEOUT_S", 1800.0)
# One MP4 through ffmpeg: libx264 medium encodes ~28 fps at 832x480 on two cores, so a
# four-segment 1280x704 clip takes about a minute; fifteen leave room for a loaded machine.
ENCODE_TIMEOUT_S = _seconds_from_env("CLIPMILL_ENCODE_TIMEOUT_S", 900.0)

# Task settings of the QA and encode tasks: model work with a time limit.
QA_TASK = {**MODEL_TASK, "timeout_seconds": CHECK_TIMEOUT_S}
ENCODE_TASK = {**MODEL_TASK, "timeout_seconds": ENCODE_TIMEOUT_S}


class _KnownWorkerThreadTimeout(logging.Filter):
    """Drops Prefect's warning, logged for every timed task run in a worker thread (every clip
    step here), that its timeout cannot interrupt a blocking call. True, and handled: the waits
    on model threads are sliced, and the lease lapses whatever the thread does (page above).
    A warning on every step of every clip would teach a reader to ignore warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout of %s seconds configured for this task, but the task is "
                                              "running in a worker thread")


logging.getLogger("prefect.task_runs").addFilter(_KnownWorkerThreadTimeout())


_task_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("clipmill_task_deadline", default=None)


def task_deadline() -> float | None:
    """The running task's deadline (`time.monotonic()`), set by `lease_lapses_at_timeout`."""
    return _task_deadline.get()


def lease_lapses_at_timeout(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator, placed under `@task(timeout_seconds=...)`: the task's deadline (its start
    plus the timeout) goes to the job's lease, if this context holds one, which is not renewed
    while the task runs past it. `task_deadline()` reads it inside the task."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        from prefect.context import TaskRunContext

        context = TaskRunContext.get()
        timeout_s = context.task.timeout_seconds if context is not None else None
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        lease = current_lease()
        token = _task_deadline.set(deadline)
        try:
            if deadline is None or lease is None:
                return fn(*args, **kwargs)
            with lease.working_until(deadline):
                return fn(*args, **kwargs)
        finally:
            _task_deadline.reset(token)

    return run


def gpu_slot_name(device) -> str | None:
    """The Prefect global concurrency limit that stands for one physical GPU of this host
    (`gpu-<host>-<index>`, created with limit 1 by deployments/setup.sh), so that a served
    process and a worker on the same GPU never generate at once; None off the GPU. The index
    is the physical one: CUDA_VISIBLE_DEVICES renumbers what the process sees from 0."""
    if getattr(device, "type", str(device)) != "cuda":
        return None
    visible = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    index = device.index or 0
    physical = visible[index] if index < len(visible) else str(index)
    return f"gpu-{socket.gethostname()}-{physical}"


@contextmanager
def gpu_slot(device) -> Iterator[None]:
    """Hold this GPU's global concurrency slot, when it has one. Entered on the device's model
    thread once the generation's turn in this process has come (see the page above: the order
    matters)."""
    name = gpu_slot_name(device)
    if name is None:
        yield
        return
    with concurrency(name, occupy=1, strict=False):
        yield


# A state read that takes longer is abandoned: the watch must end soon after its generation.
STATE_READ_TIMEOUT_S = 5.0


def prefect_run_states() -> list[str]:
    """State types of the current flow run and its root (the batch); [] when unknown."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_ids = {i for i in (flow_run.get_id(), flow_run.get_root_flow_run_id()) if i}
    try:
        with get_client(httpx_settings={"timeout": STATE_READ_TIMEOUT_S}, sync_client=True) as client:
            states = [client.read_flow_run(run_id).state for run_id in run_ids]
    except Exception:  # an unreachable API must not stop GPU work that may well be wanted
        return []
    return [state.type.value for state in states if state is not None]


class CancelWatch:
    """Stops a generation within one denoising step of its run being seen cancelling, or of
    its `deadline` (`time.monotonic()`) passing.

    Used as a context manager around the generation: a thread beside it asks `read_states`
    (the states of this flow run and the batch above it) every `every_s` seconds, and the
    step callback, `check`, only reads what it found. Asked from the callback itself, the
    API's answer came between two denoising steps, with the GPU idle until it did (about every
    step at 720p on the H200, where a step takes 1.7 s). Leaving the context stops the thread
    and joins it.
    """

    def __init__(self, read_states: Callable[[], list[str]], every_s: float = 2.0,
                 deadline: float | None = None) -> None:
        self.read_states = read_states
        self.every_s = every_s
        self.deadline = deadline
        self.seen: str | None = None  # "cancelling" or "cancelled", once the watcher saw it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CancelWatch:
        # In this run's context: read_states asks about the run that started the generation.
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._watch,), name="clipmill-cancel-watch",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        # A read in flight ends within its timeout; the bound only guards against a client
        # that retries. A watch still reading then ends at its next look at the stop flag.
        self._thread.join(timeout=2 * STATE_READ_TIMEOUT_S)

    def _watch(self) -> None:
        while not self._stop.is_set():
            cancelling = {"CANCELLING", "CANCELLED"} & set(self.read_states())
            if cancelling:
                self.seen = cancelling.pop().lower()
                return
            self._stop.wait(self.every_s)

    def check(self) -> None:
        """Raise GenerationCancelled once the run was seen cancelling, GenerationTimedOut once
        the deadline has passed; called between denoising steps."""
        if self.seen:
            raise GenerationCancelled(f"run is {self.seen}: generation stopped")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise GenerationTimedOut("generation ran past its task's time limit (CLIPMILL_GENERATE_TIMEOUT_S): "
                                     "stopped at a denoising step")
