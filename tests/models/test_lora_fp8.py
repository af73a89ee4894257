"""LoRAs on FP8 blocks, through the product code on the tiny models with torchao's real float8
path on the CPU (its hardware guard opened, as in test_precision.py): a set is fused into the
bf16 weights the FP8 ones were made from and quantised again, checked against the fused bf16
model; a swap back to no LoRA gives the load's FP8 weights and frames bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from clipmill.models import precision
from clipmill.models.catalog import MODEL_SPECS
from clipmill.models.lora import FusedLoras
from clipmill.models.lora_files import LoraFileError, lora_weights
from clipmill.models.precision import FP8, PrecisionChoice
from clipmill.models.tiny_wan import build_tiny_pipeline
from clipmill.models.wan import GenerationRequest, VideoGenerator
from tests.models.lora_files import random_lora, save_lora

pytestmark = pytest.mark.slow  # builds tiny models

CPU = torch.device("cpu")
FP8_PLANNED = PrecisionChoice(FP8, FP8, "pretend sm90 GPU with torchao")


@pytest.fixture
def float8_on_cpu(monkeypatch):
    """torchao's quantisation on the CPU, only its hardware guard opened; the generator's plan
    pretends an FP8 GPU (everything after the plan is the real load path)."""
    quant_api = pytest.importorskip("torchao.quantization.quant_api")
    monkeypatch.setattr(quant_api, "_check_hardware_support", lambda granularities: None)
    monkeypatch.setattr(quant_api, "is_sm_at_least_89", lambda: True, raising=False)
    monkeypatch.setattr(precision, "plan", lambda requested, device, dtype: FP8_PLANNED)


def bf16_pipeline(form: str = "ti2v-5b"):
    pipeline = build_tiny_pipeline(form=form)
    for name in ("transformer", "transformer_2"):
        if getattr(pipeline, name, None) is not None:
            getattr(pipeline, name).to(torch.bfloat16)  # as a real checkpoint loads on a GPU
    return pipeline


def fp8_generator(form: str = "ti2v-5b") -> VideoGenerator:
    model = {"ti2v-5b": "tiny", "t2v-a14b": "wan2.2-t2v-a14b"}[form]
    generator = VideoGenerator(MODEL_SPECS[model], "test", bf16_pipeline(form), random_weights=True, device=CPU,
                               precision=FP8)
    assert generator.precision.precision == FP8 and generator._fp8 is not None
    return generator


def request(**overrides) -> GenerationRequest:
    fields = {"prompt": "a dog runs across a park", "width": 64, "height": 64, "num_frames": 5, "steps": 2,
              "guidance": 5.0, "seed": 3}
    fields.update(overrides)
    return GenerationRequest(**fields)


def fp8_weights(transformer: torch.nn.Module) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Each FP8 layer's 8-bit values and per-row scales, copied."""
    from torchao.quantization import Float8Tensor

    found = {}
    for name, module in transformer.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, Float8Tensor):
            found[name] = (weight.qdata.clone(), weight.scale.clone())
    return found


def same_fp8(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k][0].view(torch.uint8), b[k][0].view(torch.uint8))
                                        and torch.equal(a[k][1], b[k][1]) for k in a)


def loras_for(transformer: torch.nn.Module, tmp_path, expert: str = "transformer"):
    style = lora_weights(save_lora(random_lora(transformer, seed=1), tmp_path / f"style-{expert}.safetensors",
                                   "kijai"), 1.0, expert)
    other = lora_weights(save_lora(random_lora(transformer, seed=2), tmp_path / f"other-{expert}.safetensors",
                                   "lightx2v"), 0.5, expert)
    return style, other


def test_a_lora_changes_fp8_frames_and_a_swap_back_gives_the_load_fp8_frames_bit_for_bit(float8_on_cpu, tmp_path):
    generator = fp8_generator()
    transformer = generator.text_pipeline.transformer
    loaded_weights, loaded_choice = fp8_weights(transformer), generator.precision
    assert len(loaded_weights) == 20
    style, other = loras_for(transformer, tmp_path)

    plain = generator.generate(request())
    with_style = generator.generate(request(loras=(style,)))
    assert with_style.lora_s > 0.0 and generator.loras == (style,)
    assert with_style.precision == FP8 and not same_fp8(fp8_weights(transformer), loaded_weights)  # FP8 again
    assert {"dequantise", "fuse", "quantise", "fp8_check"} <= set(generator.lora_swap_phases)
    assert not np.array_equal(with_style.frames, plain.frames)
    checked = with_style.precision_choice
    assert checked.precision == FP8 and checked.layers == 20 and style.label() in checked.reason
    assert 0.0 < checked.relative_error <= precision.MAX_RELATIVE_ERROR and checked.max_abs_error > 0.0
    assert checked.relative_error != loaded_choice.relative_error  # measured again, on the fused weights

    assert generator.generate(request(loras=(style,))).lora_s == 0.0  # a same-set job pays nothing
    generator.generate(request(loras=(other,)))
    again = generator.generate(request(loras=(style,)))
    assert again.lora_s > 0.0 and np.array_equal(again.frames, with_style.frames)

    back = generator.generate(request())
    assert np.array_equal(back.frames, plain.frames)  # same seed, same frames as before any LoRA
    assert same_fp8(fp8_weights(transformer), loaded_weights)  # the load's FP8 weights, bit for bit
    assert back.precision_choice == loaded_choice == generator.precision


def test_the_check_at_a_swap_is_against_the_fused_bf16_model(float8_on_cpu, tmp_path):
    """The errors recorded after fusing are exactly those of quantising the fused bf16 weights,
    measured here on the side: fuse in bf16 (no FP8 anywhere), run the check's input, quantise,
    run it again."""
    generator = fp8_generator()
    style, _ = loras_for(generator.text_pipeline.transformer, tmp_path)
    recorded = generator.generate(request(loras=(style,))).precision_choice

    side = bf16_pipeline()
    FusedLoras().use(side, [style], "tiny")
    inputs = precision.check_inputs(side.transformer, CPU, timestep=999.0, context=generator._fp8.context)
    reference = precision._run(side.transformer, inputs)
    precision.quantize(side.transformer)
    assert precision.output_error(reference, precision._run(side.transformer, inputs)) == (
        recorded.max_abs_error, recorded.relative_error)
    # ... and the FP8 weights the generator made are those of the fused bf16 weights, quantised once
    assert same_fp8(fp8_weights(generator.text_pipeline.transformer), fp8_weights(side.transformer))


def test_a_set_failing_the_fp8_check_is_refused_in_one_line_and_the_load_fp8_weights_come_back(
        float8_on_cpu, tmp_path):
    generator = fp8_generator()
    transformer = generator.text_pipeline.transformer
    loaded_weights, loaded_choice = fp8_weights(transformer), generator.precision
    style, _ = loras_for(transformer, tmp_path)
    plain = generator.generate(request())
    generator._fp8.limit = 1e-9  # the tiny model's real error with the set fused is far above it

    with pytest.raises(LoraFileError) as raised:
        generator.generate(request(loras=(style,)))
    message = str(raised.value)
    assert "\n" not in message and f"LoRAs {style.label()} with FP8 blocks: tiny's transformer in FP8 is" in message
    assert "(> 1e-07%" in message and "run jobs with these LoRAs with models.precision bf16" in message
    assert generator.loras == () and generator.precision == loaded_choice
    assert same_fp8(fp8_weights(transformer), loaded_weights)
    assert np.array_equal(generator.generate(request()).frames, plain.frames)


def test_a_lora_for_the_low_noise_expert_quantises_that_expert_again_only(float8_on_cpu, tmp_path):
    generator = fp8_generator("t2v-a14b")
    pipeline = generator.text_pipeline
    high_layer = pipeline.transformer.blocks[0].attn1.to_q
    high_weight, low_before = high_layer.weight, fp8_weights(pipeline.transformer_2)
    low, _ = loras_for(pipeline.transformer_2, tmp_path, "transformer_2")

    run = generator.generate(request(width=64, height=48, loras=(low,)))
    assert high_layer.weight is high_weight  # the high-noise expert was not touched at all
    assert not same_fp8(fp8_weights(pipeline.transformer_2), low_before)
    assert low.label() in run.precision_choice.reason and run.precision == FP8
    generator.generate(request(width=64, height=48))
    assert high_layer.weight is high_weight and same_fp8(fp8_weights(pipeline.transformer_2), low_before)


def test_a_swap_on_compiled_fp8_blocks_compiles_nothing_again(float8_on_cpu, tmp_path):
    """On a GPU the blocks are compiled after quantising (models.acceleration). A swap gives the
    blocks new weight tensors, and its check runs them on another input and, before quantising,
    in bf16: none of that may compile the blocks again (seconds each on the GPU). Traced with the
    aot_eager backend here (no C++ compiler needed)."""
    generator = fp8_generator()
    transformer = generator.text_pipeline.transformer
    style, other = loras_for(transformer, tmp_path)
    transformer.compile_repeated_blocks(fullgraph=True, dynamic=False, backend="aot_eager")
    torch._dynamo.reset()
    try:
        plain = generator.generate(request())
        with torch._dynamo.config.patch(error_on_recompile=True):
            generator.generate(request(loras=(style,)))
            generator.generate(request(loras=(other,)))
            assert np.array_equal(generator.generate(request()).frames, plain.frames)
    finally:
        torch._dynamo.reset()


def test_quantised_weights_without_their_bf16_originals_still_refuse_a_lora(tmp_path):
    """A transformer quantised outside the generator (no Fp8Blocks to give the bf16 weights back)
    is named in one line, before anything changes: adding to 8-bit weights in place is wrong."""
    quant_api = pytest.importorskip("torchao.quantization.quant_api")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quant_api, "_check_hardware_support", lambda granularities: None)
        patch.setattr(quant_api, "is_sm_at_least_89", lambda: True, raising=False)
        pipeline = bf16_pipeline()
        precision.quantize(pipeline.transformer)
    lora = lora_weights(save_lora(random_lora(pipeline.transformer), tmp_path / "l.safetensors", "diffusers"), 1.0)
    before = pipeline.transformer.blocks[0].attn1.to_q.weight
    with pytest.raises(LoraFileError) as raised:
        FusedLoras().use(pipeline, [lora], "tiny")
    assert "\n" not in str(raised.value) and "without the bf16 weights they were made from" in str(raised.value)
    assert pipeline.transformer.blocks[0].attn1.to_q.weight is before
