"""Memory profiles: choice from free memory, and the out-of-memory fallback (error injected)."""
import pytest
import torch

import clipmill.models.wan as wan
from clipmill.models.acceleration import PROFILES, choose_profile, lighter_profile
from clipmill.models.wan import GenerationRequest, VideoGenerator


@pytest.mark.parametrize("free_gib, expected", [
    (None, "resident"), (139.0, "resident"), (48.0, "resident"), (40.0, "model_offload"),
    (28.0, "model_offload"), (23.0, "group_offload"), (8.0, "group_offload"),
])
def test_profile_follows_free_memory_for_ti2v_5b(free_gib, expected):
    assert choose_profile("wan2.2-ti2v-5b", free_gib) == expected


def test_a14b_needs_more_memory_to_stay_resident():
    assert choose_profile("wan2.2-t2v-a14b", 80.0) == "model_offload"
    assert choose_profile("wan2.2-t2v-a14b", 139.0) == "resident"


def test_fp8_experts_of_a14b_stay_resident_on_an_80_gb_card():
    # An H100's 80 GB shows about 79 GiB free: both bf16 experts fit only while loading, and the
    # FP8 ones (half their weights) leave room for the clip.
    assert choose_profile("wan2.2-t2v-a14b", 79.0, "fp8") == "resident"
    assert choose_profile("wan2.2-t2v-a14b", 79.0, "bf16") == "model_offload"
    assert choose_profile("wan2.2-t2v-a14b", 60.0, "fp8") == "model_offload"  # bf16 experts must fit at load
    assert choose_profile("wan2.2-ti2v-5b", 44.0, "fp8") == "resident"
    assert choose_profile("wan2.2-ti2v-5b", 44.0) == "model_offload"


def test_profiles_get_lighter_in_order():
    assert [lighter_profile(p) for p in PROFILES] == ["model_offload", "group_offload", None]


def request():
    return GenerationRequest(prompt="a dog runs", width=64, height=64, num_frames=5, steps=2, guidance=5.0, seed=0)


@pytest.fixture
def generator(monkeypatch):
    from clipmill.models.tiny_wan import build_tiny_pipeline

    placed = []
    monkeypatch.setattr(wan, "place", lambda pipeline, profile, device: placed.append(profile))
    made = VideoGenerator(wan.MODEL_SPECS["tiny"], "test", build_tiny_pipeline(), random_weights=True,
                          device=torch.device("cpu"))
    made.placed = placed
    return made


def test_out_of_memory_retries_once_with_the_next_lighter_profile(generator, monkeypatch):
    real_run, calls = generator._run, []

    def run_out_of_memory_once(*args):
        calls.append(generator.profile)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        return real_run(*args)

    monkeypatch.setattr(generator, "_run", run_out_of_memory_once)
    run = generator.generate(request())
    assert run.frames.shape == (5, 64, 64, 3)
    assert calls == ["resident", "model_offload"]
    assert generator.placed == ["resident", "model_offload"]
    assert (run.profile, run.fell_back_from) == ("model_offload", "resident")
    # The lighter profile stays for the next clip.
    assert generator.profile == "model_offload"


def test_out_of_memory_on_the_lightest_profile_is_raised(generator, monkeypatch):
    generator.profile = "group_offload"

    def always_out_of_memory(*args):
        raise torch.OutOfMemoryError("CUDA out of memory (injected)")

    monkeypatch.setattr(generator, "_run", always_out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        generator.generate(request())
