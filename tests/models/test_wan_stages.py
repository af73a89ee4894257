"""Outside the denoising loop: prompt embeddings cached, the decode's dtype, and per-token
timesteps embedded once per distinct value."""
import numpy as np
import pytest
import torch

from clipmill.models.wan import GenerationRequest
from clipmill.models.wan_stages import LatentDecoder, PromptEmbeddings, gather_timestep_embedding


@pytest.fixture(scope="module")
def generator():
    """A tiny generator of this module's own: the session's one stays as the cache tests expect it."""
    from clipmill.models.tiny_wan import build_tiny_pipeline
    from clipmill.models.wan import MODEL_SPECS, VideoGenerator

    return VideoGenerator(MODEL_SPECS["tiny"], "test", build_tiny_pipeline(), random_weights=True,
                          device=torch.device("cpu"))


def request(**overrides):
    fields = dict(prompt="a dog runs", negative_prompt="blurry, static", width=64, height=64, num_frames=5,
                  steps=1, guidance=5.0, seed=0)
    return GenerationRequest(**{**fields, **overrides})


def test_negative_prompt_is_encoded_once_across_clips(generator):
    generator._embeddings.clear()
    assert generator.generate(request(prompt="a dog runs")).text_cached == 0
    assert generator.generate(request(prompt="a cat sleeps")).text_cached == 1  # the negative prompt
    assert generator.generate(request(prompt="a dog runs")).text_cached == 2


def test_cached_embeddings_give_the_same_frames_as_fresh_ones(generator):
    generator._embeddings.clear()
    fresh = generator.generate(request(seed=3))
    cached = generator.generate(request(seed=3))
    assert cached.text_cached == 2
    np.testing.assert_array_equal(fresh.frames, cached.frames)


def test_cache_drops_the_least_recently_used_text():
    class Pipe:
        _execution_device = torch.device("cpu")
        calls = []

        def _get_t5_prompt_embeds(self, prompt, max_sequence_length, device):
            self.calls.append(prompt)
            return torch.zeros(1, max_sequence_length, 4)

    cache, pipe = PromptEmbeddings(capacity=2), Pipe()
    for text in ("a", "b", "a", "c", "b"):
        cache.get(pipe, text)
    assert pipe.calls == ["a", "b", "c", "b"]  # "b" was dropped when "c" came in


def test_stage_seconds_and_decode_dtype_are_recorded(generator):
    run = generator.generate(request(decode_dtype="bfloat16"))
    # The bf16 copy of the VAE exists only for a resident GPU pipeline: the CPU decodes in fp32.
    assert run.decode_dtype == "float32"
    assert min(run.encode_s, run.denoise_s, run.decode_s) >= 0


def test_unknown_decode_dtype_is_refused(generator):
    with pytest.raises(ValueError, match="decode_dtype"):
        generator.validate(request(decode_dtype="float16"))


def test_bf16_decoder_is_a_copy_and_close_to_fp32():
    from clipmill.models.tiny_wan import build_tiny_pipeline

    pipe = build_tiny_pipeline()
    decoder = LatentDecoder()
    vae, used = decoder.vae_for(pipe.vae, "bfloat16", resident=True)
    assert used == "bfloat16" and vae is not pipe.vae and pipe.vae.dtype == torch.float32
    assert decoder.vae_for(pipe.vae, "bfloat16", resident=True)[0] is vae  # made once
    latents = torch.randn(1, 16, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    fp32, _ = decoder.decode(pipe, latents, "float32", resident=True)
    bf16, _ = decoder.decode(pipe, latents, "bfloat16", resident=True)
    assert fp32.shape == bf16.shape == (5, 64, 64, 3)
    assert (fp32.int() - bf16.int()).abs().float().mean() < 8
    # Host frames in row order: a strided view made every intermediate frame file slow to write.
    assert fp32.is_contiguous() and bf16.is_contiguous()


def test_per_token_timesteps_are_embedded_once_per_value_with_the_same_result():
    from clipmill.models.tiny_wan import build_tiny_pipeline

    transformer = build_tiny_pipeline().transformer
    latents = torch.randn(2, 16, 3, 8, 8)
    text = torch.randn(2, 8, 32)
    tokens = 3 * 4 * 4
    timestep = torch.full((2, tokens), 700.0)
    timestep[:, :16] = 0.0  # the first latent frame is the conditioning image, at t=0
    timestep[1] = 300.0
    with torch.no_grad():
        expected = transformer(latents, timestep, text, return_dict=False)[0]
        seen = []
        original_time_embedder = transformer.condition_embedder.time_embedder.forward
        transformer.condition_embedder.time_embedder.forward = lambda x: (seen.append(x.shape[0]), original_time_embedder(x))[1]
        gather_timestep_embedding(transformer)
        gather_timestep_embedding(transformer)  # idempotent
        gathered = transformer(latents, timestep, text, return_dict=False)[0]
        per_sample = transformer(latents, torch.tensor([700.0, 300.0]), text, return_dict=False)[0]
    assert seen[0] == 3  # 0, 300 and 700, not 2 x 48 tokens
    torch.testing.assert_close(gathered, expected, rtol=1e-5, atol=1e-5)
    assert per_sample.shape == expected.shape
