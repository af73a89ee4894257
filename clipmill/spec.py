"""Batch specs: a YAML file of batch-wide defaults plus a list of jobs, validated by pydantic.

A job inherits every field from `defaults` and overrides what it names (the `qa:` block is
merged key by key). Errors name the file, the job and the field, because the person reading
them is fixing a YAML file by hand, often one of hundreds of jobs.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clipmill.planning import TEMPLATES, expand_template
from clipmill.publishing import PublishSettings
from clipmill.models.catalog import MODEL_SPECS
from clipmill.models.lora_files import Expert, LoraWeights, lora_weights, refuse_unless_safetensors
from clipmill.qa.retry import AttemptParams
from clipmill.qa.settings import QASettings  # noqa: F401  (a batch spec's qa: section)
from clipmill.storage.artifacts import ArtifactStore
from clipmill.storage.files import is_url
from clipmill.storage.user_files import UserFileError, read_user_bytes, user_file_sha256

MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SPECS)
# Fields that do not change what a job makes: a new budget or id is not a new version of it.
_NOT_PART_OF_VERSION = {"id", "max_attempts"}


class SpecError(ValueError):
    """A batch spec that cannot be used; the message says where and what."""


class JobFieldError(ValueError):
    """A job's value that is wrong only with another of its values (a keyword and its template,
    frames and segments): pydantic cannot locate it, so the field travels with the error."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ModelSources(_Strict):
    """Where the judging models come from: a local file, a known name, or 'random'."""

    clip_model: str = "ViT-B-32"
    clip_pretrained: str | None = Field(None, description="open_clip tag, local checkpoint file, or 'random'")
    detector: str = Field("yolov8n.pt", description="a local YOLO .pt/.onnx file (ultralytics:PATH), an OpenCV DNN "
                                                    "graph (opencv-dnn:GRAPH.pb[:CONFIG.pbtxt]), or 'random' for a "
                                                    "random-weight yolov8n")
    open_vocab_detector: str | None = Field(
        None, description="local YOLOE / YOLO-World .pt (or an ultralytics yaml, random weights) that checks the "
                          "plan's subjects outside COCO; None: they are recorded as not checkable (models.open_vocab)")
    open_vocab_text_encoder: str | None = Field(
        None, description="local TorchScript text encoder for open-vocabulary weights embedded with MobileCLIP "
                          "(ultralytics' mobileclip_blt.ts); weights embedded with CLIP ViT-B/32 use clip_model")
    generator_source: dict[str, str] = Field(default_factory=dict, description="model name -> local folder or hub id")
    memory_profile: Literal["resident", "model_offload", "group_offload"] | None = Field(
        None, description="how the generator sits on the GPU; None: chosen from free GPU memory at load")
    vae_decode: Literal["bfloat16", "float32"] = Field(
        "bfloat16", description="the VAE decode's precision on a GPU: bfloat16 (5.8 s for a 720p 121-frame TI2V-5B "
                                "clip on an H200, 50.8 dB from the float32 decode, below what H.264 itself changes) "
                                "or float32 (Wan's reference, 8.9 s); see README 'GPU and speed'")
    precision: Literal["bf16", "fp8"] = Field(
        "bf16", description="the generator transformer's matmuls: bf16, or fp8 (e4m3 weights and activations with "
                            "per-row scales, torchao; `pip install 'clipmill[fp8]'`) on a GPU of compute capability "
                            "8.9 or newer, checked against bf16 at load (falls back to bf16, saying why, on other "
                            "GPUs, on the CPU or when the check's error is over 3%); see README 'GPU and speed'")
    qa_device: str | None = Field(
        None, pattern=r"^(cpu|cuda(:\d+)?)$",
        description="where the gate's and QA's detector and CLIP run: 'cpu', 'cuda' or 'cuda:N'; None: the GPU "
                    "when there is one. Measured on an H100 worker running a distilled batch (2 clips in flight): "
                    "QA took 10.9 s a clip with them on the GPU and 12.1 s on the CPU (3.8 s and 4.4 s for one "
                    "clip alone), so the GPU stays the default; 'cpu' is for a GPU too small to hold them too")
    prompt_extender: str | dict[str, Any] | None = Field(
        None, description="a local instruct model (folder, or a hub id already cached) that rewrites each prompt and "
                          "plans the shot beside the rules planner; None: rules only (clipmill.planning.extender)")
    trusted_weights: dict[str, str] = Field(
        default_factory=dict,
        description="weights file as written above (detector, clip_pretrained) -> its sha256: a file that could "
                    "run code when loaded (.pt, .pth, .bin: pickles) loads only when pinned here or in the YAML "
                    "registry $CLIPMILL_TRUSTED_WEIGHTS names; safetensors need no pin")

    @field_validator("prompt_extender")
    @classmethod
    def _extender(cls, value):
        from clipmill.planning.extender import ExtenderConfig

        ExtenderConfig.from_spec(value)  # an unusable value is the spec's error, said when it loads
        return value

    @field_validator("trusted_weights")
    @classmethod
    def _sha256_pins(cls, value: dict[str, str]) -> dict[str, str]:
        from clipmill.models.trust import normalise_sha256

        pins = {}
        for path, sha in value.items():
            try:
                pins[path] = normalise_sha256(sha)
            except ValueError as error:
                raise ValueError(f"pin for {path!r}: {error}") from None
        return pins


class LoraSpec(_Strict):
    """A LoRA fused into the generator's weights for a job (models.lora): a local safetensors
    file and its strength. `sha256` pins the file: a job whose file no longer has it is refused
    (`clipmill rerun` pins every LoRA to the sha256 its attempt recorded)."""

    path: Path
    scale: float = Field(1.0, ge=-10.0, le=10.0, description="strength; 0 leaves it out")
    sha256: str | None = Field(None, description="the file's sha256, if it must be exactly this file")

    @field_validator("path")
    @classmethod
    def _safetensors_only(cls, value: Path) -> Path:
        refuse_unless_safetensors(value)
        return value

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        from clipmill.models.trust import normalise_sha256

        return None if value is None else normalise_sha256(value)

    def weights(self, expert: Expert) -> LoraWeights:
        """This LoRA named by its content (the file is hashed once per process)."""
        return lora_weights(self.path, self.scale, expert, pinned_sha256=self.sha256)


class JobSpec(_Strict):
    """One job, with every default already applied."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    prompt: str | None = None
    keyword: str | None = None
    template: str | None = None
    template_vars: dict[str, str] = Field(default_factory=dict)
    image: Path | None = None
    crop: Literal["center", "subject"] = "center"
    model: str = "tiny"
    width: int = Field(256, ge=16, le=4096)
    height: int = Field(160, ge=16, le=4096)
    frames: int = Field(17, ge=5, le=1025, description="frames in the finished clip")
    fps: int = Field(16, ge=1, le=120)
    segments: int = Field(1, ge=1, le=16)
    steps: int | None = Field(None, ge=1, le=200, description="denoising steps; model default when unset")
    guidance: float | None = Field(None, ge=0.0, le=30.0, description="classifier-free guidance; model default when unset")
    seed: int = Field(0, ge=0, lt=2**32)
    max_attempts: int = Field(3, ge=1, le=20)
    speed: Literal["quality", "fast", "distilled"] = Field(
        "quality", description="fast: the model's fast step count (about a third); distilled: the steps, guidance, "
                               "shift and expert boundary of a step-distilled LoRA (the model catalogue's "
                               "`distilled` profile), to run with one in `loras`; see README's speed section")
    loras: list[LoraSpec] = Field(
        default_factory=list, description="LoRAs fused into the transformer (A14B: the high-noise expert)")
    loras_2: list[LoraSpec] = Field(
        default_factory=list, description="LoRAs fused into the A14B low-noise expert (transformer_2)")
    negative_prompt: str | None = None
    qa: QASettings = Field(default_factory=QASettings)

    @field_validator("qa")
    @classmethod
    def _image_quality_on_noise(cls, qa: QASettings, info) -> QASettings:
        # The tiny backend's random weights make noise: no blur, noise or text check can pass it.
        if qa.enforce_image_quality is None and info.data.get("model") == "tiny":
            return qa.model_copy(update={"enforce_image_quality": False})
        return qa

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in MODEL_NAMES:
            raise ValueError(f"unknown model {value!r}; known models: {', '.join(MODEL_NAMES)}")
        return value

    @field_validator("width", "height")
    @classmethod
    def _multiple_of_16(cls, value: int) -> int:
        if value % 16:
            raise ValueError(f"{value} is not a multiple of 16 (Wan's VAE and patching need it)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "JobSpec":
        if bool(self.prompt) == bool(self.keyword):
            raise JobFieldError("prompt", "give exactly one of 'prompt' or 'keyword'")
        if self.keyword and not self.template:
            raise JobFieldError("template", "'keyword' needs a 'template'")
        if self.keyword:
            try:  # an unknown template or variable is the spec's error, said when it loads
                self.text()
            except ValueError as error:
                raise JobFieldError("template" if self.template not in TEMPLATES else "template_vars",
                                    str(error)) from None
        if (self.frames - 1) % (4 * self.segments):
            valid = [4 * self.segments * k + 1 for k in range(1, 4)]
            raise JobFieldError("frames", f"frames={self.frames} cannot be split into {self.segments} segment(s) "
                                          f"of 4k+1 frames sharing their boundary frame; use e.g. "
                                          f"{', '.join(map(str, valid))}")
        if self.loras_2 and MODEL_SPECS[self.model].boundary_ratio is None:
            raise JobFieldError("loras_2", f"{self.model} has one transformer: 'loras_2' is for the low-noise expert "
                                           "of the two-expert A14B models; list its LoRAs under 'loras'")
        if self.speed == "distilled" and MODEL_SPECS[self.model].distilled is None:
            raise JobFieldError("speed", f"{self.model} has no distilled profile in the model catalogue")
        return self

    def segment_frames(self, segments: int | None = None) -> int:
        """Frames each segment generates; segments overlap by the one frame they share."""
        return (self.frames - 1) // (segments or self.segments) + 1

    def valid_segment_counts(self) -> list[int]:
        """Segment counts that split this clip into 4k+1-frame windows (for the retry policy)."""
        return [n for n in range(1, 17) if (self.frames - 1) % (4 * n) == 0 and (self.frames - 1) // n >= 4]

    def text(self) -> str:
        """The prompt as the user meant it: free text, or the keyword poured into its template."""
        if self.prompt:
            return self.prompt
        return expand_template(self.keyword or "", self.template or "", self.template_vars or None)

    def check_fits_model(self) -> None:
        """Refuse, before any GPU time, a job its model cannot make (raises ValueError)."""
        model = MODEL_SPECS[self.model]
        if self.width % model.size_multiple or self.height % model.size_multiple:
            raise ValueError(f"{self.model} needs width and height in multiples of {model.size_multiple}, "
                             f"got {self.width}x{self.height}")
        if self.image is None and not model.supports_text:
            raise ValueError(f"{self.model} is image-to-video only: give the job an 'image'")
        if (self.image is not None or self.segments > 1) and not model.supports_image:
            raise ValueError(f"{self.model} cannot start from an image, so it takes no 'image' and cannot continue "
                             "segments; use wan2.2-ti2v-5b for those")

    def initial_params(self) -> AttemptParams:
        """The first attempt's knobs: the job's own values, else the model's release defaults
        (`speed: distilled`: the steps and guidance of the model's distilled profile)."""
        model = MODEL_SPECS[self.model]
        fast = self.speed == "fast" and model.fast_steps
        distilled = model.distilled if self.speed == "distilled" else None
        steps = distilled.steps if distilled else (model.fast_steps if fast else model.default_steps)
        guidance = distilled.guidance if distilled else model.default_guidance
        return AttemptParams(
            seed=self.seed,
            guidance=self.guidance if self.guidance is not None else guidance,
            segments=self.segments,
            deflicker_strength=self.qa.deflicker_strength,
            steps=self.steps if self.steps is not None else steps,
        )

    def lora_weights(self) -> tuple[LoraWeights, ...]:
        """The job's LoRAs as the generator fuses them, each named by its content: `loras` into
        the transformer (A14B: the high-noise expert), then `loras_2` into the low-noise one.
        Raises LoraFileError (a ValueError, one line) for a missing, unreadable or changed file."""
        return (*(lora.weights("transformer") for lora in self.loras),
                *(lora.weights("transformer_2") for lora in self.loras_2))

    def warnings(self) -> list[str]:
        """What is allowed but most likely a mistake, said by `clipmill validate` (a generation
        says it again, recorded with the attempt)."""
        if self.speed == "distilled" and not any(lora.scale for lora in (*self.loras, *self.loras_2)):
            return ["speed 'distilled' without any LoRA: the base weights at the distilled profile's few steps and "
                    "guidance make an unfinished clip; add the distillation's LoRA to 'loras'"]
        return []

    def lora_set_key(self) -> tuple:
        """What tells this job's LoRA set from another's without reading a file: jobs with the
        same key run one after another, so the set is fused once for all of them."""
        return tuple((expert, str(lora.path), lora.scale) for expert, loras in (("1", self.loras), ("2", self.loras_2))
                     for lora in loras)

    def version(self) -> str:
        """A digest of everything that decides what this job makes (prompt, image content, model,
        LoRA files' content and scales, size, frames, seed, QA settings, ...). A changed definition is a new version of the job:
        it runs again, while the old version's attempts stay recorded. The image counts by its
        bytes, so a photo replaced under the same name is a new version too; an unusable image
        (missing, a FIFO, a device, a directory, too big) counts by its path, refused at once
        without reading it, and the job's run records why. The digest is read once a process."""
        fields = self.model_dump(mode="json", exclude=_NOT_PART_OF_VERSION)
        if self.image is not None:
            try:
                fields["image"] = user_file_sha256(self.image, kind="image")
            except UserFileError:
                pass
        for key in ("loras", "loras_2"):
            if not fields[key]:
                # Absent from the digest when empty, as before these fields existed: adding them
                # must not make every job recorded earlier a new version that runs again.
                del fields[key]
                continue
            for lora in fields[key]:  # a LoRA counts by its bytes, as the image does
                try:
                    lora["path"] = user_file_sha256(lora["path"], kind="weights")
                except UserFileError:
                    pass
        canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def in_lora_order(jobs: list[JobSpec]) -> list[JobSpec]:
    """`jobs` with those that share a LoRA set next to each other, so that each set is fused
    once rather than swapped back and forth (seconds each time, models.lora): the sets in the
    order each first appears, the jobs of a set in their own order (a stable sort)."""
    first_seen: dict[tuple, int] = {}
    for index, job in enumerate(jobs):
        first_seen.setdefault(job.lora_set_key(), index)
    return sorted(jobs, key=lambda job: first_seen[job.lora_set_key()])


class InvalidJob(_Strict):
    """A job whose own fields are wrong, kept out of a run's jobs so that it costs only itself:
    the run records it as "error" with `reason` (file, job and field) and makes the others."""

    key: str = Field(description="its id, or '#<position>' when the id itself is unusable")
    field: str
    reason: str
    prompt: str = ""
    model: str = ""
    params: dict[str, Any] = Field(default_factory=dict, description="the job as written, defaults applied")
    version: str = Field(description="a digest of `params`: a corrected job is a new version and runs")


class BatchSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    description: str = ""
    models: ModelSources = Field(default_factory=ModelSources)
    artifacts: str | None = Field(
        None, description="where published clips, posters, sidecars and the report go: a folder or an fsspec URL "
                          "(s3://bucket/prefix); unset: $CLIPMILL_ARTIFACT_URL, else the run root")
    jobs: list[JobSpec] = Field(default_factory=list)
    invalid_jobs: list[InvalidJob] = Field(
        default_factory=list, description="jobs a run records as errors instead of making (load_spec jobs_may_fail)")
    publish: PublishSettings = Field(default_factory=PublishSettings,
                                     description="the AIGC labels published clips carry (clipmill.publishing)")
    priority: Literal["urgent", "normal", "bulk"] = Field(
        "normal", description="the GPU pool's work queue its runs wait in: urgent runs start before normal, "
                              "normal before bulk (see deployments/setup.sh)")
    min_yield: float | None = Field(
        None, ge=0.0, le=1.0, description="below this share of accepted jobs the batch's end is announced as "
                                          "low-yield too (event clipmill.batch.low-yield; see deployments/automations)")
    source_path: Path | None = None
    source_sha256: str | None = None

    @field_validator("artifacts")
    @classmethod
    def _usable_store(cls, value: str | None) -> str | None:
        if value is not None:
            ArtifactStore(value)  # a bad URL or a missing filesystem package, said before anything runs
        return value

    @model_validator(mode="after")
    def _unique_job_ids(self) -> "BatchSpec":
        if not self.jobs and not self.invalid_jobs:
            raise ValueError("'jobs' must be a non-empty list")
        seen: set[str] = set()
        for key in [job.id for job in self.jobs] + [job.key for job in self.invalid_jobs]:
            if key in seen:
                raise ValueError(f"job id {key!r} appears more than once")
            seen.add(key)
        return self

    def random_weight_models(self) -> list[str]:
        """Which models of this batch have random weights (said plainly in every output)."""
        found = []
        if any(job.model == "tiny" for job in self.jobs):
            found.append("generator 'tiny'")
        if self.models.clip_pretrained in (None, "random"):
            found.append(f"CLIP {self.models.clip_model}")
        if self.models.detector == "random":
            found.append("YOLO detector")
        return found


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error_fields(error: ValidationError) -> list[str]:
    """The field each error of `error` is about, located by pydantic or carried by JobFieldError."""
    fields = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        fields.append(cause.field if isinstance(cause, JobFieldError)
                      else ".".join(str(p) for p in item["loc"]) or "(job)")
    return fields


def _describe(error: ValidationError) -> str:
    parts = []
    for field, item in zip(_error_fields(error), error.errors()):
        cause = (item.get("ctx") or {}).get("error")
        message = str(cause) if isinstance(cause, JobFieldError) else item["msg"]
        parts.append(f"field '{field}': {message}")
    return "; ".join(parts)


def _files_beside(publish: Any, base_dir: Path) -> Any:
    """The label font and the C2PA certificate and key, relative to the spec file like images."""
    if not isinstance(publish, dict):
        return publish  # pydantic names the problem
    publish = copy.deepcopy(publish)
    for block, key in (("label", "font"), ("c2pa", "cert"), ("c2pa", "key")):
        part = publish.get(block)
        if isinstance(part, dict) and part.get(key) and not Path(str(part[key])).expanduser().is_absolute():
            part[key] = str(base_dir / Path(str(part[key])).expanduser())
    return publish


def _loras_beside(loras: Any, base_dir: Path) -> Any:
    """LoRA paths relative to the spec file, like images."""
    if not isinstance(loras, list):
        return loras  # pydantic names the problem
    resolved = []
    for lora in loras:
        if isinstance(lora, dict) and lora.get("path") and not Path(str(lora["path"])).expanduser().is_absolute():
            lora = {**lora, "path": str(base_dir / Path(str(lora["path"])).expanduser())}
        resolved.append(lora)
    return resolved


def _invalid_job(where: str, label: str, index: int, raw: dict, merged: dict, defaults: dict,
                 error: ValidationError) -> InvalidJob:
    """The record of a job that failed validation; a SpecError when the fault is in `defaults`
    alone, which every job inheriting it shares: that is the spec's, not one job's."""
    fields = _error_fields(error)
    inherited = [f.split(".")[0] in defaults and f.split(".")[0] not in raw for f in fields]
    hint = " (the value comes from 'defaults')" if any(inherited) else ""
    reason = f"{where}: {label}: {_describe(error)}{hint}"
    if all(inherited):
        raise SpecError(reason)
    plain = json.loads(json.dumps(merged, default=str))  # paths and dates as the YAML wrote them
    job_id = raw.get("id")
    usable_id = isinstance(job_id, str) and "id" not in fields
    return InvalidJob(
        key=job_id if usable_id else f"#{index + 1}", field=fields[0], reason=reason,
        prompt=str(plain.get("prompt") or plain.get("keyword") or ""), model=str(plain.get("model") or ""),
        params=plain, version=hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:16])


def parse_spec(data: Any, *, source: str | Path = "<spec>", jobs_may_fail: bool = False) -> BatchSpec:
    """Validate an already-loaded YAML document. Relative image paths resolve against `source`'s folder.

    A job that fails validation makes the whole spec a SpecError, so `validate` and `submit`
    show it at once; with `jobs_may_fail` (a run) it goes to `invalid_jobs` instead, and only
    what no job can do without (YAML shape, top-level fields, `defaults`) is a SpecError."""
    where = str(source)
    if not isinstance(data, dict):
        raise SpecError(f"{where}: a batch spec is a mapping with 'name', 'defaults' and 'jobs'")
    unknown = set(data) - {"name", "description", "models", "artifacts", "defaults", "jobs", "min_yield", "priority",
                           "publish"}
    if unknown:
        raise SpecError(f"{where}: unknown top-level field(s): {', '.join(sorted(unknown))}")
    defaults = data.get("defaults") or {}
    raw_jobs = data.get("jobs")
    if not isinstance(defaults, dict):
        raise SpecError(f"{where}: 'defaults' must be a mapping")
    if not isinstance(raw_jobs, list) or not raw_jobs:
        raise SpecError(f"{where}: 'jobs' must be a non-empty list")
    if "id" in defaults:
        raise SpecError(f"{where}: defaults: field 'id' belongs to each job")

    base_dir = Path(source).parent if source != "<spec>" else Path.cwd()
    jobs, invalid = [], []
    for index, raw in enumerate(raw_jobs):
        label = f"job #{index + 1}"
        if not isinstance(raw, dict):
            if not jobs_may_fail:
                raise SpecError(f"{where}: {label}: a job is a mapping of fields")
            reason = f"{where}: {label}: a job is a mapping of fields, not {type(raw).__name__}"
            invalid.append(InvalidJob(key=f"#{index + 1}", field="(job)", reason=reason, prompt=str(raw)[:200],
                                      version=hashlib.sha256(reason.encode()).hexdigest()[:16]))
            continue
        if raw.get("id"):
            label = f"job '{raw['id']}'"
        merged = _deep_merge(defaults, raw)
        if merged.get("image"):
            image = Path(str(merged["image"])).expanduser()
            merged["image"] = image if image.is_absolute() else (base_dir / image)
        for key in ("loras", "loras_2"):
            if key in merged:
                merged[key] = _loras_beside(merged[key], base_dir)
        try:
            jobs.append(JobSpec.model_validate(merged))
        except ValidationError as error:
            if jobs_may_fail:
                invalid.append(_invalid_job(where, label, index, raw, merged, defaults, error))
                continue
            hint = " (the value may come from 'defaults')" if any(
                str(e["loc"][0]) in defaults for e in error.errors() if e["loc"]
            ) else ""
            raise SpecError(f"{where}: {label}: {_describe(error)}{hint}") from None
    artifacts = data.get("artifacts")
    if artifacts and not is_url(str(artifacts)):  # a folder: relative to the spec file, like images
        artifacts = str(base_dir / Path(str(artifacts)).expanduser())
    try:
        return BatchSpec.model_validate(
            {"name": data.get("name"), "description": data.get("description", ""),
             "models": data.get("models") or {}, "artifacts": artifacts, "jobs": jobs, "invalid_jobs": invalid,
             "min_yield": data.get("min_yield"), "priority": data.get("priority") or "normal",
             "publish": _files_beside(data.get("publish") or {}, base_dir)}
        )
    except ValidationError as error:
        raise SpecError(f"{where}: {_describe(error)}") from None


def load_spec(path: str | Path, *, jobs_may_fail: bool = False) -> BatchSpec:
    """Read and validate a batch spec file (`jobs_may_fail`: see parse_spec)."""
    path = Path(path)
    try:
        raw_bytes = read_user_bytes(path, kind="spec")
    except UserFileError as error:
        raise SpecError(f"{path}: cannot read the spec ({error.problem})") from None
    try:
        data = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML: {error}") from None
    spec = parse_spec(data, source=path, jobs_may_fail=jobs_may_fail)
    return spec.model_copy(update={
        "source_path": path.resolve(),
        "source_sha256": hashlib.sha256(raw_bytes).hexdigest(),
    })
