"""FP8 at load: chosen only on a GPU that has it, with torchao, for a bf16 transformer sitting
resident; checked against the unquantised output and refused beyond the error limit, with the
original weights put back; recorded and said otherwise. No GPU needed: the device facts are
injected into the pure decision, and torchao's real float8 path runs on the CPU once its
hardware guard is opened (torch._scaled_mm has a CPU kernel; torchao asserts a GPU only
because that is where it is fast)."""
import logging
import math

import pytest
import torch

from clipmill.models import precision
from clipmill.models.precision import BF16, FP8, PrecisionChoice, decide, output_error

HOPPER = dict(device_type="cuda", capability=(9, 0), dtype=torch.bfloat16, torchao_error=None)
CPU = torch.device("cpu")
FP8_PLANNED = PrecisionChoice(FP8, FP8, "pretend sm90 GPU with torchao")


# --- the decision -------------------------------------------------------------------------

@pytest.mark.parametrize("capability", [(8, 9), (9, 0), (10, 0)])
def test_a_gpu_with_fp8_and_torchao_gets_fp8(capability):
    assert decide(FP8, **{**HOPPER, "capability": capability}).precision == FP8


@pytest.mark.parametrize("change, reason_part", [
    (dict(device_type="cpu", capability=None), "no CUDA device"),
    (dict(capability=(8, 0)), "sm80, FP8 matmuls need sm89"),
    (dict(capability=(7, 5)), "sm75"),
    (dict(torchao_error="ModuleNotFoundError: No module named 'torchao'"), "clipmill[fp8]"),
    (dict(dtype=torch.float32), "per-row FP8 quantises bf16 weights"),
    (dict(profile="model_offload"), "resident profile only"),
    (dict(profile="group_offload"), "resident profile only"),
])
def test_anything_else_runs_as_loaded_and_says_why(change, reason_part):
    choice = decide(FP8, **{**HOPPER, **change})
    assert choice.precision != FP8 and choice.requested == FP8 and choice.fell_back
    assert reason_part in choice.reason


def test_the_fallback_is_named_by_the_dtype_the_transformer_really_runs_in():
    assert decide(FP8, **{**HOPPER, "capability": (8, 0)}).precision == BF16
    assert decide(FP8, **{**HOPPER, "device_type": "cpu", "capability": None, "dtype": torch.float32}).precision == "fp32"


def test_bf16_asked_for_is_bf16_even_on_hopper():
    choice = decide(BF16, **HOPPER)
    assert (choice.precision, choice.fell_back) == (BF16, False)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        decide("int4", **HOPPER)


def test_plan_on_the_cpu_never_imports_torchao(monkeypatch):
    monkeypatch.setattr(precision, "torchao_import_error", lambda: pytest.fail("torchao looked up on the CPU"))
    assert "no CUDA device" in precision.plan(FP8, CPU, torch.bfloat16).reason


# --- the error measure --------------------------------------------------------------------

def test_output_error_is_the_largest_difference_and_the_l2_ratio():
    reference = torch.tensor([3.0, 4.0])
    assert output_error(reference, reference.clone()) == (0.0, 0.0)
    max_abs, relative = output_error(reference, torch.tensor([3.0, 4.5]))
    assert max_abs == pytest.approx(0.5) and relative == pytest.approx(0.5 / 5.0)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_an_overflowed_output_is_infinitely_wrong_never_nan(bad):
    max_abs, relative = output_error(torch.tensor([1.0, 2.0]), torch.tensor([1.0, bad]))
    assert max_abs == relative == math.inf


def test_outputs_of_other_shapes_are_not_compared():
    with pytest.raises(ValueError, match="differ in shape"):
        output_error(torch.zeros(2, 3), torch.zeros(3, 2))


# --- which layers -------------------------------------------------------------------------

def test_only_the_blocks_linear_layers_are_quantised():
    from clipmill.models.tiny_wan import _tiny_transformer

    chosen = {name for name, module in _tiny_transformer().named_modules() if precision.quantizable(module, name)}
    assert "blocks.0.attn1.to_q" in chosen and "blocks.1.attn2.to_out.0" in chosen and "blocks.0.ffn.net.2" in chosen
    assert len(chosen) == 20  # 2 blocks x (4 self- + 4 cross-attention projections + 2 feed-forward)
    assert not {name for name in chosen if not name.startswith("blocks.")}  # proj_out, embedders: as loaded
    assert not precision.quantizable(torch.nn.Linear(24, 32), "blocks.0.ffn.net.2")  # 24 not a multiple of 16


# --- the check, with torchao's real float8 path on the CPU ---------------------------------

@pytest.fixture
def float8_on_cpu(monkeypatch):
    """torchao's quantisation on the CPU: only its hardware guard opened."""
    quant_api = pytest.importorskip("torchao.quantization.quant_api")
    monkeypatch.setattr(quant_api, "_check_hardware_support", lambda granularities: None)
    monkeypatch.setattr(quant_api, "is_sm_at_least_89", lambda: True, raising=False)


def _bf16_transformer(seed: int = 0, in_channels: int = 16):
    from clipmill.models.tiny_wan import _tiny_transformer

    torch.manual_seed(seed)
    return _tiny_transformer(in_channels).to(torch.bfloat16)


def _output(transformer, timestep=999.0):
    return precision._run(transformer, precision.check_inputs(transformer, CPU, timestep=timestep))


def test_fp8_within_the_limit_is_kept_with_its_errors(float8_on_cpu):
    from torchao.quantization import Float8Tensor

    transformer = _bf16_transformer()
    before = _output(transformer)
    choice = precision.apply(FP8_PLANNED, [transformer], CPU, profile="resident", timesteps=[999.0])
    assert (choice.precision, choice.layers) == (FP8, 20)
    assert 0.0 < choice.relative_error <= precision.MAX_RELATIVE_ERROR and choice.max_abs_error > 0
    assert isinstance(transformer.blocks[0].ffn.net[2].weight, Float8Tensor)
    assert not isinstance(transformer.proj_out.weight, Float8Tensor)
    assert not isinstance(transformer.condition_embedder.time_proj.weight, Float8Tensor)
    # The recorded error is the model's own: running it again measures the same.
    assert output_error(before, _output(transformer))[1] == pytest.approx(choice.relative_error)


def test_fp8_beyond_the_limit_is_refused_and_the_weights_put_back(float8_on_cpu):
    transformer = _bf16_transformer()
    before = _output(transformer)
    choice = precision.apply(FP8_PLANNED, [transformer], CPU, profile="resident", timesteps=[999.0],
                             max_relative_error=1e-6)
    assert choice.precision == BF16 and choice.fell_back and choice.layers == 0
    assert choice.relative_error > 1e-6 and "from the unquantised one on the check step" in choice.reason
    assert transformer.blocks[0].attn1.to_q.weight.dtype == torch.bfloat16
    assert torch.equal(_output(transformer), before)  # bit for bit the model it was


def test_both_experts_are_checked_and_refused_together(float8_on_cpu, monkeypatch):
    high, low = _bf16_transformer(0), _bf16_transformer(1)
    low_before = _output(low, 499.0)
    # Refuse on the second expert only: the first one, already quantised, must come back too.
    measured = []
    real_error = precision.output_error

    def second_is_wrong(reference, candidate):
        measured.append(1)
        max_abs, relative = real_error(reference, candidate)
        return (max_abs, relative) if len(measured) == 1 else (max_abs, 0.5)

    monkeypatch.setattr(precision, "output_error", second_is_wrong)
    choice = precision.apply(FP8_PLANNED, [high, low], CPU, profile="resident", timesteps=[999.0, 499.0])
    monkeypatch.undo()
    assert len(measured) == 2 and choice.precision == BF16 and choice.relative_error == 0.5
    for expert in (high, low):
        assert expert.blocks[1].ffn.net[0].proj.weight.dtype == torch.bfloat16
    assert torch.equal(_output(low, 499.0), low_before)


def test_both_experts_in_fp8_report_the_worse_error(float8_on_cpu):
    high, low = _bf16_transformer(0), _bf16_transformer(1)
    high_ref, low_ref = _output(high, 999.0), _output(low, 499.0)
    choice = precision.apply(FP8_PLANNED, [high, low], CPU, profile="resident", timesteps=[999.0, 499.0])
    assert (choice.precision, choice.layers) == (FP8, 40)
    errors = [output_error(high_ref, _output(high, 999.0))[1], output_error(low_ref, _output(low, 499.0))[1]]
    assert choice.relative_error == pytest.approx(max(errors))


def test_a_check_that_raises_falls_back_to_the_weights_as_loaded(float8_on_cpu, monkeypatch):
    transformer = _bf16_transformer()
    before = _output(transformer)
    runs = []
    real_run = precision._run

    def fails_in_fp8(model, inputs):
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("CUBLAS_STATUS_NOT_SUPPORTED")
        return real_run(model, inputs)

    monkeypatch.setattr(precision, "_run", fails_in_fp8)
    choice = precision.apply(FP8_PLANNED, [transformer], CPU, profile="resident", timesteps=[999.0])
    monkeypatch.undo()
    assert choice.precision == BF16 and "FP8 check raised RuntimeError: CUBLAS_STATUS_NOT_SUPPORTED" in choice.reason
    assert torch.equal(_output(transformer), before)


def test_fp8_blocks_compile_as_one_graph_each(float8_on_cpu):
    """The worker compiles the blocks with fullgraph=True after quantising (models.acceleration):
    a graph break on torchao's tensor subclass would fail every clip, not just slow it. Traced
    here with the aot_eager backend (no C++ compiler needed); the GPU differs in code generation."""
    transformer = _bf16_transformer()
    assert precision.apply(FP8_PLANNED, [transformer], CPU, profile="resident", timesteps=[999.0]).precision == FP8
    eager = _output(transformer)
    transformer.compile_repeated_blocks(fullgraph=True, dynamic=False, backend="aot_eager")
    torch.testing.assert_close(_output(transformer), eager, rtol=0, atol=0)


def test_an_offloaded_model_is_not_quantised(monkeypatch):
    monkeypatch.setattr(precision, "quantize", lambda transformer: pytest.fail("quantised an offloaded model"))
    transformer = _bf16_transformer()
    choice = precision.apply(FP8_PLANNED, [transformer], CPU, profile="model_offload", timesteps=[999.0])
    assert choice.precision == BF16 and "resident profile only" in choice.reason


def test_the_check_input_is_fixed():
    transformer = _bf16_transformer()
    first, second = (precision.check_inputs(transformer, CPU, timestep=999.0) for _ in range(2))
    assert torch.equal(first["hidden_states"], second["hidden_states"])
    assert first["hidden_states"].shape == (1, 16, precision.CHECK_LATENT_FRAMES, 32, 32)
    assert first["hidden_states"].dtype == torch.bfloat16


# --- the generator ------------------------------------------------------------------------

def _tiny_pipeline_with_bf16_transformer():
    from clipmill.models.tiny_wan import build_tiny_pipeline

    pipeline = build_tiny_pipeline()
    pipeline.transformer.to(torch.bfloat16)  # as a real checkpoint loads on a GPU
    return pipeline


def test_a_cpu_generator_asked_for_fp8_runs_as_loaded_says_so_once_and_records_it(caplog):
    from clipmill.models.tiny_wan import build_tiny_pipeline
    from clipmill.models.wan import MODEL_SPECS, GenerationRequest, VideoGenerator

    with caplog.at_level(logging.INFO, logger="clipmill.models.wan"):
        generator = VideoGenerator(MODEL_SPECS["tiny"], "test", build_tiny_pipeline(), random_weights=True,
                                   device=CPU, precision=FP8)
        run = generator.generate(GenerationRequest(prompt="a dog runs", width=64, height=64, num_frames=5, steps=1,
                                                   guidance=5.0, seed=0))
    said = [r for r in caplog.records if "precision" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING and "no CUDA device" in said[0].getMessage()
    assert generator.precision.fell_back and generator.precision.precision == "fp32"
    assert run.precision == "fp32"


def test_a_generator_in_fp8_makes_frames_and_records_fp8(float8_on_cpu, monkeypatch):
    """The whole load path on the CPU, the GPU's facts pretended: plan, placement, the check on
    a real prompt's embedding, quantisation, then a generation through the FP8 blocks."""
    from torchao.quantization import Float8Tensor

    from clipmill.models.wan import MODEL_SPECS, GenerationRequest, VideoGenerator

    request = GenerationRequest(prompt="a dog runs", width=64, height=64, num_frames=5, steps=2, guidance=5.0, seed=3)
    as_loaded = VideoGenerator(MODEL_SPECS["tiny"], "test", _tiny_pipeline_with_bf16_transformer(),
                               random_weights=True, device=CPU).generate(request)
    monkeypatch.setattr(precision, "plan", lambda requested, device, dtype: FP8_PLANNED)
    generator = VideoGenerator(MODEL_SPECS["tiny"], "test", _tiny_pipeline_with_bf16_transformer(),
                               random_weights=True, device=CPU, precision=FP8)
    assert generator.precision.precision == FP8 and generator.precision.layers == 20
    assert 0.0 < generator.precision.relative_error <= precision.MAX_RELATIVE_ERROR
    assert isinstance(generator.text_pipeline.transformer.blocks[0].attn1.to_q.weight, Float8Tensor)
    run = generator.generate(request)
    assert run.precision == FP8 and run.frames.shape == as_loaded.frames.shape == (5, 64, 64, 3)
    assert as_loaded.precision == BF16
    assert not (run.frames == as_loaded.frames).all()  # the FP8 blocks made these frames


def test_a_generator_refusing_fp8_still_generates_as_loaded(float8_on_cpu, monkeypatch):
    from clipmill.models.wan import MODEL_SPECS, GenerationRequest, VideoGenerator

    request = GenerationRequest(prompt="a dog runs", width=64, height=64, num_frames=5, steps=2, guidance=5.0, seed=3)
    as_loaded = VideoGenerator(MODEL_SPECS["tiny"], "test", _tiny_pipeline_with_bf16_transformer(),
                               random_weights=True, device=CPU).generate(request)
    monkeypatch.setattr(precision, "plan", lambda requested, device, dtype: FP8_PLANNED)
    monkeypatch.setattr(precision, "MAX_RELATIVE_ERROR", 1e-6)  # read at load: tiny's real ~1% is over it
    generator = VideoGenerator(MODEL_SPECS["tiny"], "test", _tiny_pipeline_with_bf16_transformer(),
                               random_weights=True, device=CPU, precision=FP8)
    assert generator.precision.precision == BF16 and generator.precision.fell_back
    assert generator.precision.relative_error > 1e-6 and "on the check step (> 0.0001%)" in generator.precision.reason
    run = generator.generate(request)
    assert run.precision == BF16
    assert (run.frames == as_loaded.frames).all()  # the same weights as loaded, the same frames


def test_load_generator_refuses_an_unknown_precision():
    from clipmill.models.wan import load_generator

    with pytest.raises(ValueError, match="unknown precision 'fp4'"):
        load_generator("tiny", precision="fp4")
