"""Which device and precision a model runs on, what GPUs this process can see, and which
thread a model's calls run on: the in-process half of a device's exclusivity. How these
threads fit with the GPU's Prefect slot, cancellation, time limits and the job lease is
described in one place: tasks/concurrency.py."""
from __future__ import annotations

import contextvars
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

import torch

T = TypeVar("T")

# The model thread of the QA and gate models (detector, CLIP, open-vocabulary detector).
JUDGE = "judge"

_registry_lock = threading.Lock()


class _ModelThread:
    """One daemon thread that runs the calls queued on it, one at a time, for the process's life."""

    def __init__(self, role: str) -> None:
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=f"clipmill-model-{role}", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            future, context, fn, args, kwargs = self._calls.get()
            try:
                future.set_result(context.run(fn, *args, **kwargs))
            except BaseException as error:  # the caller re-raises it
                future.set_exception(error)

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        if threading.current_thread() is self.thread:  # a model call made from inside another one
            return fn(*args, **kwargs)
        future: Future = Future()
        self._calls.put((future, contextvars.copy_context(), fn, args, kwargs))
        return wait_interruptibly(future)


# How often a thread waiting for a model call wakes. A wait on a lock cannot be interrupted
# by an exception sent to the thread (Prefect's task timeout in a worker thread); a wait in
# short slices takes it within one slice.
_WAIT_SLICE_S = 0.5


def wait_interruptibly(future: Future) -> T:
    """`future.result()`, waited for in slices so that the waiting thread stays interruptible."""
    while True:
        try:
            return future.result(timeout=_WAIT_SLICE_S)
        except TimeoutError:
            if future.done():  # it ended meanwhile, or the call itself raised a TimeoutError
                return future.result()


_model_threads: dict[str, _ModelThread] = {}


def run_on_model_thread(role: str, fn: Callable[..., T], *args, **kwargs) -> T:
    """`fn(*args, **kwargs)` on this process's long-lived thread for `role`, waited for.

    Why a thread of its own: cuDNN's tuned convolution algorithms are kept per thread (PyTorch
    caches its cuDNN v8 execution plans `thread_local`, and `cudnn.benchmark` is on for the Wan
    VAE), while a batch runs every clip in a new thread of its task runner. Called from those
    threads, a model re-benchmarks every convolution shape once per thread: on the H200, with
    another clip generating beside it, the first clip of each thread spent 72 and 82 s in QA
    instead of 7. Run on one thread that outlives the batch, the tuning is done once per process
    (what that gave a batch: docs/benchmarks.md).

    Roles: `JUDGE` (the QA and gate models) and "generate:<device>". Calls of
    one role run one at a time, in the order they came: for "generate:<device>" that queue is
    the process's whole in-process exclusivity of the device (models.wan). The call runs in a
    copy of the caller's context (Prefect's run context included, so it can log to the run),
    and what it raises is raised here. A caller interrupted while it waits (a task timeout)
    stops waiting; the call itself runs on, to its end.
    """
    with _registry_lock:
        worker = _model_threads.get(role)
        if worker is None:
            worker = _model_threads[role] = _ModelThread(role)
    return worker.call(fn, *args, **kwargs)


def on_model_thread(role: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: every call of the function runs on the model thread `role` (see `run_on_model_thread`)."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def call(*args, **kwargs) -> T:
            return run_on_model_thread(role, fn, *args, **kwargs)

        return call

    return wrap


def pick_device(preferred: str | None = None) -> torch.device:
    """Choose the device to load models on.

    Args:
        preferred: "cpu", "cuda" or "cuda:N"; None picks the first GPU when there is one. Each
            worker is expected to see one GPU (through `CUDA_VISIBLE_DEVICES`), so "cuda" is
            normally the right answer on a GPU machine.

    Raises:
        RuntimeError: A GPU was asked for and this process cannot see it.
    """
    if preferred is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    device = torch.device(preferred)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {preferred!r} was asked for but this process sees no CUDA GPU")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {preferred!r} was asked for but this process sees only "
                f"{torch.cuda.device_count()} GPU(s); check CUDA_VISIBLE_DEVICES"
            )
    return device


def default_dtype(device: torch.device | str) -> torch.dtype:
    """bfloat16 on GPUs (what Wan2.2 is trained and served in), float32 on CPU (where bf16 is slow)."""
    return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32


def gpu_summary() -> list[dict]:
    """Name and memory of every GPU this process can see, for `clipmill doctor`.

    Returns:
        One dict per GPU with keys `index`, `name`, `total_gib`, `free_gib`; an empty list
        without CUDA.
    """
    if not torch.cuda.is_available():
        return []
    summary = []
    for index in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(index)
        summary.append(
            {
                "index": index,
                "name": torch.cuda.get_device_name(index),
                "total_gib": round(total / 2**30, 2),
                "free_gib": round(free / 2**30, 2),
            }
        )
    return summary
