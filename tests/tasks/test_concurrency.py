"""Generation-task logic: cancellation within a step, one generation per physical GPU."""
import threading
import time
from types import SimpleNamespace

import pytest

from clipmill.tasks.generate import CancelWatch, GenerationCancelled, gpu_slot, gpu_slot_name


def _wait_until(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_cancel_watch_raises_once_the_run_is_cancelling():
    cancelling = threading.Event()
    with CancelWatch(lambda: ["RUNNING", "CANCELLING"] if cancelling.is_set() else ["RUNNING"], every_s=0.01) as watch:
        watch.check()
        cancelling.set()
        assert _wait_until(lambda: watch.seen == "cancelling")
        with pytest.raises(GenerationCancelled, match="cancelling"):
            watch.check()


def test_the_step_callback_never_waits_for_the_api():
    # The API is asked beside the generation, at most every interval: a step's check only
    # reads what the watcher found, so the GPU never waits between steps for an answer.
    askers = []

    def slow_states() -> list[str]:
        askers.append(threading.current_thread())
        time.sleep(0.2)
        return ["RUNNING"]

    with CancelWatch(slow_states, every_s=3600) as watch:
        for _ in range(50):
            watch.check()
        assert _wait_until(lambda: len(askers) == 1)
    assert threading.current_thread() not in askers and len(askers) == 1


def test_cancelled_generation_stops_within_a_step():
    from clipmill.models.wan import GenerationRequest, load_generator

    generator = load_generator("tiny")
    steps_seen = []
    # The run turns "cancelled" while step 2 runs: no step after it may start.
    watch = CancelWatch(lambda: ["CANCELLED"] if len(steps_seen) >= 2 else ["RUNNING"], every_s=0.01)

    def on_step(step, total):
        steps_seen.append(step)
        if step == 2:
            assert _wait_until(lambda: watch.seen is not None)  # the watcher's next look sees it
        watch.check()

    with watch, pytest.raises(GenerationCancelled):
        generator.generate(GenerationRequest(prompt="a dog", width=64, height=64, num_frames=5, steps=6,
                                             guidance=5.0, seed=0), on_step=on_step)
    assert steps_seen == [1, 2]


def test_gpu_slot_names_the_physical_gpu_of_this_host(monkeypatch):
    import socket

    host = socket.gethostname()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert gpu_slot_name(SimpleNamespace(type="cuda", index=1)) == f"gpu-{host}-5"
    assert gpu_slot_name(SimpleNamespace(type="cuda", index=None)) == f"gpu-{host}-3"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert gpu_slot_name(SimpleNamespace(type="cuda", index=2)) == f"gpu-{host}-2"
    assert gpu_slot_name(SimpleNamespace(type="cpu", index=None)) is None


def test_a_gpu_slot_held_elsewhere_makes_the_next_generation_wait(harness, monkeypatch):
    """The global concurrency limit, on a real server: while another process (a served
    deployment, another worker) holds the GPU's slot, a generation here waits, and says how long."""
    import torch
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    device = torch.device("cuda", 0)  # only named: nothing here touches a GPU
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=gpu_slot_name(device), limit=1))
    held, waits = threading.Event(), []

    def other_process():  # holds the slot through the server, as another process would
        with concurrency(gpu_slot_name(device), occupy=1):
            held.set()
            time.sleep(2.0)

    holder = threading.Thread(target=other_process)
    holder.start()
    held.wait(10)
    with gpu_slot(device) as waited_s:
        waits.append(waited_s)
    holder.join()
    assert waits[0] >= 1.0


def test_clips_of_one_worker_queue_in_process_and_never_poll_the_gpu_slot(monkeypatch):
    """A second clip of the same worker waits on the process's own lock and asks the server
    for the slot only once the first clip has let go: a denied slot is retried after about a
    generation's length (Prefect's Retry-After), which would leave the GPU idle."""
    import contextlib

    import torch

    import clipmill.tasks.generate

    events, lock = [], threading.Lock()

    @contextlib.contextmanager
    def recording_concurrency(name, occupy, strict):
        with lock:
            events.append(("ask", threading.current_thread().name))
        yield
        with lock:
            events.append(("release", threading.current_thread().name))

    monkeypatch.setattr(clipmill.tasks.generate, "concurrency", recording_concurrency)
    device, first_holds = torch.device("cuda", 0), threading.Event()

    def first():
        with gpu_slot(device):
            first_holds.set()
            time.sleep(0.5)

    holder = threading.Thread(target=first, name="first")
    holder.start()
    first_holds.wait(10)
    with gpu_slot(device) as waited_s:
        pass
    holder.join()
    assert events == [("ask", "first"), ("release", "first"), ("ask", "MainThread"), ("release", "MainThread")]
    assert waited_s >= 0.3
