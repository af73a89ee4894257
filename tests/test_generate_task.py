"""Generation-task logic that needs no model: cancellation within a step, model defaults."""
import pytest

from clipmill.spec import parse_spec
from tasks.generate import CancelWatch, GenerationCancelled, check_job_fits_model, initial_params


def test_cancel_watch_raises_once_the_run_is_cancelling():
    states = [["RUNNING"], ["RUNNING", "CANCELLING"]]
    watch = CancelWatch(lambda: states.pop(0), every_s=0)
    watch.check()
    with pytest.raises(GenerationCancelled, match="cancelling"):
        watch.check()


def test_cancel_watch_asks_the_api_at_most_every_interval():
    calls = []
    watch = CancelWatch(lambda: calls.append(1) or ["RUNNING"], every_s=3600)
    for _ in range(50):
        watch.check()
    assert len(calls) == 1


def test_cancelled_generation_stops_within_a_step():
    from models.wan import GenerationRequest, load_generator

    generator = load_generator("tiny")
    steps_seen = []
    # The run turns "cancelled" while step 2 runs: no step after it may start.
    watch = CancelWatch(lambda: ["CANCELLED"] if len(steps_seen) >= 2 else ["RUNNING"], every_s=0)

    def on_step(step, total):
        steps_seen.append(step)
        watch.check()

    with pytest.raises(GenerationCancelled):
        generator.generate(GenerationRequest(prompt="a dog", width=64, height=64, num_frames=5, steps=6,
                                             guidance=5.0, seed=0), on_step=on_step)
    assert steps_seen == [1, 2]


def job(**fields):
    return parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "a dog runs", **fields}]}).jobs[0]


def test_initial_params_take_model_defaults_and_the_fast_profile():
    assert initial_params(job(model="wan2.2-ti2v-5b", width=1280, height=704)).steps == 50
    assert initial_params(job(model="wan2.2-ti2v-5b", speed="fast")).steps == 16
    assert initial_params(job(model="wan2.2-t2v-a14b", guidance=2.5)).guidance == 2.5
    assert initial_params(job(steps=7, speed="fast")).steps == 7


@pytest.mark.parametrize("fields, words", [
    ({"model": "wan2.2-ti2v-5b", "width": 1280, "height": 720}, "multiples of 32"),
    ({"model": "wan2.2-i2v-a14b"}, "image-to-video only"),
    ({"model": "wan2.2-t2v-a14b", "frames": 33, "segments": 2}, "cannot continue segments"),
])
def test_jobs_a_model_cannot_make_are_refused_before_gpu_time(fields, words):
    with pytest.raises(ValueError, match=words):
        check_job_fits_model(job(**fields))
