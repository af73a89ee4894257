"""The attention kernel's choice at load: FlashAttention-4 only on Hopper, installed, bf16 and
agreeing with SDPA; SDPA otherwise, with the reason recorded. No GPU needed: the device facts
and the kernel are injected."""
import pytest
import torch

import clipmill.models.attention as attention
from clipmill.models.attention import FLASH_ATTENTION_4, SDPA, decide

HOPPER = dict(device_type="cuda", capability=(9, 0), dtype=torch.bfloat16, fa4_import_error=None)


@pytest.fixture(scope="module")
def generator():
    """A tiny generator of this module's own: the session's one stays as the cache tests expect it."""
    from clipmill.models.tiny_wan import build_tiny_pipeline
    from clipmill.models.wan import MODEL_SPECS, VideoGenerator

    return VideoGenerator(MODEL_SPECS["tiny"], "test", build_tiny_pipeline(), random_weights=True,
                          device=torch.device("cpu"))


def test_hopper_with_fa4_installed_chooses_it():
    assert decide("auto", **HOPPER).kernel == FLASH_ATTENTION_4


@pytest.mark.parametrize("change, reason_part", [
    (dict(device_type="cpu", capability=None), "no CUDA device"),
    (dict(capability=(8, 0)), "not Hopper"),
    (dict(capability=(10, 0)), "not Hopper"),
    (dict(dtype=torch.float32), "bf16/fp16"),
    (dict(fa4_import_error="ModuleNotFoundError: No module named 'flash_attn'"), "clipmill[hopper]"),
])
def test_anything_else_falls_back_to_sdpa_and_says_why(change, reason_part):
    choice = decide("auto", **{**HOPPER, **change})
    assert choice.kernel == SDPA
    assert reason_part in choice.reason


def test_sdpa_asked_for_is_sdpa_even_on_hopper():
    assert decide("sdpa", **HOPPER).kernel == SDPA


def test_unknown_kernel_name_is_refused():
    with pytest.raises(ValueError, match="unknown attention kernel"):
        decide("flash3", **HOPPER)


def test_cpu_generator_records_sdpa(generator):
    from clipmill.models.wan import GenerationRequest

    assert generator.attention.kernel == SDPA
    run = generator.generate(GenerationRequest(prompt="a dog runs", width=64, height=64, num_frames=5, steps=1,
                                               guidance=5.0, seed=0))
    assert run.attention == SDPA


@pytest.fixture
def hopper(monkeypatch):
    """A pretend Hopper GPU with FA4 importable; the check's kernel is set per test."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    monkeypatch.setattr(attention, "fa4_import_error", lambda: None)
    monkeypatch.delenv(attention.ATTENTION_ENV, raising=False)
    return torch.device("cuda")


def test_fa4_that_matches_sdpa_is_chosen_with_its_difference(hopper, monkeypatch):
    monkeypatch.setattr(attention, "check_against_sdpa", lambda device: 1e-3)
    choice = attention.choose_kernel(hopper, torch.bfloat16)
    assert (choice.kernel, choice.max_abs_diff) == (FLASH_ATTENTION_4, 1e-3)


def test_fa4_that_disagrees_with_sdpa_falls_back(hopper, monkeypatch):
    monkeypatch.setattr(attention, "check_against_sdpa", lambda device: 0.5)
    choice = attention.choose_kernel(hopper, torch.bfloat16)
    assert choice.kernel == SDPA and "differs from SDPA by 0.5" in choice.reason


def test_fa4_that_fails_to_run_falls_back(hopper, monkeypatch):
    def broken(device):
        raise RuntimeError("CuTe DSL: no kernel for this GPU")

    monkeypatch.setattr(attention, "check_against_sdpa", broken)
    choice = attention.choose_kernel(hopper, torch.bfloat16)
    assert choice.kernel == SDPA and "CuTe DSL" in choice.reason


def test_environment_turns_the_fast_kernel_off(hopper, monkeypatch):
    monkeypatch.setattr(attention, "check_against_sdpa", lambda device: pytest.fail("no check when SDPA is asked"))
    monkeypatch.setenv(attention.ATTENTION_ENV, "sdpa")
    assert attention.choose_kernel(hopper, torch.bfloat16).kernel == SDPA


def test_fa4_op_traces_into_a_full_graph_through_its_fake():
    """The compiled blocks see the custom op, not CuTe's Python: a fullgraph compile on the
    CPU, with the op's real body replaced by SDPA, gives SDPA's answer."""
    def sdpa_body(query, key, value, softmax_scale):
        return torch.nn.functional.scaled_dot_product_attention(
            query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2), scale=softmax_scale).transpose(1, 2)

    q, k, v = (torch.randn(1, 16, 2, 8) for _ in range(3))
    graph_ops = []

    def backend(graph_module, example_inputs):
        graph_ops.extend(str(node.target) for node in graph_module.graph.nodes)
        return graph_module.forward

    torch.library.register_kernel("clipmill::flash_attention_4", "cpu", sdpa_body)
    compiled = torch.compile(attention._diffusers_flash_4, backend=backend, fullgraph=True)
    out = compiled(q, k, v)
    assert any("flash_attention_4" in op for op in graph_ops)
    torch.testing.assert_close(out, sdpa_body(q, k, v, 8 ** -0.5))


def test_use_kernel_points_every_attention_module_at_the_backend():
    from diffusers.models.attention_dispatch import AttentionBackendName, _AttentionBackendRegistry

    from clipmill.models.tiny_wan import build_tiny_pipeline

    transformer = build_tiny_pipeline().transformer
    assert attention.use_kernel(transformer, FLASH_ATTENTION_4) == 4  # 2 blocks x (self, cross)
    processors = {m.processor._attention_backend for m in transformer.modules() if hasattr(m, "processor")}
    assert processors == {AttentionBackendName.FLASH_4_HUB}
    assert _AttentionBackendRegistry._backends[AttentionBackendName.FLASH_4_HUB] is attention._diffusers_flash_4
    attention.use_kernel(transformer, SDPA)
    assert {m.processor._attention_backend for m in transformer.modules() if hasattr(m, "processor")} == {None}
