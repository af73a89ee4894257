"""A small random-weight Wan2.2 pipeline, built in code.

No machine that builds or tests clipmill can download model weights, yet the generation code
must be exercised end to end. This module builds the same diffusers classes a real Wan2.2
checkpoint holds, only tiny and randomly initialised, and can save them in the folder layout of
a real "-Diffusers" checkpoint, so tests load them through the real loader.

Three forms are built, one per Wan2.2 release:

- "ti2v-5b" (default): Wan2.2 VAE (residual, patchified, 16x spatial compression) and one
  transformer whose timesteps are expanded per token (`expand_timesteps=True`); it does
  text-to-video and image-to-video.
- "t2v-a14b": Wan2.1-style VAE (8x spatial compression) and two expert transformers switched at
  `boundary_ratio` 0.875.
- "i2v-a14b": as "t2v-a14b", but a `WanImageToVideoPipeline` whose experts also take the frame
  mask and the encoded image (2 * latent channels + 4 inputs), switched at 0.9.

Every build with the same seed gives the same weights. The output of a random model looks like
noise; that is expected.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from diffusers import (
    AutoencoderKLWan,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

# Marks a saved folder as random weights, so a generator loaded from it can say so.
RANDOM_WEIGHTS_MARKER = "CLIPMILL_RANDOM_WEIGHTS.txt"

TEXT_DIM = 32
LATENT_CHANNELS = 16
TinyForm = Literal["ti2v-5b", "t2v-a14b", "i2v-a14b"]
_BOUNDARY_RATIOS = {"ti2v-5b": None, "t2v-a14b": 0.875, "i2v-a14b": 0.9}

# The tokenizer learns its vocabulary from these; other words map to <unk>, which is fine for
# a model that understands nothing anyway.
_TOKENIZER_CORPUS = [
    "a dog runs across a sunny park and catches a red ball",
    "a person walks into the kitchen and hands a cup to a child",
    "a cat sleeps on the sofa while rain falls outside the window",
    "a woman holds a product bottle and turns it toward the camera",
    "a man rides a bicycle along the beach at sunset",
    "two people meet on a city street and shake hands",
    "close up of shoes on a white table, soft studio light",
    "a car drives through a forest road in autumn",
    "blurry, low quality, distorted, static, watermark, text",
]


def build_tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer trained offline, with the special tokens UMT5 expects.

    Ids 0/1/2 are <pad>/</s>/<unk>, matching UMT5's `pad_token_id=0` and `eos_token_id=1`;
    every sequence ends with </s> as T5 tokenizers do.
    """
    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"])
    tokenizer.train_from_iterator(_TOKENIZER_CORPUS, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=512,
    )


def _tiny_text_encoder(vocab_size: int) -> UMT5EncoderModel:
    config = UMT5Config(
        vocab_size=vocab_size,
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return UMT5EncoderModel(config).eval()


def _tiny_vae(wan22: bool) -> AutoencoderKLWan:
    stats = {"latents_mean": [0.0] * LATENT_CHANNELS, "latents_std": [1.0] * LATENT_CHANNELS}
    if wan22:
        # Wan2.2 VAE: pixels are patchified 2x2 into 12 channels before a residual encoder.
        return AutoencoderKLWan(
            base_dim=8,
            z_dim=LATENT_CHANNELS,
            dim_mult=[1, 2, 2, 2],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
            is_residual=True,
            in_channels=12,
            out_channels=12,
            patch_size=2,
            scale_factor_spatial=16,
            scale_factor_temporal=4,
            **stats,
        ).eval()
    return AutoencoderKLWan(
        base_dim=8,
        z_dim=LATENT_CHANNELS,
        dim_mult=[1, 2, 2, 2],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        **stats,
    ).eval()


def _tiny_transformer(in_channels: int = LATENT_CHANNELS) -> WanTransformer3DModel:
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=in_channels,
        out_channels=LATENT_CHANNELS,
        text_dim=TEXT_DIM,
        freq_dim=32,
        ffn_dim=64,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        # The rotary table must cover every latent position of a real frame size; 1024 is
        # what the real checkpoints use and costs nothing at this width.
        rope_max_seq_len=1024,
    ).eval()


def _scheduler() -> UniPCMultistepScheduler:
    # The scheduler the Wan2.2 checkpoints ship: UniPC over flow-matching sigmas.
    return UniPCMultistepScheduler(
        num_train_timesteps=1000,
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=5.0,
    )


def build_tiny_components(seed: int = 0, *, form: TinyForm = "ti2v-5b") -> dict:
    """Build the components of a tiny random-weight Wan2.2 pipeline.

    Args:
        seed: Seeds the weight initialisation; the same seed gives the same weights. The global
            torch random state is left as it was.
        form: Which release to mimic: "ti2v-5b", "t2v-a14b" or "i2v-a14b" (see module doc).

    Returns:
        Keyword arguments for `WanPipeline(**components)` ("i2v-a14b":
        `WanImageToVideoPipeline`).
    """
    if form not in _BOUNDARY_RATIOS:
        raise ValueError(f"unknown tiny form {form!r}; choose one of {', '.join(_BOUNDARY_RATIOS)}")
    two_experts = form != "ti2v-5b"
    in_channels = 2 * LATENT_CHANNELS + 4 if form == "i2v-a14b" else LATENT_CHANNELS
    tokenizer = build_tiny_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        text_encoder = _tiny_text_encoder(vocab_size=len(tokenizer))
        vae = _tiny_vae(wan22=not two_experts)
        transformer = _tiny_transformer(in_channels)
        transformer_2 = _tiny_transformer(in_channels) if two_experts else None
    return {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "vae": vae,
        "scheduler": _scheduler(),
        "transformer": transformer,
        "transformer_2": transformer_2,
        "boundary_ratio": _BOUNDARY_RATIOS[form],
        "expand_timesteps": form == "ti2v-5b",
    }


def build_tiny_pipeline(seed: int = 0, *, form: TinyForm = "ti2v-5b") -> WanPipeline | WanImageToVideoPipeline:
    """A tiny random-weight Wan pipeline; see `build_tiny_components`."""
    pipeline_class = WanImageToVideoPipeline if form == "i2v-a14b" else WanPipeline
    pipe = pipeline_class(**build_tiny_components(seed, form=form))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_pipeline(folder: str | Path, *, seed: int = 0, form: TinyForm = "ti2v-5b") -> Path:
    """Save a tiny pipeline in the folder layout of a real Wan2.2 "-Diffusers" checkpoint.

    The folder holds `model_index.json` and one subfolder per component (`scheduler`,
    `text_encoder`, `tokenizer`, `transformer`, `vae`, and `transformer_2` for the A14B
    forms), plus a marker file saying the weights are random.

    Returns:
        The folder.
    """
    folder = Path(folder)
    build_tiny_pipeline(seed, form=form).save_pretrained(folder)
    (folder / RANDOM_WEIGHTS_MARKER).write_text("Random weights built by clipmill's models.tiny_wan; for tests and demos.\n")
    return folder
