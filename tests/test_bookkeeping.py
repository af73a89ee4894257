"""The clip flow's bookkeeping on its own, without Prefect or a database: how a job's run ends
and the state it shows, the attempt record's events, and the reproduction record's stored
layout, which `clipmill rerun` reads back."""
import subprocess
import sys

import pytest

from clipmill.bookkeeping import (
    DISK_FULL,
    AttemptRecord,
    ClipRecipe,
    Provenance,
    Reproduction,
    accepted,
    ended,
    skipped,
    stopped_by_full_disk,
)
from clipmill.outcomes import GeneratedSegment, OutcomeStatus
from clipmill.qa.retry import AttemptParams, RetryDecision
from clipmill.spec import JobSpec, ModelSources
from clipmill.statuses import AttemptEventKind, JobStatus

PARAMS = AttemptParams(seed=7, guidance=5.0, segments=2, deflicker_strength=1.0, steps=3)


def test_the_bookkeeping_needs_neither_prefect_nor_a_database():
    loaded = subprocess.run([sys.executable, "-c", "import sys, clipmill.bookkeeping; print(sorted(m for m in "
                             "sys.modules if m.split('.')[0] in ('prefect', 'sqlalchemy', 'torch')))"],
                            capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("end, state", [
    (accepted("a", 2, "clips/a.mp4"), ("COMPLETED", None, "accepted on attempt 2")),
    (ended("a", JobStatus.REJECTED, "below the gate", 1), ("FAILED", "Rejected", "below the gate")),
    (ended("a", JobStatus.FAILED, "barely moves", 3), ("FAILED", "QA failed", "barely moves")),
    (ended("a", JobStatus.ERROR, "broken photo", 1, bad_input=True), ("FAILED", "Bad input", "broken photo")),
    (ended("a", JobStatus.ERROR, "RuntimeError: boom", 1), ("FAILED", "Error", "RuntimeError: boom")),
    (ended("a", JobStatus.CANCELLED, "run is cancelling", 1), ("CANCELLED", None, "run is cancelling")),
    (skipped("a", None), ("CANCELLED", "Skipped", "made by another run")),
    (stopped_by_full_disk("a", "disk full: /runs", 1), ("FAILED", DISK_FULL, "disk full: /runs")),
])
def test_each_way_a_job_ends_has_its_state(end, state):
    assert (end.state_type, end.state_name, end.message) == state
    assert end.outcome.job == "a"


def test_outcomes_carry_what_the_batch_counts():
    assert accepted("a", 2, "clips/a.mp4").outcome.clip == "clips/a.mp4"
    assert skipped("a", "worker-1").outcome.status == OutcomeStatus.SKIPPED
    full = stopped_by_full_disk("a", "disk full", 2).outcome
    assert (full.status, full.stops_batch, full.attempts) == (JobStatus.INTERRUPTED, "disk full", 2)


def test_an_attempt_records_its_segments_fallbacks_and_decisions(tmp_path):
    record = AttemptRecord(attempt_id=1, number=1, folder=tmp_path)
    for number, fell_back in ((1, None), (2, "fast")):
        record.add_segment(number, GeneratedSegment(
            frames_path=tmp_path / f"segment-{number}.npy", last_frame=tmp_path / "last.png", device="cuda:0 (lean)",
            device_s=2.0, waited_s=0.5, fell_back_from=fell_back))
    assert record.timings == {"generate": 4.0, "gpu_wait": 1.0}
    assert [kind for kind, _ in record.artifacts] == ["segment", "segment"]
    [oom] = record.events
    assert (oom.kind, oom.action, oom.details) == (AttemptEventKind.OOM_FALLBACK, "lighter_profile",
                                                   {"segment": 2, "from": "fast"})

    class Judged:
        class verdict:
            checks = ["a check"]
    record.add_decision(RetryDecision(retry=True, params=PARAMS, reason="flicker", changes={}, action="repair"), Judged)
    record.add_decision(RetryDecision(retry=False, params=None, reason="ok", changes={}, action="accept"), Judged)
    assert [event.kind for event in record.events] == [AttemptEventKind.OOM_FALLBACK, AttemptEventKind.RETRY]
    assert record.checks == ["a check"]  # only the judgement that ended the attempt


def test_a_reproduction_is_stored_in_its_layout_and_read_back(tmp_path):
    job = JobSpec(id="walk", prompt="A woman walks to a bench")
    recipe = ClipRecipe(job=job, models=ModelSources(), prompts=["walks", "sits"], negative_prompt="blur",
                        plan={"prompt": "A woman walks"}, params=PARAMS, start_image=tmp_path / "input.png")
    precision = {"precision": "bf16", "requested": "fp8", "reason": "GPU is sm80", "max_abs_error": None,
                 "relative_error": None, "layers": 0}
    made_with = Provenance(model_source="tiny", weights="sha256:1", device="cpu", versions={"python": "3.11"},
                           precision=precision)
    stored = Reproduction(recipe, made_with).to_dict()
    assert set(stored) == {"job", "models", "prompts", "negative_prompt", "plan", "params", "start_image",
                           "model_source", "weights", "device", "versions", "precision", "loras"}
    assert stored["params"]["seed"] == 7 and stored["start_image"] == str(tmp_path / "input.png")
    assert stored["precision"] == precision and stored["models"]["precision"] == "bf16"
    again = Reproduction.from_dict(stored)
    assert {key: value for key, value in again.to_dict().items() if key != "job"} == {
        key: value for key, value in stored.items() if key != "job"}
    assert again.recipe.job.text() == job.text() and again.made_with == made_with and again.recipe.params == PARAMS
    assert again.recipe.start_image == tmp_path / "input.png"
    # A record made before precision was recorded reads back with none, not an error.
    older = {key: value for key, value in stored.items() if key != "precision"}
    assert Reproduction.from_dict(older).made_with.precision == {}


def test_an_attempt_records_its_lora_swap_time_and_each_warning_once(tmp_path):
    record = AttemptRecord(attempt_id=1, number=1, folder=tmp_path)
    warning = "speed 'distilled' ran without any LoRA loaded"
    for number, swap in ((1, 1.5), (2, 0.0)):
        record.add_segment(number, GeneratedSegment(
            frames_path=tmp_path / f"segment-{number}.npy", last_frame=tmp_path / "last.png", device="cpu",
            device_s=2.0, waited_s=0.0, lora_s=swap, warnings=(warning,)))
    assert record.timings == {"generate": 4.0, "gpu_wait": 0.0, "lora_swap": 1.5}
    [event] = record.events  # the same warning for every segment is one event of the attempt
    assert (event.kind, event.action, event.reason, event.details) == (
        AttemptEventKind.WARNING, "generation", warning, {"segment": 1})


def test_a_reproduction_records_its_loras_and_a_rerun_pins_them(tmp_path):
    from clipmill.models.lora_files import LoraWeights

    high, low, style = (tmp_path / name for name in ("high.safetensors", "low.safetensors", "style.safetensors"))
    job = JobSpec(id="walk", prompt="A woman walks", model="wan2.2-t2v-a14b", speed="distilled",
                  loras=[{"path": high}, {"path": style, "scale": 0.5}], loras_2=[{"path": low}])
    recipe = ClipRecipe(job=job, models=ModelSources(), prompts=["walks"], negative_prompt="", plan={},
                        params=PARAMS, start_image=None)
    fused = (LoraWeights(str(high), "a" * 64, 1.0), LoraWeights(str(style), "b" * 64, 0.5),
             LoraWeights(str(low), "c" * 64, 1.0, "transformer_2"))
    made_with = Provenance(model_source="hub", weights="w", device="cuda:0", versions={}, loras=fused)
    stored = Reproduction(recipe, made_with).to_dict()
    assert list(stored["loras"]) == [
        {"path": str(high), "sha256": "a" * 64, "scale": 1.0, "expert": "transformer"},
        {"path": str(style), "sha256": "b" * 64, "scale": 0.5, "expert": "transformer"},
        {"path": str(low), "sha256": "c" * 64, "scale": 1.0, "expert": "transformer_2"}]
    again = Reproduction.from_dict(stored)
    assert again.made_with.loras == fused
    pinned = again.pinned_recipe().job
    assert [lora.sha256 for lora in pinned.loras] == ["a" * 64, "b" * 64]
    assert [lora.sha256 for lora in pinned.loras_2] == ["c" * 64]
    assert [lora.scale for lora in pinned.loras] == [1.0, 0.5]
    # A record made before LoRAs were recorded pins nothing.
    older = {key: value for key, value in stored.items() if key != "loras"}
    assert Reproduction.from_dict(older).pinned_recipe().job.loras[0].sha256 is None
