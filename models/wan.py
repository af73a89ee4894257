"""Wan2.2 video generators: which models exist, how to load them, how to run one generation.

A generator is loaded once per process (see `models.cache`) from a local checkpoint folder or
a hub id, and then serves many `GenerationRequest`s. Text-to-video runs through diffusers'
`WanPipeline` and image-to-video through `WanImageToVideoPipeline`; when a model does both
(TI2V-5B) the two pipelines share one set of loaded components.

The "tiny" model is a random-weight pipeline built in code (`models.tiny_wan`) for tests and
the offline demo; its frames are noise. Loading checkpoints and assembling the pipelines live in
`models.wan_loading`; `ModelLoadError` is re-exported here.
"""
from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from diffusers import DiffusionPipeline, WanImageToVideoPipeline, WanPipeline

from clipmill.models.acceleration import (
    choose_profile,
    compile_transformer_blocks,
    available_gpu_gib,
    lighter_profile,
    place,
)
from clipmill.models.attention import FLASH_ATTENTION_4, AttentionChoice, choose_kernel, use_kernel
from clipmill.models.cache import cached_model
from clipmill.models.catalog import MODEL_SPECS, ModelSpec
from clipmill.models.devices import pick_device, run_on_model_thread
from clipmill.models.distilled import distilled_sampling, distilled_scheduler
from clipmill.models.lora import FusedLoras
from clipmill.models.lora_files import LoraWeights
from clipmill.models import precision as precisions
from clipmill.models.precision import PrecisionChoice
from clipmill.models.wan_loading import ModelLoadError, assemble, build_tiny, load_pretrained
from clipmill.models.wan_stages import DECODE_DTYPES, LatentDecoder, PromptEmbeddings, gather_timestep_embedding

logger = logging.getLogger(__name__)

TINY_SOURCE = "built-in random weights"
# The text of the FP8 check's input (models.precision): a real prompt's embedding, as a clip has.
_CHECK_PROMPT = "A boy throws a yellow frisbee to a brown dog in a sunny park, the dog leaps and catches it"


@dataclass
class GenerationRequest:
    """One clip to generate.

    `image`, when given, is the first frame (image-to-video) and must already be `width` x
    `height`: cropping is the preprocessing stage's job, and a silent resize would distort it.
    `guidance_2` is the low-noise expert's guidance on two-expert models; None takes the
    model's default. `decode_dtype` is the VAE decode's precision: "bfloat16" (the default,
    1.5x faster and 50.8 dB from float32's frames at 720p) or "float32" (Wan's reference);
    the spec's `models.vae_decode` chooses it, see README "GPU and speed". `speed` "distilled"
    samples as the model's distilled profile says (models.distilled; the steps and guidance are
    the request's own); `loras` are fused into the weights for this and the following requests
    until one asks for another set (models.lora).
    """

    prompt: str
    width: int
    height: int
    num_frames: int
    steps: int
    guidance: float
    seed: int
    negative_prompt: str = ""
    image: PIL.Image.Image | None = None
    guidance_2: float | None = None
    decode_dtype: str = "bfloat16"
    speed: str = "quality"
    loras: tuple[LoraWeights, ...] = ()


@dataclass(frozen=True)
class GenerationResult:
    """The frames of one `VideoGenerator.generate` call and how they were made.

    Attributes:
        frames: uint8 RGB frames, shape (num_frames, height, width, 3).
        profile: The memory profile the frames were made with.
        fell_back_from: The profile that ran out of GPU memory first, if one did.
        device_s: Seconds this call held the device.
        waited_s: Seconds it waited for the device first (behind other clips of this process
            and, with `hold_device`, for the caller's slot).
        attention: The attention kernel ("flash-attention-4" or "sdpa").
        precision: What the transformer's matmuls ran in: "fp8", or as loaded ("bf16"; "fp32"
            for the tiny model); `VideoGenerator.precision` says why.
        decode_dtype: The VAE decode's dtype.
        text_cached: How many of the prompt and negative prompt came from the embedding cache.
        encode_s, denoise_s, decode_s: The device's seconds in each stage.
        lora_s: Seconds spent swapping the fused LoRA set for the request's (0.0 when it was
            already fused).
        warnings: What the caller should record and show (a distilled run without a LoRA).
        precision_choice: The precision these frames were made in, why, and the FP8 check of
            the weights that made them (with FP8 blocks and a LoRA set: the check against the
            fused bf16 model, made at the swap). What an attempt should record: the
            generator's `precision` is the latest request's, and another clip may swap first.
    """

    frames: np.ndarray
    profile: str
    fell_back_from: str | None
    device_s: float
    waited_s: float
    attention: str
    precision: str
    decode_dtype: str
    text_cached: int
    encode_s: float
    denoise_s: float
    decode_s: float
    lora_s: float = 0.0
    warnings: tuple[str, ...] = ()
    precision_choice: PrecisionChoice | None = None


class VideoGenerator:
    """A loaded Wan2.2 model that turns `GenerationRequest`s into frames.

    Attributes:
        spec: The model's `ModelSpec`.
        source: Where the weights came from: a folder, a hub id, or "built-in random weights".
        random_weights: True when the weights are random (tiny, or a saved tiny pipeline); the
            output is then noise and reports must say so.
        device: The device the pipelines run on.
        profile: The memory profile in use (`models.acceleration.PROFILES`); an out-of-memory
            error moves it one step lighter for the rest of the process.
        attention: The attention kernel chosen at load (`models.attention.AttentionChoice`:
            "flash-attention-4" or "sdpa", and why).
        precision: The transformer's precision (`models.precision.PrecisionChoice`: "fp8" or as
            loaded, what was asked for, why, and the FP8 check's errors): chosen at load, and
            with FP8 blocks checked again at each LoRA swap (the errors are then those of the
            fused set).
    """

    def __init__(
        self,
        spec: ModelSpec,
        source: str,
        pipeline: DiffusionPipeline,
        *,
        random_weights: bool,
        device: torch.device,
        profile: str | None = None,
        compile_blocks: bool = True,
        attention: str | None = None,
        precision: str = "bf16",
    ) -> None:
        self.spec = spec
        self.source = source
        self.random_weights = random_weights
        self.device = device
        self.text_pipeline: WanPipeline | None = None
        self.image_pipeline: WanImageToVideoPipeline | None = None
        if spec.supports_text:
            self.text_pipeline = assemble(WanPipeline, pipeline)
        if spec.supports_image:
            self.image_pipeline = assemble(WanImageToVideoPipeline, pipeline)
        self._check_size_multiple(self.text_pipeline or self.image_pipeline)
        if self.image_pipeline is not None:
            self._check_image_conditioning(self.image_pipeline)
        if self.text_pipeline is not None and self.text_pipeline.config.expand_timesteps:
            # TI2V-5B gives every latent token its own timestep so that an image-conditioned
            # first frame can stay at t=0. Text-to-video conditions no frame: all tokens share
            # the step's timestep, and passing it once per sample gives the same result without
            # embedding it and modulating every block per token (27,280 tokens at 720p, in fp32):
            # about 4% of a 720p clip on an H200.
            self.text_pipeline.register_to_config(expand_timesteps=False)
        # The pipelines share one scheduler, whose state changes every step, and one device:
        # one generation at a time per device, whichever thread asks, because every generation
        # runs on the device's model thread (`_generate_on_device`).

        # Placement: the fastest memory profile that fits what the GPU has free, unless told
        # (FP8 transformers stay resident in less).
        self._pipeline = self.text_pipeline or self.image_pipeline
        named = {name: getattr(self._pipeline, name, None) for name in ("transformer", "transformer_2")}
        named = {name: transformer for name, transformer in named.items() if transformer is not None}
        transformers = list(named.values())
        for transformer in transformers:
            # Inference only, and stable for the compiled blocks: peft freezes every layer a LoRA
            # adapts (models.lora), and a block compiled with parameters that require grad would
            # compile again at the first swap, on a guard on that flag.
            transformer.requires_grad_(False)
        planned = precisions.plan(precision, device, transformers[0].dtype)
        self.profile = profile or choose_profile(spec.name, available_gpu_gib(device, self._pipeline), planned.precision)
        place(self._pipeline, self.profile, device)
        for built in (self.text_pipeline, self.image_pipeline):
            if built is not None:
                built.set_progress_bar_config(disable=True)  # steps reach the run's logs instead
        # The attention kernel, before compiling: it becomes a constant of the compiled graph.
        self.attention: AttentionChoice = choose_kernel(device, transformers[0].dtype, attention)
        for transformer in transformers:
            use_kernel(transformer, self.attention.kernel)
            gather_timestep_embedding(transformer)
        logger.info("%s attention: %s (%s)", spec.name, self.attention.kernel, self.attention.reason)
        self._embeddings = PromptEmbeddings()
        self._loras = FusedLoras()
        self._distilled_scheduler = distilled_scheduler(spec.distilled) if spec.distilled else None
        # FP8 after the attention kernel (the check runs each transformer as it will run, on a
        # real prompt's embedding) and before compiling (the graph sees the FP8 weights). The
        # blocks keep their bf16 weights in host memory: LoRAs are fused into those (models.lora).
        self.precision: PrecisionChoice
        self.precision, self._fp8 = precisions.apply_fp8_blocks(
            planned, named, device, profile=self.profile, timesteps=self._check_timesteps(len(transformers)),
            context=self._embeddings.get(self._pipeline, _CHECK_PROMPT) if planned.precision == precisions.FP8 else None)
        if self._fp8 is not None:
            logger.info("%s: %.1f GB of bf16 block weights kept in host memory for LoRAs on the FP8 blocks",
                        spec.name, self._fp8.host_bytes() / 1e9)
        (logger.warning if self.precision.fell_back else logger.info)(
            "%s precision: %s (%s)", spec.name, self.precision, self.precision.reason)
        self._decoder = LatentDecoder()
        if device.type == "cuda":
            # The VAE's 3D convolutions see the same shapes clip after clip: let cuDNN time its
            # algorithms once per shape and keep the fastest.
            torch.backends.cudnn.benchmark = True
        if compile_blocks and device.type == "cuda" and self.profile == "resident":
            compile_transformer_blocks(self._pipeline)

    @property
    def loras(self) -> tuple[LoraWeights, ...]:
        """The LoRA set fused into the weights now (empty: the checkpoint's own weights)."""
        return self._loras.current

    @property
    def lora_swap_phases(self) -> dict[str, float]:
        """Where the last LoRA swap's seconds went (models.lora.FusedLoras.last_phases)."""
        return dict(self._loras.last_phases)

    def __repr__(self) -> str:
        weights = ", random weights" if self.random_weights else ""
        return f"VideoGenerator({self.spec.name!r}, source={self.source!r}, device={str(self.device)!r}{weights})"

    def _check_timesteps(self, experts: int) -> list[float]:
        # The FP8 check runs each transformer at the first step it takes: the high-noise one
        # at t=999, A14B's low-noise one just below the switch between them.
        boundary = self._pipeline.config.boundary_ratio
        return [999.0] if experts == 1 else [999.0, (boundary or 0.5) * 1000.0 - 1.0]

    def _check_size_multiple(self, pipeline: DiffusionPipeline) -> None:
        patch = (pipeline.transformer or pipeline.transformer_2).config.patch_size
        multiple = pipeline.vae_scale_factor_spatial * patch[1]
        if multiple != self.spec.size_multiple:
            raise ModelLoadError(
                f"the checkpoint at {self.source!r} needs sizes in multiples of {multiple}, but {self.spec.name} "
                f"expects {self.spec.size_multiple}; is it really a {self.spec.name} checkpoint?"
            )

    def _check_image_conditioning(self, pipeline: WanImageToVideoPipeline) -> None:
        # Without expanded timesteps, image-to-video feeds the transformer the noise, a frame mask
        # (4 channels) and the encoded image side by side; a text-to-video transformer cannot take that.
        if pipeline.config.expand_timesteps:
            return
        z_dim = pipeline.vae.config.z_dim
        in_channels = (pipeline.transformer or pipeline.transformer_2).config.in_channels
        if in_channels != 2 * z_dim + 4:
            raise ModelLoadError(
                f"the checkpoint at {self.source!r} is text-to-video (transformer takes {in_channels} channels, "
                f"image-to-video needs {2 * z_dim + 4}), so it cannot serve {self.spec.name}"
            )

    def validate(self, request: GenerationRequest) -> None:
        """Raise ValueError, naming the offending value, if this model cannot run `request`."""
        spec = self.spec
        if request.num_frames < 1 or (request.num_frames - 1) % 4 != 0:
            nearest = max(request.num_frames - 1, 0) // 4 * 4 + 1
            raise ValueError(
                f"num_frames={request.num_frames} is not 4k+1 (Wan's VAE packs 4 frames per latent after the "
                f"first); use {nearest} or {nearest + 4}"
            )
        for name in ("width", "height"):
            value = getattr(request, name)
            if value <= 0 or value % spec.size_multiple != 0:
                raise ValueError(f"{name}={value} is not a positive multiple of {spec.size_multiple} as {spec.name} needs")
        if request.steps < 1:
            raise ValueError(f"steps={request.steps} must be at least 1")
        if request.speed == "distilled" and spec.distilled is None:
            raise ValueError(f"{spec.name} has no distilled profile in the model catalogue")
        if any(lora.expert == "transformer_2" for lora in request.loras) and spec.boundary_ratio is None:
            raise ValueError(f"{spec.name} has one transformer: a LoRA for the low-noise expert cannot go anywhere")
        if request.decode_dtype not in DECODE_DTYPES:
            raise ValueError(f"decode_dtype={request.decode_dtype!r} is not one of {', '.join(DECODE_DTYPES)}")
        if request.image is None and not spec.supports_text:
            raise ValueError(f"{spec.name} is image-to-video only: the request needs an image")
        if request.image is not None:
            if not spec.supports_image:
                raise ValueError(f"{spec.name} is text-to-video only: the request must not carry an image")
            if request.image.size != (request.width, request.height):
                raise ValueError(
                    f"image size {request.image.size[0]}x{request.image.size[1]} differs from the requested "
                    f"{request.width}x{request.height}; prepare the image at the generation size first"
                )

    def generate(
        self,
        request: GenerationRequest,
        *,
        on_step: Callable[[int, int], None] | None = None,
        hold_device: Callable[[], AbstractContextManager] | None = None,
    ) -> GenerationResult:
        """Generate one clip.

        Args:
            request: What to generate. Text-to-video when `request.image` is None, else
                image-to-video from that first frame.
            on_step: Called after every denoising step as `on_step(steps_done, total_steps)`.
                An exception raised by it propagates out of `generate` and stops the
                generation within one step; that is how a cancelled or overdue run frees its GPU.
            hold_device: Entered once this call's turn on the device has come, around the
                generation, on the device's model thread: where a caller adds an exclusivity
                that spans processes (tasks/concurrency.py: the GPU's Prefect slot).

        Returns:
            The frames (uint8 RGB, shape (num_frames, height, width, 3)) and how they were
            made. The same request (seed included) on the same device gives the same frames.

        Raises:
            ValueError: The request does not fit this model (see `validate`).
        """
        # 1. check inputs
        self.validate(request)
        pipeline = self.text_pipeline if request.image is None else self.image_pipeline

        # 2. build the call: only two-expert checkpoints accept a second guidance scale
        kwargs = {
            "height": request.height,
            "width": request.width,
            "num_frames": request.num_frames,
            "num_inference_steps": request.steps,
            "guidance_scale": request.guidance,
            "output_type": "latent",  # decoded by self._decoder, in the request's dtype
        }
        if pipeline.config.boundary_ratio is not None:
            # A distillation has one guidance for both experts (1.0, no CFG pass), not the base
            # model's second one.
            default_2 = request.guidance if request.speed == "distilled" else self.spec.default_guidance_2
            guidance_2 = request.guidance_2 if request.guidance_2 is not None else default_2
            if guidance_2 is not None:
                kwargs["guidance_scale_2"] = guidance_2
        if request.image is not None:
            kwargs["image"] = request.image.convert("RGB")
        if on_step is not None:

            def report_step(pipe: DiffusionPipeline, step: int, timestep: torch.Tensor, tensors: dict) -> dict:
                on_step(step + 1, pipe.num_timesteps)
                return {}

            kwargs["callback_on_step_end"] = report_step
            kwargs["callback_on_step_end_tensor_inputs"] = []

        # 3. read the LoRAs on this thread, then wait for the device, and swap, denoise and
        # decode on its model thread: the GPU waits for no file
        self._loras.prepare(request.loras)
        return run_on_model_thread(f"generate:{self.device}", self._generate_on_device, pipeline, request, kwargs,
                                   hold_device or nullcontext, asked=time.perf_counter())

    def _generate_on_device(self, pipeline: DiffusionPipeline, request: GenerationRequest, kwargs: dict,
                            hold_device: Callable[[], AbstractContextManager], *, asked: float) -> GenerationResult:
        """Every generation on this device runs here, on one long-lived thread, whichever clip's
        thread asks: its queue keeps two generations from sharing the GPU (they would only slow
        each other down, and could run it out of memory), and the VAE's cuDNN tuning is kept per
        thread (models.devices.run_on_model_thread). Out of GPU memory, it frees the memory and
        retries once, one profile lighter, before the next generation may start."""
        with hold_device():
            started = time.perf_counter()
            fell_back_from = None
            try:
                lora_s = self._loras.use(self._pipeline, request.loras, self.spec.name, fp8=self._fp8)
            finally:
                if self._fp8 is not None:  # checked again at the swap, against the fused bf16 weights
                    self.precision = self._fp8.choice
            precision_choice = self.precision
            warnings = ()
            if request.speed == "distilled" and not self._loras.current:
                warnings = (f"speed 'distilled' ran without any LoRA loaded: {self.spec.name}'s base weights at "
                            f"{request.steps} steps and guidance {request.guidance:g} make a blurred, unfinished "
                            "clip; add the distillation's LoRA to the job's 'loras'",)
            try:
                frames, stages = self._run(pipeline, request, kwargs)
            except torch.OutOfMemoryError:
                lighter = lighter_profile(self.profile)
                if lighter is None:
                    raise
                fell_back_from, self.profile = self.profile, lighter
                logger.warning("%s ran out of GPU memory with profile %r; retrying with %r",
                               self.spec.name, fell_back_from, lighter)
                self._free_memory()
                place(self._pipeline, lighter, self.device)
                frames, stages = self._run(pipeline, request, kwargs)
            return GenerationResult(frames=frames, profile=self.profile, fell_back_from=fell_back_from,
                                    device_s=time.perf_counter() - started, waited_s=started - asked,
                                    attention=self.attention.kernel, precision=precision_choice.precision, **stages,
                                    lora_s=lora_s, warnings=warnings, precision_choice=precision_choice)

    def _run(self, pipeline: DiffusionPipeline, request: GenerationRequest, kwargs: dict) -> tuple[np.ndarray, dict]:
        clock = _StageClock(self.device)
        hits = self._embeddings.hits
        prompt_embeds = self._embeddings.get(pipeline, request.prompt)
        # Guidance 1.0 (a distilled profile) runs no unconditional pass: nothing reads the
        # negative prompt, so it is not encoded.
        negative_embeds = (self._embeddings.get(pipeline, request.negative_prompt or "")
                           if request.guidance > 1.0 else None)
        text_cached = self._embeddings.hits - hits
        encode_s = clock.lap()
        generator = torch.Generator(device=self.device).manual_seed(request.seed)
        sampling = (distilled_sampling(pipeline, self.spec.distilled, self._distilled_scheduler)
                    if request.speed == "distilled" else nullcontext())
        with sampling:
            latents = pipeline(generator=generator, prompt_embeds=prompt_embeds,
                               negative_prompt_embeds=negative_embeds, **kwargs).frames
        denoise_s = clock.lap()
        # To uint8 on the device: a quarter of the bytes cross to the host, and no float pass
        # over a few hundred million values there.
        frames, decode_dtype = self._decoder.decode(pipeline, latents, request.decode_dtype,
                                                    resident=self.profile == "resident" and self.device.type == "cuda")
        frames = frames.cpu().numpy()
        return frames, {"decode_dtype": decode_dtype, "text_cached": text_cached, "encode_s": encode_s,
                        "denoise_s": denoise_s, "decode_s": clock.lap()}

    def _free_memory(self) -> None:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def load_generator(model: str, source: str | None = None, *, device: str | None = None,
                   profile: str | None = None, attention: str | None = None, precision: str = "bf16") -> VideoGenerator:
    """Load a Wan2.2 generator, once per process for each (model, source, device).

    Args:
        model: A key of `MODEL_SPECS`: "tiny", "wan2.2-ti2v-5b", "wan2.2-i2v-a14b" or
            "wan2.2-t2v-a14b".
        source: A local checkpoint folder (diffusers layout, loaded without touching the
            network) or a hub id; None means the model's hub id. "tiny" takes no source.
        device: "cuda", "cuda:N" or "cpu"; None picks the GPU when there is one.
        profile: A memory profile ("resident", "model_offload", "group_offload"); None
            chooses from the GPU's free memory at load.
        attention: "auto", "sdpa" or "flash-attention-4"; None reads CLIPMILL_ATTENTION
            (default "auto": FlashAttention-4 on Hopper when installed and checked, else SDPA).
        precision: "bf16" or "fp8": FP8 blocks on a GPU that has FP8, when the check at load
            accepts them; otherwise the model runs as loaded and says why (`models.precision`).

    Returns:
        The cached `VideoGenerator`.

    Raises:
        ValueError: Unknown model or precision, or a source given for "tiny".
        ModelLoadError: The checkpoint is missing, unreachable, or not a checkpoint of `model`.
    """
    if model not in MODEL_SPECS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODEL_SPECS)}")
    spec = MODEL_SPECS[model]
    if precision not in precisions.PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose {' or '.join(precisions.PRECISIONS)}")
    torch_device = pick_device(device)

    if spec.hub_id is None:
        if source is not None:
            raise ValueError(f"model {model!r} is built in code and takes no source (got {source!r})")
        return cached_model(
            ("wan", model, TINY_SOURCE, str(torch_device), profile, attention, precision),
            lambda: VideoGenerator(spec, TINY_SOURCE, build_tiny(torch_device), random_weights=True,
                                   device=torch_device, profile=profile, attention=attention, precision=precision),
        )

    source = source or spec.hub_id
    if Path(source).expanduser().exists():
        source = str(Path(source).expanduser().resolve())

    def load() -> VideoGenerator:
        pipeline, random_weights = load_pretrained(spec, source, torch_device)
        return VideoGenerator(spec, source, pipeline, random_weights=random_weights, device=torch_device,
                              profile=profile, attention=attention, precision=precision)

    return cached_model(("wan", model, source, str(torch_device), profile, attention, precision), load)


class _StageClock:
    """Seconds between laps, the device synchronised at each: what each stage cost the GPU."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.last = self._now()

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def lap(self) -> float:
        now = self._now()
        seconds, self.last = now - self.last, now
        return seconds


def default_request(model: str, prompt: str, **overrides: object) -> GenerationRequest:
    """A request with `model`'s default size, frames, steps and guidance; `overrides` win.

    Example: `default_request("tiny", "a dog runs", seed=3, num_frames=9)`.
    """
    spec = MODEL_SPECS[model]
    fields = {
        "prompt": prompt,
        "width": spec.default_size[0],
        "height": spec.default_size[1],
        "num_frames": spec.default_frames,
        "steps": spec.default_steps,
        "guidance": spec.default_guidance,
        "seed": 0,
    }
    fields.update(overrides)
    return GenerationRequest(**fields)
