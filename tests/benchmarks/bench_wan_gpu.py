"""GPU benchmark: Wan2.2 at its real size (random weights), plain diffusers against clipmill.

Builds the released architecture (TI2V-5B or A14B) on the GPU with random weights: the shapes
and the compute are those of the real checkpoints, the output is noise. In one process it
times (a) diffusers' own pipeline with its defaults and (b) clipmill's generation path
(`models.wan.VideoGenerator`), plus the fast profile and, optionally, a 2-segment clip and
(c) clipmill's full quality again with `precision: fp8` (models/precision.py), on components
rebuilt with the same seed: seconds a clip against (a) and (b), and the FP8 check's errors.

    python tests/benchmarks/bench_wan_gpu.py --model ti2v-5b --paths plain,clipmill,fast,segments --segment-steps 20 \
        --json tests/benchmarks/results/wan_ti2v5b_h200.json
    python tests/benchmarks/bench_wan_gpu.py --model a14b --paths clipmill --json tests/benchmarks/results/wan_a14b_h200.json
    python tests/benchmarks/bench_wan_gpu.py --paths plain,clipmill,fp8 --json tests/benchmarks/results/wan_ti2v5b_fp8_h200.json
    python tests/benchmarks/bench_wan_gpu.py --smoke      # small sizes, checks the script end to end

Not part of the test suite: it needs a CUDA GPU with ~60 GB (5B) or ~100 GB (A14B) free.
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from pathlib import Path

import torch

import clipmill.models  # noqa: F401,E402  first: it quiets diffusers' torchao notice (models/__init__.py)
import diffusers  # noqa: E402
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import UMT5Config, UMT5EncoderModel  # noqa: E402

from clipmill.models import precision as precisions  # noqa: E402
from clipmill.models.tiny_wan import build_tiny_tokenizer  # noqa: E402
from clipmill.models.wan import MODEL_SPECS, GenerationRequest, VideoGenerator  # noqa: E402
from tests.benchmarks.results_json import emit  # noqa: E402

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


def run_fp8(model: str, spec, device: torch.device, smoke: bool, results: dict, report, *,
            request_args: dict) -> None:
    """Load the model with `precision: fp8` (the check at load included in `clipmill_fp8_load_s`),
    warm it up, and time one full-quality clip; the choice, its reason and the check step's
    errors go into `results` whether FP8 was kept or not (a fallback says why)."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["ti2v-5b", "a14b"], default="ti2v-5b")
    parser.add_argument("--paths", default="plain,clipmill,fast",
                        help="comma list of plain, clipmill, fast, segments, fp8 (clipmill's full quality in FP8)")
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

    def report(name: str, seconds: float, peak: float, clock: StepClock, n_steps: int) -> None:
        per_step = clock.seconds_per_step()
        results[f"{name}_s_per_clip"] = round(seconds, 2)
        results[f"{name}_s_per_step"] = round(per_step, 3)
        results[f"{name}_peak_gib"] = round(peak, 1)
        # Text encoding, latent set-up, VAE decode and the copy to host frames.
        results[f"{name}_outside_denoising_s"] = round(seconds - n_steps * per_step, 2)
        # Two forwards a step (classifier-free guidance).
        results[f"{name}_tflops"] = round(2 * tflop / per_step, 1) if per_step == per_step else None
        print(f"{name:>16}: {seconds:7.2f} s/clip  {per_step:6.3f} s/step  {peak:6.1f} GiB peak  "
              f"{results[f'{name}_tflops']} TFLOP/s  ({n_steps} steps)", flush=True)

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

    # (b) clipmill: the same components through VideoGenerator (placement, compilation).
    if any(p in paths for p in ("clipmill", "fast", "segments")):
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
        generator = loaded = latest = None  # the bf16 model's memory, before the FP8 one is built
    components = None
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()

    # (c) clipmill's full quality with FP8 blocks: the same architecture and seed, built again, so
    # that (b) and (c) differ only in the precision of the blocks' matmuls.
    if "fp8" in paths:
        if args.fp8_max_error is not None:
            precisions.MAX_RELATIVE_ERROR = args.fp8_max_error
        results["fp8_max_relative_error"] = precisions.MAX_RELATIVE_ERROR
        run_fp8(args.model, spec, device, args.smoke, results, report, request_args=dict(
            prompt=PROMPT, negative_prompt=NEGATIVE, width=width, height=height, num_frames=frames,
            steps=steps, guidance=guidance, seed=0, decode_dtype=args.decode))

    if "plain_diffusers_s_per_clip" in results and "clipmill_s_per_clip" in results:
        results["speedup_vs_plain"] = round(results["plain_diffusers_s_per_clip"] / results["clipmill_s_per_clip"], 3)
    if "clipmill_fp8_s_per_clip" in results:
        for base, key in (("clipmill_s_per_clip", "fp8_speedup_vs_bf16"),
                          ("plain_diffusers_s_per_clip", "fp8_speedup_vs_plain")):
            if base in results:
                results[key] = round(results[base] / results["clipmill_fp8_s_per_clip"], 3)
    if "clipmill_fast_s_per_clip" in results and "clipmill_s_per_clip" in results:
        results["fast_speedup_vs_clipmill"] = round(results["clipmill_s_per_clip"] / results["clipmill_fast_s_per_clip"], 3)
    emit(results, args.json)


if __name__ == "__main__":
    main()
