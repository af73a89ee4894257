"""The distilled speed profile on the tiny random Wan models: the sampler and timesteps a
step-distilled LoRA was trained for, its expert split, one transformer pass a step (no CFG),
and a warning when it runs without a LoRA."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from diffusers import UniPCMultistepScheduler

from clipmill.models.catalog import MODEL_SPECS, DistilledProfile
from clipmill.models.distilled import EvenlySpacedEulerScheduler, distilled_scheduler
from clipmill.models.lora_files import lora_weights
from clipmill.models.tiny_wan import build_tiny_pipeline
from clipmill.models.wan import TINY_SOURCE, GenerationRequest, VideoGenerator
from tests.models.lora_files import random_lora, save_lora

pytestmark = pytest.mark.slow  # builds tiny models


def test_the_catalogue_holds_the_lightning_profile_of_each_release():
    for name in ("wan2.2-ti2v-5b", "wan2.2-t2v-a14b", "wan2.2-i2v-a14b"):
        profile = MODEL_SPECS[name].distilled
        assert (profile.steps, profile.guidance, profile.shift) == (4, 1.0, 5.0)
        assert profile.boundary_ratio == MODEL_SPECS[name].boundary_ratio
    assert MODEL_SPECS["wan2.2-t2v-a14b"].distilled.boundary_ratio == 0.875
    assert MODEL_SPECS["wan2.2-i2v-a14b"].distilled.boundary_ratio == 0.9


def test_four_steps_land_on_the_timesteps_the_distillation_was_trained_on():
    scheduler = distilled_scheduler(MODEL_SPECS["wan2.2-t2v-a14b"].distilled)
    scheduler.set_timesteps(4)
    # Wan2.2-Lightning's: 1000, 937.5, 833.3, 625 (evenly spaced sigmas, shift 5), then 0.
    torch.testing.assert_close(scheduler.timesteps, torch.tensor([1000.0, 937.5, 833.3333, 625.0]))
    torch.testing.assert_close(scheduler.sigmas, torch.tensor([1.0, 0.9375, 0.833333, 0.625, 0.0]))
    # diffusers' own flow-matching Euler at the same shift spaces them otherwise.
    from diffusers import FlowMatchEulerDiscreteScheduler

    plain = FlowMatchEulerDiscreteScheduler(shift=5.0)
    plain.set_timesteps(4)
    assert not torch.allclose(plain.timesteps, scheduler.timesteps)


class ForwardLog:
    """Which transformer ran at which timestep, in order."""

    def __init__(self, pipeline) -> None:
        self.calls: list[tuple[str, float]] = []
        self.handles = []
        for name in ("transformer", "transformer_2"):
            module = getattr(pipeline, name, None)
            if module is not None:
                self.handles.append(module.register_forward_pre_hook(self._hook(name), with_kwargs=True))

    def _hook(self, name):
        def record(module, args, kwargs):
            timestep = kwargs.get("timestep", args[1] if len(args) > 1 else None)
            self.calls.append((name, float(timestep.flatten()[0])))
        return record

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def a14b_generator(spec_name: str = "wan2.2-t2v-a14b", **changes) -> VideoGenerator:
    spec = MODEL_SPECS[spec_name]
    if changes:
        spec = dataclasses.replace(spec, distilled=dataclasses.replace(spec.distilled, **changes))
    return VideoGenerator(spec, TINY_SOURCE, build_tiny_pipeline(form="t2v-a14b"), random_weights=True,
                          device=torch.device("cpu"))


def request(**overrides) -> GenerationRequest:
    fields = {"prompt": "a dog runs across a park", "negative_prompt": "blurry", "width": 64, "height": 48,
              "num_frames": 5, "steps": 4, "guidance": 1.0, "seed": 1, "speed": "distilled"}
    fields.update(overrides)
    return GenerationRequest(**fields)


def test_a_distilled_a14b_run_is_two_high_noise_and_two_low_noise_steps_one_pass_each():
    generator = a14b_generator()
    pipeline = generator.text_pipeline
    log = ForwardLog(pipeline)
    try:
        result = generator.generate(request())
    finally:
        log.close()
    assert log.calls == [("transformer", 1000.0), ("transformer", 937.5), ("transformer_2", pytest.approx(833.333, 1e-4)),
                         ("transformer_2", 625.0)]
    assert result.text_cached == 0 and generator._embeddings.misses == 1  # the negative prompt never encoded
    # The checkpoint's own sampler and boundary are back for the next clip.
    assert isinstance(pipeline.scheduler, UniPCMultistepScheduler)
    assert pipeline.config.boundary_ratio == 0.875


def test_the_expert_split_follows_the_profile_boundary_not_the_checkpoint():
    generator = a14b_generator(boundary_ratio=0.95)
    log = ForwardLog(generator.text_pipeline)
    try:
        generator.generate(request())
    finally:
        log.close()
    assert [name for name, _ in log.calls] == ["transformer", "transformer_2", "transformer_2", "transformer_2"]
    assert generator.text_pipeline.config.boundary_ratio == 0.875


def test_the_quality_profile_keeps_the_checkpoint_sampler_and_cfg():
    generator = a14b_generator()
    log = ForwardLog(generator.text_pipeline)
    try:
        generator.generate(request(speed="quality", guidance=4.0))
    finally:
        log.close()
    assert len(log.calls) == 8  # a conditional and an unconditional pass each step
    assert [t for _, t in log.calls[::2]] == [999.0, 937.0, 833.0, 625.0]  # UniPC's integer timesteps


def test_the_sampler_is_put_back_even_when_a_generation_stops_half_way():
    generator = a14b_generator()

    def cancel(step: int, total: int) -> None:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        generator.generate(request(), on_step=cancel)
    assert isinstance(generator.text_pipeline.scheduler, UniPCMultistepScheduler)
    assert not isinstance(generator.text_pipeline.scheduler, EvenlySpacedEulerScheduler)


def test_a_distilled_run_without_a_lora_says_so_and_with_one_does_not(tmp_path):
    generator = VideoGenerator(MODEL_SPECS["tiny"], TINY_SOURCE, build_tiny_pipeline(), random_weights=True,
                               device=torch.device("cpu"))
    bare = generator.generate(request(width=64, height=64, steps=2))
    [warning] = bare.warnings
    assert "without any LoRA" in warning and "'loras'" in warning
    lora = save_lora(random_lora(generator.text_pipeline.transformer), tmp_path / "d.safetensors", "lightx2v")
    assert generator.generate(request(width=64, height=64, steps=2, loras=(lora_weights(lora, 1.0),))).warnings == ()
    assert generator.generate(request(width=64, height=64, steps=2, speed="quality")).warnings == ()


def test_a_model_without_a_distilled_profile_refuses_the_speed():
    generator = a14b_generator()
    generator.spec = dataclasses.replace(generator.spec, distilled=None)
    with pytest.raises(ValueError, match="no distilled profile"):
        generator.validate(request())


def test_a_profile_is_data_a_new_distillation_adds_without_code():
    profile = DistilledProfile(steps=6, guidance=1.0, shift=8.0, source="a later distillation")
    scheduler = distilled_scheduler(profile)
    scheduler.set_timesteps(profile.steps)
    sigmas = torch.linspace(1.0, 0.0, 7)[:-1]
    torch.testing.assert_close(scheduler.sigmas[:-1], 8.0 * sigmas / (1 + 7.0 * sigmas))
