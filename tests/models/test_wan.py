import copy
import dataclasses

import numpy as np
import pytest
from PIL import Image

from clipmill.models.wan import (
    MODEL_SPECS,
    TINY_SOURCE,
    GenerationRequest,
    ModelLoadError,
    load_generator,
    default_request,
)
from tests.models.helpers import SMALL, random_frames


def small_request(**overrides) -> GenerationRequest:
    fields = {"prompt": "a dog runs across a park", "seed": 0, **SMALL}
    fields.update(overrides)
    return GenerationRequest(**fields)


def reference_image(seed: int = 0) -> Image.Image:
    return Image.fromarray(random_frames(1, SMALL["height"], SMALL["width"], seed=seed)[0])


# --- specs -------------------------------------------------------------------------------


def test_model_specs_describe_the_wan22_releases():
    ti2v, i2v, t2v = MODEL_SPECS["wan2.2-ti2v-5b"], MODEL_SPECS["wan2.2-i2v-a14b"], MODEL_SPECS["wan2.2-t2v-a14b"]
    assert (ti2v.hub_id, ti2v.default_steps, ti2v.default_guidance, ti2v.default_fps, ti2v.default_size) == (
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers", 50, 5.0, 24, (1280, 704)
    )
    assert (i2v.hub_id, i2v.default_steps, i2v.default_guidance, i2v.default_fps, i2v.default_size) == (
        "Wan-AI/Wan2.2-I2V-A14B-Diffusers", 40, 3.5, 16, (832, 480)
    )
    assert (t2v.hub_id, t2v.default_steps, t2v.default_guidance, t2v.default_guidance_2, t2v.default_size) == (
        "Wan-AI/Wan2.2-T2V-A14B-Diffusers", 40, 4.0, 3.0, (832, 480)
    )
    assert (ti2v.supports_text, ti2v.supports_image) == (True, True)
    assert (i2v.supports_text, i2v.supports_image) == (False, True)
    assert (t2v.supports_text, t2v.supports_image) == (True, False)


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_spec_defaults_are_valid_requests(name):
    spec = MODEL_SPECS[name]
    width, height = spec.default_size
    assert width % spec.size_multiple == 0 and height % spec.size_multiple == 0
    assert (spec.default_frames - 1) % 4 == 0


# --- tiny generation -----------------------------------------------------------------------


def test_tiny_generator_reports_random_weights(tiny_generator):
    assert tiny_generator.random_weights is True
    assert tiny_generator.source == TINY_SOURCE
    assert tiny_generator.spec.name == "tiny"
    assert tiny_generator.device.type in {"cpu", "cuda"}


def test_text_to_video_shape_and_dtype(tiny_generator):
    frames = tiny_generator.generate(small_request()).frames
    assert frames.shape == (SMALL["num_frames"], SMALL["height"], SMALL["width"], 3)
    assert frames.dtype == np.uint8


def test_same_seed_same_frames_other_seed_other_frames(tiny_generator):
    first = tiny_generator.generate(small_request(seed=7)).frames
    again = tiny_generator.generate(small_request(seed=7)).frames
    other = tiny_generator.generate(small_request(seed=8)).frames
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_image_to_video_uses_the_image(tiny_generator):
    a = tiny_generator.generate(small_request(image=reference_image(seed=1))).frames
    b = tiny_generator.generate(small_request(image=reference_image(seed=2))).frames
    assert a.shape == (SMALL["num_frames"], SMALL["height"], SMALL["width"], 3)
    assert a.dtype == np.uint8
    assert not np.array_equal(a, b)


def test_text_and_image_pipelines_share_components(tiny_generator):
    text, image = tiny_generator.text_pipeline, tiny_generator.image_pipeline
    for name in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(text, name) is getattr(image, name), name
    assert image.config.expand_timesteps is True


def test_on_step_is_called_once_per_step(tiny_generator):
    calls = []
    tiny_generator.generate(small_request(steps=3), on_step=lambda step, total: calls.append((step, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_on_step_exception_stops_generation(tiny_generator):
    calls = []

    class Cancelled(Exception):
        pass

    def cancel_at_second_step(step: int, total: int) -> None:
        calls.append(step)
        if step == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        tiny_generator.generate(small_request(steps=4), on_step=cancel_at_second_step)
    assert calls == [1, 2]
    # The generator stays usable after a cancelled run.
    assert tiny_generator.generate(small_request()).frames.shape[0] == SMALL["num_frames"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"num_frames": 16}, "num_frames=16"),
        ({"num_frames": 0}, "num_frames=0"),
        ({"width": 120}, "width=120"),
        ({"height": 80}, "height=80"),
        ({"steps": 0}, "steps=0"),
        ({"image": Image.new("RGB", (64, 64))}, "image size 64x64"),
    ],
)
def test_invalid_requests_are_refused_naming_the_value(tiny_generator, overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_generator.generate(small_request(**overrides))


def test_default_request_uses_spec_defaults():
    request = default_request("wan2.2-ti2v-5b", "a cat", seed=3)
    assert (request.width, request.height, request.num_frames, request.steps, request.guidance, request.seed) == (
        1280, 704, 121, 50, 5.0, 3
    )


# --- loading -------------------------------------------------------------------------------


def test_generators_are_cached_per_model_and_source(tiny_generator, tiny_folder):
    assert load_generator("tiny") is tiny_generator
    loaded = load_generator("wan2.2-ti2v-5b", source=str(tiny_folder))
    assert load_generator("wan2.2-ti2v-5b", source=str(tiny_folder)) is loaded
    assert loaded is not tiny_generator


def test_saved_checkpoint_loads_through_the_real_path(tiny_generator, tiny_folder):
    assert (tiny_folder / "model_index.json").is_file()
    for component in ("scheduler", "text_encoder", "tokenizer", "transformer", "vae"):
        assert (tiny_folder / component).is_dir(), component

    loaded = load_generator("wan2.2-ti2v-5b", source=str(tiny_folder))
    assert loaded.spec.name == "wan2.2-ti2v-5b"
    assert loaded.source == str(tiny_folder.resolve())
    assert loaded.random_weights is True  # from the marker file save_tiny_pipeline writes
    assert loaded.image_pipeline.config.expand_timesteps is True
    assert loaded.text_pipeline.config.expand_timesteps is False  # see the next test

    # Same seed-0 weights as the built-in tiny model, so the same frames: nothing lost on disk
    # (a rounding step apart at most: diffusers keeps some modules in fp32 when it loads).
    saved, built = loaded.generate(small_request()).frames, tiny_generator.generate(small_request()).frames
    assert np.abs(saved.astype(int) - built.astype(int)).max() <= 1
    image_frames = loaded.generate(small_request(image=reference_image())).frames
    np.testing.assert_array_equal(image_frames, tiny_generator.generate(small_request(image=reference_image())).frames)


def test_text_to_video_with_one_timestep_a_sample_matches_per_token_timesteps(tiny_folder):
    """TI2V text-to-video runs with one timestep per sample (faster); the frames are those of
    diffusers' per-token timesteps, since no frame is conditioned."""
    loaded = load_generator("wan2.2-ti2v-5b", source=str(tiny_folder))
    fast = loaded.generate(small_request(seed=3)).frames
    loaded.text_pipeline.register_to_config(expand_timesteps=True)
    try:
        per_token = loaded.generate(small_request(seed=3)).frames
    finally:
        loaded.text_pipeline.register_to_config(expand_timesteps=False)
    assert np.abs(fast.astype(int) - per_token.astype(int)).max() <= 1


def test_two_expert_checkpoint_keeps_its_boundary_and_second_guidance(tiny_a14b_folder):
    generator = load_generator("wan2.2-t2v-a14b", source=str(tiny_a14b_folder))
    pipeline = generator.text_pipeline
    assert generator.image_pipeline is None
    assert pipeline.config.boundary_ratio == pytest.approx(0.875)
    assert pipeline.transformer_2 is not None and pipeline.transformer_2 is not pipeline.transformer

    request = small_request(width=64, height=48, num_frames=5, steps=4)
    frames = generator.generate(request).frames
    assert frames.shape == (5, 48, 64, 3)
    # guidance_2 drives the low-noise expert: changing it changes the clip.
    assert not np.array_equal(frames, generator.generate(small_request(width=64, height=48, steps=4, guidance_2=1.0)).frames)

    with pytest.raises(ValueError, match="text-to-video only"):
        generator.generate(small_request(width=64, height=48, image=Image.new("RGB", (64, 48))))


def test_image_only_model_requires_an_image(tiny_generator):
    image_only = copy.copy(tiny_generator)
    image_only.spec = dataclasses.replace(tiny_generator.spec, supports_text=False)
    with pytest.raises(ValueError, match="needs an image"):
        image_only.validate(small_request())
    image_only.validate(small_request(image=reference_image()))


def test_two_expert_image_to_video_checkpoint(tiny_i2v_a14b_folder):
    generator = load_generator("wan2.2-i2v-a14b", source=str(tiny_i2v_a14b_folder))
    assert generator.text_pipeline is None
    assert generator.image_pipeline.config.boundary_ratio == pytest.approx(0.9)
    assert generator.image_pipeline.config.expand_timesteps is False
    assert generator.image_pipeline.transformer_2 is not None
    frames = generator.generate(small_request(width=64, height=48, steps=4, image=Image.new("RGB", (64, 48), "red"))).frames
    assert frames.shape == (SMALL["num_frames"], 48, 64, 3)
    with pytest.raises(ValueError, match="needs an image"):
        generator.generate(small_request(width=64, height=48))


def test_text_to_video_checkpoint_cannot_serve_image_to_video(tiny_a14b_folder):
    with pytest.raises(ModelLoadError, match="is text-to-video"):
        load_generator("wan2.2-i2v-a14b", source=str(tiny_a14b_folder))


def test_checkpoint_of_the_wrong_family_is_refused(tiny_a14b_folder):
    with pytest.raises(ModelLoadError, match="multiples of 16"):
        load_generator("wan2.2-ti2v-5b", source=str(tiny_a14b_folder))


def test_missing_folder_names_the_model_and_the_fix(tmp_path):
    missing = tmp_path / "Wan2.2-TI2V-5B-Diffusers"
    with pytest.raises(ModelLoadError, match="wan2.2-ti2v-5b") as error:
        load_generator("wan2.2-ti2v-5b", source=str(missing))
    assert "hf download Wan-AI/Wan2.2-TI2V-5B-Diffusers" in str(error.value)


def test_folder_without_model_index_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="model_index.json"):
        load_generator("wan2.2-ti2v-5b", source=str(tmp_path))


def test_unreachable_hub_id_gives_a_clear_error():
    with pytest.raises(ModelLoadError, match="hf download"):
        load_generator("wan2.2-ti2v-5b", source="clipmill-tests/no-such-model")


def test_unknown_model_and_tiny_with_source_are_refused(tiny_folder):
    with pytest.raises(ValueError, match="unknown model"):
        load_generator("wan3-ultra")
    with pytest.raises(ValueError, match="takes no source"):
        load_generator("tiny", source=str(tiny_folder))


def test_a_generation_waits_for_the_device_and_reports_its_own_run(tiny_generator):
    """Clips in flight share one device: a generation waits in the device's queue while
    another one runs there, and each call returns its own run's timings."""
    import threading
    import time

    other_runs, mine = threading.Event(), []

    def other_clip() -> None:  # holds the device's model thread, as a running generation does
        from clipmill.models.devices import run_on_model_thread

        run_on_model_thread(f"generate:{tiny_generator.device}", lambda: (other_runs.set(), time.sleep(0.5)))

    holder = threading.Thread(target=other_clip)
    holder.start()
    other_runs.wait(10)
    mine.append(tiny_generator.generate(small_request()))
    holder.join()
    [run] = mine
    assert run.waited_s >= 0.3 and run.device_s > 0
    assert run.profile == "resident" and run.fell_back_from is None
    assert run.frames.shape == (SMALL["num_frames"], SMALL["height"], SMALL["width"], 3)