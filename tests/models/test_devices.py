import numpy as np
import pytest
import torch

from clipmill.models.devices import default_dtype, gpu_summary, pick_device


def test_pick_device_prefers_cuda_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device().type == expected


def test_pick_device_honours_cpu():
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_pick_device_refuses_missing_gpu():
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        pick_device("cuda")


def test_default_dtype():
    assert default_dtype("cpu") == torch.float32
    assert default_dtype(torch.device("cuda")) == torch.bfloat16


def test_gpu_summary_matches_visible_gpus():
    summary = gpu_summary()
    assert len(summary) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    for gpu in summary:
        assert set(gpu) == {"index", "name", "total_gib", "free_gib"}
        assert 0 <= gpu["free_gib"] <= gpu["total_gib"]


def test_model_calls_run_on_one_long_lived_thread_whichever_thread_asks():
    # cuDNN keeps its tuned algorithms per thread: a model called from each clip's new thread
    # would tune them again every time, so the calls must all land on one thread.
    import threading

    from clipmill.models.devices import run_on_model_thread

    seen, callers = [], []

    def where() -> str:
        seen.append(threading.current_thread())
        return threading.current_thread().name

    def ask() -> None:
        callers.append(threading.current_thread())
        run_on_model_thread("test-role", where)

    for _ in range(3):  # a new caller thread each time, as a batch's task runner makes them
        caller = threading.Thread(target=ask)
        caller.start()
        caller.join()
    assert len(seen) == 3 and len(set(seen)) == 1
    assert seen[0] not in callers and seen[0].daemon
    assert run_on_model_thread("another-role", where) != seen[0].name


def test_a_model_thread_call_keeps_the_callers_context_raises_its_errors_and_may_nest():
    import contextvars

    from clipmill.models.devices import run_on_model_thread

    run = contextvars.ContextVar("run", default=None)
    run.set("flow-run-7")  # Prefect's run context is a context variable: logging needs it there
    assert run_on_model_thread("test-role", run.get) == "flow-run-7"

    def bad() -> None:
        raise torch.OutOfMemoryError("injected")

    with pytest.raises(torch.OutOfMemoryError, match="injected"):
        run_on_model_thread("test-role", bad)
    # A call from inside a call on the same thread runs at once instead of waiting for itself.
    assert run_on_model_thread("test-role", lambda: run_on_model_thread("test-role", lambda: 5)) == 5


def test_generation_detection_and_clip_scoring_run_on_their_model_threads(tiny_clip_name, monkeypatch):
    import threading

    from clipmill.models.clip import load_clip_scorer
    from clipmill.models.detector import load_detector
    from clipmill.models.wan import default_request, load_generator

    threads: dict[str, set[str]] = {"generate": set(), "detect": set(), "clip": set()}

    def recorded(kind, call):
        def wrapped(*args, **kwargs):
            threads[kind].add(threading.current_thread().name)
            return call(*args, **kwargs)
        return wrapped

    # Not the session's tiny_generator fixture: a later module clears the model cache.
    tiny_generator = load_generator("tiny")
    detector, scorer = load_detector("random"), load_clip_scorer(tiny_clip_name, "random")
    monkeypatch.setattr(tiny_generator, "_run", recorded("generate", tiny_generator._run))
    monkeypatch.setattr(detector.model, "predict", recorded("detect", detector.model.predict))
    monkeypatch.setattr(scorer.model, "encode_image", recorded("clip", scorer.model.encode_image))
    frames = np.zeros((2, 64, 64, 3), np.uint8)

    def one_clip() -> None:
        tiny_generator.generate(default_request("tiny", "a dog", num_frames=5, width=64, height=64, steps=1))
        detector.detect(frames, track=False)
        scorer.text_video_similarity(frames, "a dog", samples=1)

    for _ in range(2):
        caller = threading.Thread(target=one_clip)
        caller.start()
        caller.join()
    assert threads == {"generate": {f"clipmill-model-generate:{tiny_generator.device}"},
                       "detect": {"clipmill-model-judge"}, "clip": {"clipmill-model-judge"}}
