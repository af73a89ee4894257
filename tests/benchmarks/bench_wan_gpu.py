"""GPU benchmark: Wan2.2 at its real size (random weights), plain diffusers against clipmill.

Builds the released architecture (TI2V-5B or A14B) on the GPU with random weights: the shapes
and the compute are those of the real checkpoints, the output is noise. In one process it
times (a) diffusers' own pipeline with its defaults and (b) clipmill's generation path
(`models.wan.VideoGenerator`), plus the fast profile and, optionally, a 2-segment clip and
(c) clipmill's full quality again with `precision: fp8` (models/precision.py), on components
rebuilt with the same seed: seconds a clip against (a) and (b), and the FP8 check's errors.

The distilled profile (issue #26: 4 steps, guidance 1.0 so no unconditional pass, the
profile's Euler sampler and shift) with a LoRA fused, each clip timed with its VAE decode:
`distilled` through clipmill (`speed: distilled`, the LoRA fused by models.lora from a file);
`distilled_plain`, diffusers' WanPipeline with `load_lora_weights` + `fuse_lora` on the same
weights and file, 4 steps at guidance 1.0 (the comparison the issue's 1.5x is against); and
`distilled_fp8`, clipmill's distilled path on FP8 blocks (the LoRA fused into their bf16 weights
and quantised again, with the check against the fused model; after `fp8` on the same
generator when both are asked for). The LoRA is random, rank 64 (`--lora-rank`) over every
attention and feed-forward layer, in lightx2v's key layout and bf16 as their Lightning LoRAs are
published, saved to a temporary .safetensors file.

    python tests/benchmarks/bench_wan_gpu.py --model ti2v-5b --paths plain,clipmill,fast,segments --segment-steps 20 \
        --json tests/benchmarks/results/wan_ti2v5b_h200.json
    python tests/benchmarks/bench_wan_gpu.py --model a14b --paths clipmill --json tests/benchmarks/results/wan_a14b_h200.json
    python tests/benchmarks/bench_wan_gpu.py --paths plain,clipmill,fp8 --json tests/benchmarks/results/wan_ti2v5b_fp8_h200.json
    python tests/benchmarks/bench_wan_gpu.py --paths distilled_plain,distilled,distilled_fp8 \
        --json tests/benchmarks/results/wan_ti2v5b_distilled_h200.json
    python tests/benchmarks/bench_wan_gpu.py --smoke      # small sizes, checks the script end to end
    python tests/benchmarks/bench_wan_gpu.py --smoke --paths distilled_plain,distilled,distilled_fp8

Not part of the test suite: it needs a CUDA GPU with ~60 GB (5B) or ~100 GB (A14B) free.
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

import clipmill.models  # noqa: F401,E402  first: it quiets diffusers' torchao notice (models/__init__.py)
import diffusers  # noqa: E402
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import UMT5Config, UMT5EncoderModel  # noqa: E402

from clipmill.models import precision as precisions  # noqa: E402
from clipmill.models.lora_files import LoraWeights, lora_weights  # noqa: E402
from clipmill.models.tiny_wan import build_tiny_tokenizer  # noqa: E402
from clipmill.models.wan import MODEL_SPECS, GenerationRequest, VideoGenerator  # noqa: E402

# Run as a file (`python tests/benchmarks/bench_wan_gpu.py`, as the device calls run it), Python
# puts only this folder on the path: the repository's root goes last, for `tests.` alone (clipmill
# itself is the installed package, whose clipmill.models the root's clipmill/ folder lacks).
if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.results_json import emit  # noqa: E402
from tests.models.lora_files import RandomLora, random_lora, save_lora  # noqa: E402

WARMUP_STEPS = 2  # enough to compile and to load every kernel before timing
PROMPT = "A boy throws a yellow frisbee to a brown dog in a sunny park, the dog leaps and catches it"
NEGATIVE = "blurry, static, low quality, worst quality, deformed"

# The released configurations (diffusers-format config.json of each checkpoint).
TRANSFORMER_5B = dict(patch_size=(1, 2, 2), num_attention_heads=24, attention_head_dim=128, in_channels=48,
                      out_channels=48, text_dim=4096, freq_dim=256, ffn_dim=14336, num_layers=30,
                      cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
TRANSFORMER_A14B = dict(patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=16,
                        out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40,
                        cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
VAE_22 = dict(base_dim=160, decoder_base_dim=256, z_dim=48, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
              temperal_downsample=[False, True, True], is_residual=True, in_channels=12, out_channels=12,
              patch_size=2, scale_factor_spatial=16, scale_factor_temporal=4,
              latents_mean=[0.0] * 48, latents_std=[1.0] * 48)
VAE_21 = dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2,
              temperal_downsample=[False, True, True], latents_mean=[0.0] * 16, latents_std=[1.0] * 16)
UMT5_XXL = dict(d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=24, vocab_size=256384,
                feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, is_encoder_decoder=False)


def build_components(model: str, device: torch.device, smoke: bool) -> dict:
    """Random-weight components of the real architecture, built directly on the GPU."""
    torch.manual_seed(0)
    transformer_cfg = dict(TRANSFORMER_5B if model == "ti2v-5b" else TRANSFORMER_A14B)
    umt5 = dict(UMT5_XXL)
    vae_cfg = dict(VAE_22 if model == "ti2v-5b" else VAE_21)
    if smoke:  # same classes and wiring, a fraction of the size: checks the script, measures nothing
        transformer_cfg.update(num_layers=1, num_attention_heads=2, ffn_dim=256)
        umt5.update(num_layers=1, vocab_size=1000, d_ff=256, num_heads=4)
        vae_cfg.update(base_dim=16, decoder_base_dim=None, num_res_blocks=1)
    with torch.device(device):
        text_encoder = UMT5EncoderModel(UMT5Config(**umt5)).to(torch.bfloat16).eval()
        transformer = _bf16_like_from_pretrained(WanTransformer3DModel(**transformer_cfg))
        transformer_2 = _bf16_like_from_pretrained(WanTransformer3DModel(**transformer_cfg)) if model == "a14b" else None
        vae = AutoencoderKLWan(**vae_cfg).to(torch.float32).eval()
    shift = 5.0 if model == "ti2v-5b" else 12.0
    scheduler = UniPCMultistepScheduler(num_train_timesteps=1000, prediction_type="flow_prediction",
                                        use_flow_sigmas=True, flow_shift=shift)
    components = dict(tokenizer=build_tiny_tokenizer(), text_encoder=text_encoder, transformer=transformer,
                      vae=vae, scheduler=scheduler)
    if model == "a14b":
        components.update(transformer_2=transformer_2, boundary_ratio=0.875)
    else:
        components.update(expand_timesteps=True)
    return components


def _bf16_like_from_pretrained(transformer: WanTransformer3DModel) -> WanTransformer3DModel:
    """bf16, except the modules diffusers keeps in float32 when loading a checkpoint
    (norms, rotary table, time embedder): the dtypes a real loaded model runs with."""
    keep = tuple(transformer._keep_in_fp32_modules or ())
    transformer.to(torch.bfloat16)
    for name, module in transformer.named_modules():
        if name and name.split(".")[-1] in keep:
            module.to(torch.float32)
    for name, param in transformer.named_parameters(recurse=False):
        if name in keep:
            param.data = param.data.float()
    return transformer.eval()


def forward_tflop(cfg: dict, frames: int, height: int, width: int, spatial: int) -> float:
    """Matmul FLOPs of one transformer forward (self-attention, cross-attention on 512 text
    tokens, feed-forward), the figure TFLOP/s are reported against."""
    tokens = ((frames - 1) // 4 + 1) * (height // spatial // 2) * (width // spatial // 2)
    dim = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    linear = 2 * (4 * tokens * dim**2 + 2 * tokens * dim**2 + 2 * tokens * dim * cfg["ffn_dim"])
    attention = 4 * tokens**2 * dim + 4 * tokens * 512 * dim
    return (linear + attention) * cfg["num_layers"] / 1e12


class StepClock:
    """CUDA events at each step's end: per-step GPU time without a host sync inside the loop.
    (On the CPU, for --smoke runs, plain timestamps.)"""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, pipe, step, timestep, tensors):  # diffusers' callback_on_step_end
        if torch.cuda.is_available():
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.events.append(event)
        else:
            self.events.append(time.perf_counter())
        return {}

    def seconds_per_step(self) -> float:
        if len(self.events) < 2:
            return float("nan")
        first, last = self.events[0], self.events[-1]
        elapsed = first.elapsed_time(last) / 1000 if torch.cuda.is_available() else last - first
        return elapsed / (len(self.events) - 1)


def timed(run) -> tuple[float, float]:
    if not torch.cuda.is_available():
        start = time.perf_counter()
        run()
        return time.perf_counter() - start, 0.0
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    run()
    torch.cuda.synchronize()
    return time.perf_counter() - start, torch.cuda.max_memory_allocated() / 2**30


def scale_to_weights(lora: RandomLora, transformer: torch.nn.Module, fraction: float = 0.1,
                     dtype: torch.dtype = torch.float32) -> RandomLora:
    """`lora` (tests.models.lora_files.random_lora, alpha = rank) with each layer's update scaled
    to `fraction` of the spread of that layer's weights, in `dtype`. Unscaled, the random update is
    several times the random weights (a 5B layer's weights spread about 0.01, the update about
    0.08 at rank 64): the fused model then leaves the range FP8 is checked for (5.4% from bf16 on
    the check step, measured on the CPU, against the 3% limit). The values change nothing of what
    a step or a swap costs."""
    for layer, (down, up, bias) in lora.pairs.items():
        rank = down.shape[0]  # the spread of (up @ down) * alpha / rank for independent random pairs
        unscaled_std = up.float().std().item() * down.float().std().item() * rank**0.5 * lora.alpha / rank
        weight_std = transformer.get_submodule(layer).weight.detach().float().std().item()
        lora.pairs[layer] = (down.to(dtype), (up * (fraction * weight_std / unscaled_std)).to(dtype),
                             None if bias is None else bias.to(dtype))
    return lora


def distill_lora(transformer: WanTransformer3DModel, rank: int, folder: Path) -> Path:
    """A random LoRA shaped like lightx2v's Lightning LoRAs: one rank-`rank` pair on every
    attention and feed-forward layer of every block, alpha = rank, in their key layout
    (`diffusion_model.blocks.N.self_attn.q.lora_down.weight`, ...) and in bf16, each update a
    tenth of its layer's weight spread (`scale_to_weights`)."""
    lora = scale_to_weights(random_lora(transformer, rank=rank, seed=7, alpha=float(rank)), transformer,
                            dtype=torch.bfloat16)
    return save_lora(lora, folder / f"distill_rank{rank}_lightx2v.safetensors", "lightx2v")


def load_fp8(model: str, spec, device: torch.device, smoke: bool, results: dict) -> VideoGenerator:
    """Load the model with `precision: fp8` on freshly built components (the check at load
    included in `clipmill_fp8_load_s`); the choice, its reason and the check step's errors go into
    `results` whether FP8 was kept or not (a fallback says why)."""
    components = build_components(model, device, smoke)
    torch._dynamo.reset()  # the bf16 run's compiled blocks: a fresh compile, as a worker has
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    generator = VideoGenerator(spec, "real-size random weights", WanPipeline(**components), random_weights=True,
                               device=device, precision="fp8")
    results["clipmill_fp8_load_s"] = round(time.perf_counter() - started, 2)
    if device.type == "cuda":  # bf16 blocks on the GPU before quantising: the peak of a worker's start
        results["clipmill_fp8_load_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    choice = generator.precision
    results.update({"clipmill_fp8_profile": generator.profile, "clipmill_fp8_attention": generator.attention.kernel,
                    "clipmill_fp8_precision": choice.precision, "clipmill_fp8_precision_reason": choice.reason,
                    "clipmill_fp8_layers": choice.layers, "clipmill_fp8_check_max_abs_error": choice.max_abs_error,
                    "clipmill_fp8_check_relative_error": choice.relative_error})
    print(f"{'fp8 load':>16}: {choice.precision} ({choice.reason})", flush=True)
    return generator


def run_fp8(generator: VideoGenerator, results: dict, report, *, request_args: dict) -> None:
    """Warm the FP8 generator up and time one full-quality clip."""
    warm_s, _ = timed(lambda: generator.generate(GenerationRequest(**{**request_args, "steps": WARMUP_STEPS})))
    results["clipmill_fp8_warmup_s"] = round(warm_s, 2)
    clock = StepClock()
    runs: list = []
    seconds, peak = timed(lambda: runs.append(generator.generate(
        GenerationRequest(**request_args), on_step=lambda done, total: clock(None, done, None, None))))
    report("clipmill_fp8", seconds, peak, clock, request_args["steps"])
    for key in ("encode_s", "denoise_s", "decode_s"):
        results[f"clipmill_fp8_{key}"] = round(getattr(runs[0], key), 3)
    results["clipmill_fp8_ran_in"] = runs[0].precision


def run_distilled(name: str, generator: VideoGenerator, lora: LoraWeights, results: dict, report, *,
                  request_args: dict) -> None:
    """The distilled profile with `lora` through clipmill: a 2-step warm-up that fuses the LoRA
    (timed alone as `{name}_lora_fuse_s`, by phase; with FP8 blocks the quantisation and its check
    again) and compiles where nothing has yet, then one clip timed with its decode."""
    base = {**request_args, "speed": "distilled", "loras": (lora,)}
    runs: list = []
    warm_s, _ = timed(lambda: runs.append(generator.generate(GenerationRequest(**{**base, "steps": WARMUP_STEPS}))))
    results[f"{name}_warmup_s"] = round(warm_s, 2)
    results[f"{name}_lora_fuse_s"] = round(runs[0].lora_s, 3)
    results[f"{name}_lora_fuse_phases"] = {k: round(v, 3) for k, v in generator.lora_swap_phases.items()}
    clock = StepClock()
    seconds, peak = timed(lambda: runs.append(generator.generate(
        GenerationRequest(**base), on_step=lambda done, total: clock(None, done, None, None))))
    run = runs[-1]
    report(name, seconds, peak, clock, base["steps"], forwards=1 if base["guidance"] <= 1.0 else 2)
    for key in ("encode_s", "denoise_s", "decode_s", "lora_s"):
        results[f"{name}_{key}"] = round(getattr(run, key), 3)
    results[f"{name}_decode_dtype"] = run.decode_dtype
    results[f"{name}_precision"] = run.precision
    results[f"{name}_warnings"] = list(run.warnings)  # a distilled run without its LoRA would say so
    choice = run.precision_choice
    if choice is not None and choice.requested == precisions.FP8:
        results.update({f"{name}_precision_reason": choice.reason,
                        f"{name}_check_max_abs_error": choice.max_abs_error,
                        f"{name}_check_relative_error": choice.relative_error})


def run_distilled_plain(components: dict, lora_path: Path, results: dict, report, *, height: int, width: int,
                        frames: int, steps: int, guidance: float, device: torch.device) -> None:
    """Plain diffusers with the same LoRA file and steps: `load_lora_weights` + `fuse_lora` as
    diffusers' LoRA guide runs a step-distilled LoRA, eager, the pipeline's own scheduler, the
    VAE decode as its defaults have it. The LoRA is unfused afterwards, so that the shared
    components are (up to bf16 rounding) as built for the paths after it."""
    plain = WanPipeline(**components)
    plain.set_progress_bar_config(disable=True)
    load_s, _ = timed(lambda: (plain.load_lora_weights(str(lora_path.parent), weight_name=lora_path.name,
                                                       adapter_name="distill"),
                               plain.fuse_lora(components=["transformer"], lora_scale=1.0)))
    results["distilled_plain_lora_load_fuse_s"] = round(load_s, 2)
    results["distilled_plain_scheduler"] = type(plain.scheduler).__name__
    for n_steps in (WARMUP_STEPS, steps):
        clock = StepClock()
        seconds, peak = timed(lambda: plain(
            prompt=PROMPT, negative_prompt=NEGATIVE, height=height, width=width, num_frames=frames,
            num_inference_steps=n_steps, guidance_scale=guidance, output_type="np",
            generator=torch.Generator(device).manual_seed(0), callback_on_step_end=clock))
    report("distilled_plain", seconds, peak, clock, steps, forwards=1 if guidance <= 1.0 else 2)
    plain.unfuse_lora(components=["transformer"])
    plain.unload_lora_weights()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["ti2v-5b", "a14b"], default="ti2v-5b")
    parser.add_argument("--paths", default="plain,clipmill,fast",
                        help="comma list of plain, clipmill, fast, segments, fp8 (clipmill's full quality in FP8), "
                             "distilled, distilled_plain, distilled_fp8 (the distilled profile with a LoRA)")
    parser.add_argument("--lora-rank", type=int, default=64, help="rank of the distilled paths' random LoRA [64]")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--fast-steps", type=int, default=None, help="steps of the fast profile [default: the model's]")
    parser.add_argument("--segment-steps", type=int, help="steps of each segment in the 2-segment measurement")
    # bfloat16 is the spec's default (clipmill.spec.ModelSources.vae_decode), named here so that
    # the script runs where only torch and diffusers are installed.
    parser.add_argument("--decode", default="bfloat16", choices=["float32", "bfloat16"],
                        help="VAE decode dtype of clipmill's paths [bfloat16, the spec's default]")
    parser.add_argument("--frames", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--fp8-max-error", type=float, default=None,
                        help="the FP8 check's limit on relative error [models.precision.MAX_RELATIVE_ERROR]: "
                             "raise it to time FP8 that the check refuses (the JSON records the limit)")
    parser.add_argument("--smoke", action="store_true", help="2 layers, small frames: check the script quickly")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    spec = MODEL_SPECS["wan2.2-ti2v-5b" if args.model == "ti2v-5b" else "wan2.2-t2v-a14b"]
    width, height = args.width or spec.default_size[0], args.height or spec.default_size[1]
    frames, steps = args.frames or spec.default_frames, args.steps or spec.default_steps
    if args.smoke:
        width, height, frames, steps = 320, 192, 17, 3
    fast_steps = args.fast_steps or (max(1, steps // 3) if args.smoke else spec.fast_steps)
    guidance = spec.default_guidance
    paths = args.paths.split(",")
    known = {"plain", "clipmill", "fast", "segments", "fp8", "distilled", "distilled_plain", "distilled_fp8"}
    if set(paths) - known:
        sys.exit(f"unknown paths {', '.join(sorted(set(paths) - known))}; choose from {', '.join(sorted(known))}")
    distilled = spec.distilled
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu" and not args.smoke:
        sys.exit("a CUDA GPU is needed (use --smoke to check the script on the CPU)")
    results: dict = {
        "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu", "model": spec.name, "width": width, "height": height,
        "frames": frames, "steps": steps, "guidance": guidance, "cfg": True, "random_weights": True,
        "torch": torch.__version__, "diffusers": diffusers.__version__, "python": platform.python_version(),
    }
    cfg = TRANSFORMER_5B if args.model == "ti2v-5b" else TRANSFORMER_A14B
    tflop = forward_tflop(cfg, frames, height, width, 16 if args.model == "ti2v-5b" else 8)
    results["tflop_per_forward"] = round(tflop, 1)
    print(json.dumps({k: results[k] for k in ("gpu", "model", "width", "height", "frames", "steps")}), flush=True)

    started = time.perf_counter()
    components = build_components(args.model, device, args.smoke)
    results["build_s"] = round(time.perf_counter() - started, 1)

    lora_folder = lora = lora_path = distilled_args = None
    if any(p.startswith("distilled") for p in paths):
        if distilled is None:
            sys.exit(f"{spec.name} has no distilled profile in the model catalogue")
        if args.model == "a14b":
            sys.exit("the distilled paths take one LoRA for one transformer: TI2V-5B (--model ti2v-5b)")
        started = time.perf_counter()
        lora_folder = Path(tempfile.mkdtemp(prefix="clipmill-bench-lora-"))
        lora_path = distill_lora(components["transformer"], args.lora_rank, lora_folder)
        lora = lora_weights(lora_path, 1.0)
        results.update({"distilled_steps": distilled.steps, "distilled_guidance": distilled.guidance,
                        "distilled_shift": distilled.shift, "distilled_cfg": distilled.guidance > 1.0,
                        "distilled_profile_source": distilled.source, "distilled_lora_rank": args.lora_rank,
                        "distilled_lora_layout": "lightx2v (diffusion_model.*.lora_down/lora_up, alpha), bf16",
                        "distilled_lora_mib": round(lora_path.stat().st_size / 2**20, 1),
                        "distilled_lora_make_s": round(time.perf_counter() - started, 1)})
        # The profile's steps and guidance, as `speed: distilled` gives a job (clipmill.spec)
        distilled_args = dict(prompt=PROMPT, negative_prompt=NEGATIVE, width=width, height=height,
                              num_frames=frames, steps=distilled.steps, guidance=distilled.guidance, seed=0,
                              decode_dtype=args.decode)

    def report(name: str, seconds: float, peak: float, clock: StepClock, n_steps: int, forwards: int = 2) -> None:
        per_step = clock.seconds_per_step()
        results[f"{name}_s_per_clip"] = round(seconds, 2)
        results[f"{name}_s_per_step"] = round(per_step, 3)
        results[f"{name}_peak_gib"] = round(peak, 1)
        # Text encoding, latent set-up, VAE decode and the copy to host frames.
        results[f"{name}_outside_denoising_s"] = round(seconds - n_steps * per_step, 2)
        # Two forwards a step with classifier-free guidance, one without (guidance 1.0).
        results[f"{name}_tflops"] = round(forwards * tflop / per_step, 1) if per_step == per_step else None
        print(f"{name:>16}: {seconds:7.2f} s/clip  {per_step:6.3f} s/step  {peak:6.1f} GiB peak  "
              f"{results[f'{name}_tflops']} TFLOP/s  ({n_steps} steps)", flush=True)
        if args.json is not None:  # what is measured so far: a device call cut off at its limit keeps it
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({**results, "partial": True}, indent=2) + "\n")

    # (a) plain diffusers: the pipeline with its defaults, eager, as the model card runs it.
    if "plain" in paths:
        plain = WanPipeline(**components)
        plain.set_progress_bar_config(disable=True)
        for label, n_steps in (("warm-up", WARMUP_STEPS), ("plain_diffusers", steps)):
            clock = StepClock()
            seconds, peak = timed(lambda: plain(
                prompt=PROMPT, negative_prompt=NEGATIVE, height=height, width=width, num_frames=frames,
                num_inference_steps=n_steps, guidance_scale=guidance, output_type="np",
                generator=torch.Generator(device).manual_seed(0), callback_on_step_end=clock))
        report("plain_diffusers", seconds, peak, clock, steps)
        del plain
        gc.collect()
        torch.cuda.empty_cache()

    # (a') plain diffusers with the distill LoRA fused, 4 steps at guidance 1.0: before (b), which
    # changes the shared transformer (attention kernel, timestep embedding).
    if "distilled_plain" in paths:
        run_distilled_plain(components, lora_path, results, report, height=height, width=width, frames=frames,
                            steps=distilled.steps, guidance=distilled.guidance, device=device)
        gc.collect()
        torch.cuda.empty_cache()

    # (b) clipmill: the same components through VideoGenerator (placement, compilation).
    if any(p in paths for p in ("clipmill", "fast", "segments", "distilled")):
        loaded = WanPipeline(**components)
        started = time.perf_counter()
        generator = VideoGenerator(spec, "real-size random weights", loaded, random_weights=True, device=device)
        results["clipmill_load_s"] = round(time.perf_counter() - started, 2)
        results["clipmill_profile"] = generator.profile
        results["clipmill_precision"] = generator.precision.precision
        results["clipmill_attention"] = generator.attention.kernel
        results["clipmill_attention_reason"] = generator.attention.reason
        results["clipmill_attention_check_max_abs_diff"] = generator.attention.max_abs_diff

        latest: dict = {}

        def generate(req: GenerationRequest, **kwargs):
            latest["run"] = generator.generate(req, **kwargs)
            return latest["run"]

        def stages(name: str) -> None:
            # Device seconds of each stage of the latest clip (its GenerationResult).
            run = latest["run"]
            for key in ("encode_s", "denoise_s", "decode_s"):
                results[f"{name}_{key}"] = round(getattr(run, key), 3)
            results[f"{name}_decode_dtype"] = run.decode_dtype
            results[f"{name}_text_cached"] = run.text_cached

        def request(n_steps: int, image: Image.Image | None = None, seed: int = 0) -> GenerationRequest:
            return GenerationRequest(prompt=PROMPT, negative_prompt=NEGATIVE, width=width, height=height,
                                     num_frames=frames, steps=n_steps, guidance=guidance, seed=seed, image=image,
                                     decode_dtype=args.decode)

        def run_clipmill(req: GenerationRequest, clock: StepClock):
            return lambda: generate(req, on_step=lambda done, total: clock(None, done, None, None))

        if any(p in paths for p in ("clipmill", "fast", "segments")):
            clock = StepClock()
            # Compiles, and cuDNN times the VAE's convolutions once per shape: once per worker.
            warm_s, _ = timed(run_clipmill(request(WARMUP_STEPS), clock))
            results["clipmill_warmup_s"] = round(warm_s, 2)
            results["clipmill_warmup_steps"] = WARMUP_STEPS
        if "clipmill" in paths:
            clock = StepClock()
            seconds, peak = timed(run_clipmill(request(steps), clock))
            report("clipmill", seconds, peak, clock, steps)
            stages("clipmill")
        if "fast" in paths:
            clock = StepClock()
            seconds, peak = timed(run_clipmill(request(fast_steps), clock))
            report("clipmill_fast", seconds, peak, clock, fast_steps)
            stages("clipmill_fast")
            results["clipmill_fast_steps"] = fast_steps
        if "segments" in paths and spec.supports_image:
            # Two segments: the second continues from the first one's last frame (image-to-video).
            # Fewer steps than a full clip make the ratio an upper bound: the fixed costs (text,
            # VAE) weigh more against a shorter denoising loop.
            seg_steps = args.segment_steps or steps
            holder: dict = {}
            # Image-to-video feeds the compiled blocks per-token modulation (another input shape):
            # they compile once more, once per worker, so warm that up too before timing.
            start_image = Image.new("RGB", (width, height), (120, 130, 140))
            warm_s, _ = timed(lambda: generate(request(WARMUP_STEPS, image=start_image)))
            results["image_to_video_warmup_s"] = round(warm_s, 2)
            one_s, _ = timed(lambda: holder.update(first=generate(request(seg_steps))))
            stages("segment_1")
            last = Image.fromarray(holder["first"].frames[-1])
            second_s, _ = timed(lambda: generate(request(seg_steps, image=last, seed=1)))
            stages("segment_2")
            results["segment_steps"] = seg_steps
            results["segment_1_s"] = round(one_s, 2)
            results["two_segments_s"] = round(one_s + second_s, 2)
            results["two_segment_ratio"] = round((one_s + second_s) / one_s, 3)
            print(f"two segments: {one_s + second_s:.2f} s = {results['two_segment_ratio']}x one segment", flush=True)
        if "distilled" in paths:  # last: it leaves the LoRA fused
            run_distilled("distilled", generator, lora, results, report, request_args=distilled_args)
        generator = loaded = latest = None  # the bf16 model's memory, before the FP8 one is built
    components = None
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()

    # (c) clipmill's full quality with FP8 blocks: the same architecture and seed, built again, so
    # that (b) and (c) differ only in the precision of the blocks' matmuls.
    # (d) the distilled profile on FP8 blocks: after the full-quality FP8 clip on the same
    # generator when both are asked for (its LoRA swap then meets compiled blocks, as a worker's does).
    if "fp8" in paths or "distilled_fp8" in paths:
        if args.fp8_max_error is not None:
            precisions.MAX_RELATIVE_ERROR = args.fp8_max_error
        results["fp8_max_relative_error"] = precisions.MAX_RELATIVE_ERROR
        generator = load_fp8(args.model, spec, device, args.smoke, results)
        if "fp8" in paths:
            run_fp8(generator, results, report, request_args=dict(
                prompt=PROMPT, negative_prompt=NEGATIVE, width=width, height=height, num_frames=frames,
                steps=steps, guidance=guidance, seed=0, decode_dtype=args.decode))
        if "distilled_fp8" in paths:
            run_distilled("distilled_fp8", generator, lora, results, report, request_args=distilled_args)
        generator = None
    if lora_folder is not None:
        shutil.rmtree(lora_folder, ignore_errors=True)

    if "plain_diffusers_s_per_clip" in results and "clipmill_s_per_clip" in results:
        results["speedup_vs_plain"] = round(results["plain_diffusers_s_per_clip"] / results["clipmill_s_per_clip"], 3)
    if "clipmill_fp8_s_per_clip" in results:
        for base, key in (("clipmill_s_per_clip", "fp8_speedup_vs_bf16"),
                          ("plain_diffusers_s_per_clip", "fp8_speedup_vs_plain")):
            if base in results:
                results[key] = round(results[base] / results["clipmill_fp8_s_per_clip"], 3)
    for name in ("distilled", "distilled_fp8"):
        if f"{name}_s_per_clip" in results and "distilled_plain_s_per_clip" in results:
            results[f"{name}_speedup_vs_plain"] = round(
                results["distilled_plain_s_per_clip"] / results[f"{name}_s_per_clip"], 3)
    if "distilled_s_per_clip" in results and "distilled_fp8_s_per_clip" in results:
        results["distilled_fp8_speedup_vs_bf16"] = round(
            results["distilled_s_per_clip"] / results["distilled_fp8_s_per_clip"], 3)
    if "clipmill_fast_s_per_clip" in results and "clipmill_s_per_clip" in results:
        results["fast_speedup_vs_clipmill"] = round(results["clipmill_s_per_clip"] / results["clipmill_fast_s_per_clip"], 3)
    emit(results, args.json)


if __name__ == "__main__":
    main()
