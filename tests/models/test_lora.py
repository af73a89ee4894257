"""LoRAs through the product code on the tiny random Wan models: each community key layout is
read, checked, fused into the transformer weights (they change by exactly scale * up @ down)
and unfused (they are the checkpoint's again, bit for bit), also after swaps in bfloat16."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from clipmill.models.catalog import MODEL_SPECS
from clipmill.models.lora import FusedLoras, expected_modules, fit_problems, module_shapes, read_lora, read_lora_layout
from clipmill.models.lora_files import (
    DIFFUSERS,
    MUSUBI,
    WAN_ORIGINAL,
    LoraFileError,
    LoraWeights,
    lora_weights,
    read_header,
)
from clipmill.models.tiny_wan import build_tiny_pipeline
from clipmill.models.wan import TINY_SOURCE, GenerationRequest, VideoGenerator
from tests.models.lora_files import LAYOUTS, lora_layers, random_lora, save_lora

pytestmark = pytest.mark.slow  # builds tiny models

LAYOUT_NAMES = {"diffusers": DIFFUSERS, "peft": DIFFUSERS, "lightx2v": WAN_ORIGINAL, "kijai": WAN_ORIGINAL,
                "musubi": MUSUBI}


def weights_of(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def fresh_generator(form: str = "ti2v-5b") -> VideoGenerator:
    """A generator of its own (not the process cache's), so fused weights never leak between tests."""
    model = {"ti2v-5b": "tiny", "t2v-a14b": "wan2.2-t2v-a14b"}[form]
    return VideoGenerator(MODEL_SPECS[model], TINY_SOURCE, build_tiny_pipeline(form=form), random_weights=True,
                          device=torch.device("cpu"))


def request(**overrides) -> GenerationRequest:
    fields = {"prompt": "a dog runs across a park", "width": 64, "height": 64, "num_frames": 5, "steps": 2,
              "guidance": 5.0, "seed": 3}
    fields.update(overrides)
    return GenerationRequest(**fields)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_key_layout_fuses_into_the_weights_and_unfuses_exactly(tmp_path, layout):
    pipeline = build_tiny_pipeline()
    transformer = pipeline.transformer
    alpha = 4.0 if layout in ("diffusers", "peft") else 8.0  # rank 4: alpha 8 doubles the update
    lora = random_lora(transformer, alpha=alpha, bias=layout == "kijai")
    path = save_lora(lora, tmp_path / f"{layout}.safetensors", layout)
    weights = lora_weights(path, 0.75)
    assert read_lora(weights).layout == LAYOUT_NAMES[layout]
    before = weights_of(transformer)

    fused = FusedLoras()
    assert fused.use(pipeline, [weights], "tiny") > 0.0
    after = weights_of(transformer)
    assert set(after) == set(before)  # no adapter layers left behind: plain weights, fused
    for layer in lora_layers(transformer):
        expected = before[f"{layer}.weight"] + 0.75 * lora.weight_delta(layer)
        torch.testing.assert_close(after[f"{layer}.weight"], expected, rtol=1e-5, atol=1e-6)
        if layout == "kijai":  # its bias deltas (`.diff_b`) are fused too
            torch.testing.assert_close(after[f"{layer}.bias"], before[f"{layer}.bias"] + 0.75 * lora.pairs[layer][2])
    untouched = [name for name in before if not any(name.startswith(layer + ".") for layer in lora_layers(transformer))]
    assert untouched and all(torch.equal(after[name], before[name]) for name in untouched)

    assert fused.use(pipeline, [weights], "tiny") == 0.0  # the same set again costs nothing
    fused.use(pipeline, [], "tiny")
    assert all(torch.equal(value, before[name]) for name, value in weights_of(transformer).items())
    assert fused.current == ()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_header_alone_gives_the_keys_and_shapes_the_tensors_give(tmp_path, layout):
    transformer = build_tiny_pipeline().transformer
    path = save_lora(random_lora(transformer, alpha=4.0, bias=layout == "kijai"), tmp_path / "l.safetensors", layout)
    from_header = read_lora_layout(path)
    from_tensors = read_lora(lora_weights(path, 1.0))
    assert {key: tuple(value.shape) for key, value in from_header.state_dict.items()} == {
        key: tuple(value.shape) for key, value in from_tensors.state_dict.items()}
    assert from_header.layout == from_tensors.layout
    assert fit_problems(from_header, module_shapes(transformer), str(path), "tiny's transformer") is None


def test_swaps_in_bfloat16_leave_the_checkpoint_weights_bit_exact(tmp_path):
    """diffusers' unfuse subtracts in the weights' dtype, which in bfloat16 does not give the
    checkpoint back; the swap restores the originals instead. Shown here, both ways."""
    pipeline = build_tiny_pipeline()
    transformer = pipeline.transformer.to(torch.bfloat16)
    first = lora_weights(save_lora(random_lora(transformer, seed=1), tmp_path / "a.safetensors", "diffusers"), 1.0)
    second = lora_weights(save_lora(random_lora(transformer, seed=2), tmp_path / "b.safetensors", "diffusers"), 0.5)
    before = weights_of(transformer)

    fused = FusedLoras()
    for _ in range(3):
        fused.use(pipeline, [first], "tiny")
        fused.use(pipeline, [second], "tiny")
    fused.use(pipeline, [], "tiny")
    assert all(torch.equal(value, before[name]) for name, value in weights_of(transformer).items())

    # What the copy is for: diffusers' own fuse + unfuse, the same three times, drifts.
    pipeline.load_lora_weights(read_lora(first).state_dict, adapter_name="a")
    for _ in range(3):
        pipeline.fuse_lora(components=["transformer"])
        pipeline.unfuse_lora(components=["transformer"])
    pipeline.unload_lora_weights()
    drifted = [name for name, value in weights_of(transformer).items() if not torch.equal(value, before[name])]
    assert drifted


def test_a_swap_gives_the_frames_a_fresh_load_gives(tmp_path):
    """Same seed, same LoRA: the frames after swaps are those of a generator that fused it once."""
    generator = fresh_generator()
    transformer = generator.text_pipeline.transformer
    style = lora_weights(save_lora(random_lora(transformer, seed=1), tmp_path / "s.safetensors", "kijai"), 1.0)
    other = lora_weights(save_lora(random_lora(transformer, seed=2), tmp_path / "o.safetensors", "lightx2v"), 0.5)

    plain = generator.generate(request())
    assert plain.lora_s == 0.0 and generator.loras == ()
    with_style = generator.generate(request(loras=(style,)))
    assert with_style.lora_s > 0.0 and generator.loras == (style,)
    assert not np.array_equal(with_style.frames, plain.frames)
    assert generator.generate(request(loras=(style,))).lora_s == 0.0  # a same-set job pays nothing
    generator.generate(request(loras=(other,)))
    again = generator.generate(request(loras=(style,)))
    assert again.lora_s > 0.0 and np.array_equal(again.frames, with_style.frames)
    assert np.array_equal(generator.generate(request()).frames, plain.frames)

    once = fresh_generator()
    assert np.array_equal(once.generate(request(loras=(style,))).frames, with_style.frames)


def test_the_low_noise_expert_takes_its_own_lora(tmp_path):
    generator = fresh_generator("t2v-a14b")
    pipeline = generator.text_pipeline
    high = lora_weights(save_lora(random_lora(pipeline.transformer, seed=1), tmp_path / "high.safetensors",
                                  "lightx2v"), 1.0)
    low = lora_weights(save_lora(random_lora(pipeline.transformer_2, seed=2), tmp_path / "low.safetensors",
                                 "lightx2v"), 1.0, "transformer_2")
    high_before, low_before = weights_of(pipeline.transformer), weights_of(pipeline.transformer_2)

    generator.generate(request(width=64, height=48, loras=(low,)))
    assert all(torch.equal(v, high_before[k]) for k, v in weights_of(pipeline.transformer).items())
    assert not all(torch.equal(v, low_before[k]) for k, v in weights_of(pipeline.transformer_2).items())

    generator.generate(request(width=64, height=48, loras=(high, low)))
    layer = lora_layers(pipeline.transformer)[0]
    assert not torch.equal(weights_of(pipeline.transformer)[f"{layer}.weight"], high_before[f"{layer}.weight"])

    generator.generate(request(width=64, height=48))
    assert all(torch.equal(v, high_before[k]) for k, v in weights_of(pipeline.transformer).items())
    assert all(torch.equal(v, low_before[k]) for k, v in weights_of(pipeline.transformer_2).items())


def test_a_lora_for_the_low_noise_expert_is_refused_by_a_one_transformer_model(tmp_path):
    generator = fresh_generator()
    path = save_lora(random_lora(generator.text_pipeline.transformer), tmp_path / "l.safetensors", "diffusers")
    with pytest.raises(ValueError, match="one transformer"):
        generator.generate(request(loras=(lora_weights(path, 1.0, "transformer_2"),)))


def _lora_for_another_model(tmp_path, *, blocks: int, in_features: int):
    tensors = {}
    for block in range(blocks):
        tensors[f"diffusion_model.blocks.{block}.self_attn.q.lora_down.weight"] = torch.zeros(4, in_features)
        tensors[f"diffusion_model.blocks.{block}.self_attn.q.lora_up.weight"] = torch.zeros(in_features, 4)
        tensors[f"diffusion_model.blocks.{block}.self_attn.q.alpha"] = torch.tensor(4.0)
    from safetensors.torch import save_file

    path = tmp_path / f"other-{blocks}-{in_features}.safetensors"
    save_file(tensors, str(path))
    return path


def test_keys_that_match_no_layer_or_another_size_are_named_in_one_line_and_nothing_is_fused(tmp_path):
    generator = fresh_generator()
    before = weights_of(generator.text_pipeline.transformer)
    deeper = _lora_for_another_model(tmp_path, blocks=4, in_features=32)  # the tiny model has 2 blocks
    with pytest.raises(LoraFileError) as raised:
        generator.generate(request(loras=(lora_weights(deeper, 1.0),)))
    message = str(raised.value)
    assert "\n" not in message and "does not fit tiny's transformer: 2 of its 4 layers are not in the model" in message
    assert "blocks.2.attn1.to_q" in message and "wan (lightx2v/Kijai) layout" in message

    wider = _lora_for_another_model(tmp_path, blocks=2, in_features=5120)  # a 14B model's width
    with pytest.raises(LoraFileError, match=r"2 of its 2 have another size \(e.g. blocks.0.attn1.to_q: LoRA 5120->5120, "
                                            r"model 32->32\)"):
        generator.generate(request(loras=(lora_weights(wider, 1.0),)))
    assert generator.loras == ()
    assert all(torch.equal(v, before[k]) for k, v in weights_of(generator.text_pipeline.transformer).items())


def test_only_safetensors_are_read_never_a_pickle(tmp_path):
    pickled = tmp_path / "lora.pt"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(LoraFileError, match=r"only \.safetensors files are loaded; a \.pt file may be a pickle"):
        lora_weights(pickled, 1.0)
    disguised = tmp_path / "lora.safetensors"
    disguised.write_bytes(pickle.dumps({"transformer.blocks.0.attn1.to_q.lora_A.weight": [0.0] * 64}))
    with pytest.raises(LoraFileError, match="not a safetensors file"):
        read_header(disguised)
    with pytest.raises(LoraFileError, match="not a readable safetensors file|not a safetensors file"):
        read_lora(lora_weights(disguised, 1.0))
    with pytest.raises(LoraFileError, match="file not found"):
        lora_weights(tmp_path / "missing.safetensors", 1.0)


def test_a_file_changed_after_it_was_checked_is_refused(tmp_path):
    transformer = build_tiny_pipeline().transformer
    path = save_lora(random_lora(transformer, seed=1), tmp_path / "l.safetensors", "diffusers")
    weights = lora_weights(path, 1.0)
    with pytest.raises(LoraFileError, match="not the pinned"):
        lora_weights(path, 1.0, pinned_sha256="0" * 64)
    save_lora(random_lora(transformer, seed=2), path, "diffusers")
    with pytest.raises(LoraFileError, match="changed since it was checked"):
        read_lora(LoraWeights(weights.path, weights.sha256, 1.0))


def test_keys_in_no_known_layout_are_named(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file({"model.layers.0.q_proj.weight": torch.zeros(2, 2)}, str(path))
    with pytest.raises(LoraFileError, match="no LoRA layout clipmill reads for Wan .* first key: model.layers.0"):
        read_lora_layout(path)


def test_expected_layers_come_from_the_checkpoint_config_without_its_weights(tiny_a14b_folder, tiny_folder):
    a14b = expected_modules("wan2.2-t2v-a14b", str(tiny_a14b_folder))
    assert set(a14b) == {"transformer", "transformer_2"}
    assert a14b["transformer"]["blocks.0.attn1.to_q"] == (32, 32)
    ti2v = expected_modules("wan2.2-ti2v-5b", str(tiny_folder))
    assert set(ti2v) == {"transformer"} and "blocks.1.ffn.net.2" in ti2v["transformer"]
    assert expected_modules("tiny", None)["transformer"] == module_shapes(build_tiny_pipeline().transformer)
    assert expected_modules("wan2.2-ti2v-5b", str(tiny_folder.parent / "nowhere")) is None


def test_a_swap_on_compiled_blocks_compiles_nothing_again(tmp_path):
    """On a GPU the worker's blocks are compiled (models.acceleration). peft freezes the layers a
    LoRA adapts, so blocks compiled while their parameters required grad compiled again at the
    first swap (a guard on that flag); the generator loads them frozen. Traced with aot_eager."""
    generator = fresh_generator()
    transformer = generator.text_pipeline.transformer
    style = lora_weights(save_lora(random_lora(transformer, seed=1), tmp_path / "s.safetensors", "kijai"), 1.0)
    transformer.compile_repeated_blocks(fullgraph=True, dynamic=False, backend="aot_eager")
    torch._dynamo.reset()
    try:
        plain = generator.generate(request())
        with torch._dynamo.config.patch(error_on_recompile=True):
            assert not np.array_equal(generator.generate(request(loras=(style,))).frames, plain.frames)
            assert np.array_equal(generator.generate(request()).frames, plain.frames)
    finally:
        torch._dynamo.reset()
