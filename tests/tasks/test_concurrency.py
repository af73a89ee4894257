"""Where generations run and for how long: cancellation and time limits within a step, one
generation per GPU in this process and across processes, task timeouts and the job lease."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from clipmill.tasks.common import GenerationCancelled, GenerationTimedOut
from clipmill.tasks.concurrency import CancelWatch, gpu_slot, gpu_slot_name


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


def _small_request(**overrides):
    from clipmill.models.wan import GenerationRequest

    fields = dict(prompt="a dog", width=64, height=64, num_frames=5, steps=6, guidance=5.0, seed=0)
    return GenerationRequest(**{**fields, **overrides})


def test_the_watch_thread_is_joined_when_the_generation_ends():
    with CancelWatch(lambda: ["RUNNING"], every_s=0.01) as watch:
        assert _wait_until(lambda: watch._thread.is_alive())
    assert not watch._thread.is_alive()
    assert not [t for t in threading.enumerate() if t.name == "clipmill-cancel-watch"]


def test_a_generation_past_its_deadline_stops_at_the_next_step_and_frees_the_device():
    from clipmill.models.wan import load_generator

    generator = load_generator("tiny")
    steps_seen = []

    def slow_step(step, total):
        steps_seen.append(step)
        time.sleep(0.2)
        watch.check()

    with CancelWatch(lambda: ["RUNNING"], every_s=3600, deadline=time.monotonic() + 0.3) as watch:
        with pytest.raises(GenerationTimedOut, match="time limit"):
            generator.generate(_small_request(), on_step=slow_step)
    assert steps_seen == [1, 2]
    assert generator.generate(_small_request(steps=1)).frames.shape[0] == 5  # the device is free again


@pytest.mark.slow  # on the session's real Prefect server, which costs 16-20 s to start
def test_a_gpu_slot_held_elsewhere_makes_the_next_generation_wait(harness, monkeypatch):
    """The global concurrency limit, on a real server: while another process (a served
    deployment, another worker) holds the GPU's slot, a generation here waits."""
    import torch
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.sync import concurrency

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    device = torch.device("cuda", 0)  # only named: nothing here touches a GPU
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=gpu_slot_name(device), limit=1))
    held = threading.Event()

    def other_process():  # holds the slot through the server, as another process would
        with concurrency(gpu_slot_name(device), occupy=1):
            held.set()
            time.sleep(2.0)

    holder = threading.Thread(target=other_process)
    holder.start()
    held.wait(10)
    asked = time.monotonic()
    with gpu_slot(device):
        waited_s = time.monotonic() - asked
    holder.join()
    assert waited_s >= 1.0


def test_clips_of_one_worker_queue_on_the_model_thread_and_never_poll_the_gpu_slot():
    """A second clip of the same worker waits in the device's queue and asks for the slot
    (`hold_device`) only once the first clip has let go: a denied slot is retried after about
    a generation's length (Prefect's Retry-After), which would leave the GPU idle."""
    from clipmill.models.wan import load_generator

    generator = load_generator("tiny")
    events, first_holds = [], threading.Event()

    def recording_slot(clip):
        @contextmanager
        def hold():
            events.append(("ask", clip, threading.current_thread().name))
            if clip == "first":
                first_holds.set()
                time.sleep(0.5)
            yield
            events.append(("release", clip, threading.current_thread().name))

        return hold

    first = threading.Thread(target=generator.generate, args=(_small_request(steps=1),),
                             kwargs={"hold_device": recording_slot("first")})
    first.start()
    first_holds.wait(10)
    second = generator.generate(_small_request(steps=1), hold_device=recording_slot("second"))
    first.join()
    model_thread = f"clipmill-model-generate:{generator.device}"
    assert events == [("ask", "first", model_thread), ("release", "first", model_thread),
                      ("ask", "second", model_thread), ("release", "second", model_thread)]
    assert second.waited_s >= 0.3 and second.device_s > 0


@pytest.mark.slow  # on the session's real Prefect server, which costs 16-20 s to start
def test_a_task_past_its_timeout_is_timed_out_by_prefect_though_its_model_call_hangs(harness):
    """Prefect's timeout reaches a clip thread that waits for a hung model call (the wait is
    sliced); the task ends TimedOut and is not retried. The model call itself runs on."""
    from prefect import task

    from clipmill.models.devices import run_on_model_thread
    from clipmill.tasks.common import retry_on_infrastructure_error

    hung = threading.Event()
    calls = []

    @task(timeout_seconds=0.5, retries=2, retry_delay_seconds=0, retry_condition_fn=retry_on_infrastructure_error)
    def hung_generation() -> None:
        calls.append(1)
        run_on_model_thread("test-hung-generation", hung.wait)

    started = time.monotonic()
    with ThreadPoolExecutor(1) as clip_thread:  # a worker thread, as every clip runs in
        state = clip_thread.submit(hung_generation, return_state=True).result(timeout=60)
    hung.set()
    assert state.is_failed() and state.name == "TimedOut", state
    assert isinstance(state.result(raise_on_failure=False), TimeoutError)
    assert len(calls) == 1 and time.monotonic() - started < 10


@pytest.mark.slow  # on the session's real Prefect server, which costs 16-20 s to start
def test_a_hung_step_stops_renewing_its_job_lease_after_its_deadline(harness, tmp_path):
    """A step stuck where no exception reaches it (here a wait on a lock; on a GPU, a kernel):
    Prefect cannot end it, yet past the task's deadline the heartbeat stops and another run
    takes the job over once the lease runs out."""
    from prefect import task

    from clipmill.storage import repository as repo
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.leases import JobLease
    from clipmill.storage.schema import Batch
    from clipmill.tasks.concurrency import lease_lapses_at_timeout, task_deadline

    db_url = f"sqlite:///{tmp_path / 'clipmill.db'}"
    with session_scope(init_db(db_url)) as session:
        batch = Batch(name="b", spec_path="s", spec_sha256="0", run_dir="r")
        session.add(batch)
        session.flush()
        job_id = repo.upsert_job(session, batch, key="j", prompt="p", model="tiny", params={}).id
    stuck, released, deadlines = threading.Event(), threading.Event(), []

    @task(timeout_seconds=1.0)
    @lease_lapses_at_timeout
    def hung_generation() -> None:
        deadlines.append(task_deadline())
        stuck.set()
        released.wait()  # never interrupted: a lock wait takes no exception

    def clip_flow() -> None:
        with JobLease(db_url, job_id, lease_s=0.9):
            hung_generation(return_state=True)

    with ThreadPoolExecutor(1) as clip_thread:
        running = clip_thread.submit(clip_flow)
        try:
            assert stuck.wait(30)
            with JobLease(db_url, job_id, lease_s=30) as early:
                assert not early.held  # before the deadline the heartbeat keeps it
            time.sleep(1.0 + 0.9 + 0.5)  # past the deadline, then the lease runs out
            with JobLease(db_url, job_id, lease_s=30) as other_run:
                assert other_run.held, "the hung step's lease was still renewed"
        finally:
            released.set()
        running.result(timeout=30)
    assert deadlines[0] is not None


def test_generation_qa_and_encode_declare_their_time_limits_and_hand_them_to_the_lease():
    from clipmill.tasks.clip import check_clip, encode_clip, generate_segment
    from clipmill.tasks.concurrency import CHECK_TIMEOUT_S, ENCODE_TIMEOUT_S, GENERATE_TIMEOUT_S

    limits = {step: step.timeout_seconds for step in (generate_segment, check_clip, encode_clip)}
    assert list(limits.values()) == [GENERATE_TIMEOUT_S, CHECK_TIMEOUT_S, ENCODE_TIMEOUT_S]
    for step in limits:  # lease_lapses_at_timeout wraps the function the task runs
        assert step.fn.__wrapped__.__name__ == step.fn.__name__


def test_time_limits_come_from_the_environment_and_bad_ones_are_named(monkeypatch):
    from clipmill.tasks.concurrency import _seconds_from_env

    monkeypatch.delenv("CLIPMILL_TEST_LIMIT_S", raising=False)
    assert _seconds_from_env("CLIPMILL_TEST_LIMIT_S", 60.0) == 60.0
    monkeypatch.setenv("CLIPMILL_TEST_LIMIT_S", "90")
    assert _seconds_from_env("CLIPMILL_TEST_LIMIT_S", 60.0) == 90.0
    for bad in ("soon", "0", "-5"):
        monkeypatch.setenv("CLIPMILL_TEST_LIMIT_S", bad)
        with pytest.raises(ValueError, match="CLIPMILL_TEST_LIMIT_S"):
            _seconds_from_env("CLIPMILL_TEST_LIMIT_S", 60.0)
