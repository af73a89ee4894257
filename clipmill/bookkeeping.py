"""The clip flow's bookkeeping, as values: what an attempt records as it goes (times, files,
checks, events, the reproduction record), the accepted clip's sidecar, the record its C2PA
credentials carry, and how a job's run ended with the state the dashboard shows for it.

Pure: no Prefect and no I/O. The record tasks (tasks/records.py) write these values to the
database, the clip tasks (tasks/clip.py) fill them in, and the clip flow turns a JobEnd into
its Prefect state.
"""
from __future__ import annotations

import dataclasses
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Literal

from clipmill.models.lora_files import LoraWeights
from clipmill.outcomes import EncodedClip, GeneratedSegment, JobOutcome, OutcomeStatus, StitchedClip
from clipmill.planning import ShotPlan
from clipmill.publishing.settings import LabelStatus
from clipmill.qa.retry import AttemptParams, RetryDecision
from clipmill.qa.types import Check
from clipmill.spec import JobSpec, ModelSources
from clipmill.statuses import AttemptEventKind, JobStatus

if TYPE_CHECKING:
    from clipmill.qa.judge import Judgement


@dataclass(frozen=True)
class AttemptEvent:
    """What happened to an attempt besides its checks (storage.schema.AttemptEvent's fields)."""

    kind: AttemptEventKind
    action: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def retry(cls, decision: RetryDecision) -> AttemptEvent:
        """The retry policy's decision after a failed judgement."""
        return cls(AttemptEventKind.RETRY, decision.action, decision.reason, {"changes": decision.changes})

    @classmethod
    def oom_fallback(cls, number: int, segment: GeneratedSegment) -> AttemptEvent:
        """Segment `number` ran out of GPU memory and was made again with a lighter profile."""
        return cls(AttemptEventKind.OOM_FALLBACK, "lighter_profile",
                   f"segment {number} ran out of GPU memory with profile {segment.fell_back_from!r}; "
                   f"retried on {segment.device}",
                   {"segment": number, "from": segment.fell_back_from})

    @classmethod
    def warning(cls, number: int, text: str) -> AttemptEvent:
        """Something about how segment `number` was made that a person should know."""
        return cls(AttemptEventKind.WARNING, "generation", text, {"segment": number})


@dataclass(frozen=True)
class ClipRecipe:
    """What makes an attempt's frames, all of it: the job, the models, the prompts actually
    sent, the plan they came from, the parameters (seed included) and the start image."""

    job: JobSpec
    models: ModelSources
    prompts: list[str]
    negative_prompt: str
    plan: dict[str, Any]  # ShotPlan.to_dict(): recorded as planned, read back as recorded
    params: AttemptParams
    start_image: Path | None

    @classmethod
    def of(cls, job: JobSpec, models: ModelSources, plan: ShotPlan, params: AttemptParams,
           start_image: Path | None) -> ClipRecipe:
        return cls(job, models, list(plan.segment_prompts), plan.negative_prompt, plan.to_dict(), params, start_image)


@dataclass(frozen=True)
class Provenance:
    """What shaped the frames besides the recipe: where the weights came from, a fingerprint
    of them, the device, the software versions (clipmill.provenance measures them) and the
    precision the transformer ran in, with why and the FP8 check's errors
    (models.precision.PrecisionChoice.to_dict(); empty in records made before it existed), and
    the LoRAs fused into the weights: each file's sha256, scale and transformer."""

    model_source: str
    weights: str
    device: str
    versions: dict[str, str]
    precision: dict[str, Any] = field(default_factory=dict)
    loras: tuple[LoraWeights, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Reproduction:
    """Everything `clipmill rerun` needs to make an attempt's frames again, as recorded with
    the attempt (the JSON layout of attempts.reproduce)."""

    recipe: ClipRecipe
    made_with: Provenance

    def to_dict(self) -> dict[str, Any]:
        recipe = self.recipe
        return {"job": recipe.job.model_dump(mode="json"), "models": recipe.models.model_dump(mode="json"),
                "prompts": list(recipe.prompts), "negative_prompt": recipe.negative_prompt, "plan": recipe.plan,
                "params": dataclasses.asdict(recipe.params),
                "start_image": str(recipe.start_image) if recipe.start_image else None,
                **self.made_with.to_dict()}

    @classmethod
    def from_dict(cls, recorded: dict[str, Any]) -> Reproduction:
        recipe = ClipRecipe(
            job=JobSpec.model_validate(recorded["job"]), models=ModelSources.model_validate(recorded["models"]),
            prompts=list(recorded["prompts"]), negative_prompt=recorded["negative_prompt"],
            plan=dict(recorded.get("plan") or {}), params=AttemptParams(**recorded["params"]),
            start_image=Path(recorded["start_image"]) if recorded.get("start_image") else None)
        made_with = Provenance(model_source=recorded.get("model_source", ""), weights=recorded.get("weights", ""),
                               device=recorded.get("device", ""), versions=dict(recorded.get("versions") or {}),
                               precision=dict(recorded.get("precision") or {}),
                               loras=tuple(LoraWeights(**lora) for lora in recorded.get("loras") or ()))
        return cls(recipe, made_with)

    def pinned_recipe(self) -> ClipRecipe:
        """The recipe with each of its job's LoRAs pinned to the sha256 the attempt recorded:
        made again with a file that has changed since, it would be another clip, so the rerun
        refuses it, naming the file."""
        job, recorded = self.recipe.job, self.made_with.loras
        pinned = {}
        for key, expert in (("loras", "transformer"), ("loras_2", "transformer_2")):
            made = [lora for lora in recorded if lora.expert == expert]
            listed = getattr(job, key)
            if made and len(made) == len(listed):
                pinned[key] = [lora.model_copy(update={"sha256": weights.sha256}) for lora, weights in zip(listed, made)]
        return dataclasses.replace(self.recipe, job=job.model_copy(update=pinned)) if pinned else self.recipe


@dataclass(frozen=True)
class MadeClip:
    """An attempt's generated and stitched frames, and how to make them again."""

    stitched: StitchedClip
    reproduction: Reproduction


@dataclass(frozen=True)
class JudgedClip:
    """One judged version of an attempt's frames (the first, or a repair) and its MP4."""

    judgement: Judgement
    encoded: EncodedClip


@dataclass(frozen=True)
class ClipRecord:
    """Which clip an MP4 is, as its C2PA credentials record it."""

    batch: str
    job: str
    attempt: int
    seed: int
    model: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class AttemptRecord:
    """What one attempt has produced so far; the database gets it when the attempt ends, also
    when it ends half-way (an error, a cancel), with whatever it had made by then."""

    attempt_id: int
    number: int
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)
    artifacts: list[tuple[str, str]] = field(default_factory=list)  # (kind, path or URL)
    checks: list[Check] = field(default_factory=list)
    events: list[AttemptEvent] = field(default_factory=list)
    device: str = ""
    reproduction: Reproduction | None = None
    produce_id: str | None = None  # the AIGC ProduceID of the attempt's published MP4
    label_status: LabelStatus = LabelStatus.OFF

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + seconds, 4)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add_time(stage, time.perf_counter() - started)

    def add_segment(self, number: int, segment: GeneratedSegment) -> None:
        # Device time only in "generate": the time queued behind another clip is "gpu_wait".
        self.add_time("generate", segment.device_s)
        self.add_time("gpu_wait", segment.waited_s)
        self.artifacts.append(("segment", str(segment.frames_path)))
        self.device = segment.device
        if segment.lora_s:  # part of "generate" too: the swap holds the device
            self.add_time("lora_swap", segment.lora_s)
        if segment.fell_back_from:
            self.events.append(AttemptEvent.oom_fallback(number, segment))
        said = {event.reason for event in self.events if event.kind == AttemptEventKind.WARNING}
        self.events += [AttemptEvent.warning(number, text) for text in segment.warnings if text not in said]

    def add_encoded(self, encoded: EncodedClip) -> None:
        self.produce_id = encoded.labels.produce_id
        self.label_status = encoded.labels.status

    def add_decision(self, decision: RetryDecision, judgement: Judgement) -> None:
        """The decision after a judgement; the checks of the judgement that ends the attempt."""
        if decision.action != "accept":
            self.events.append(AttemptEvent.retry(decision))
        if decision.action != "repair":
            self.checks += judgement.verdict.checks


@dataclass(frozen=True)
class Sidecar:
    """The JSON beside an accepted clip: what it is, how it was made and judged."""

    job: JobSpec
    plan: ShotPlan
    params: AttemptParams
    judged: JudgedClip
    attempt: AttemptRecord

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job.model_dump(mode="json"), "version": self.job.version(), "plan": self.plan.to_dict(),
                "prompt_cuts": list(self.plan.prompt_cuts), "attempt": self.attempt.number,
                "params": dataclasses.asdict(self.params), "verdict": self.judged.judgement.to_dict(),
                "video": self.judged.encoded.probe.to_dict(), "labels": self.judged.encoded.labels.to_dict(),
                "timings": self.attempt.timings, "device": self.attempt.device}


DISK_FULL = "Disk full"  # the state name of a job, and a batch, stopped by a full disk

StateType = Literal["COMPLETED", "FAILED", "CANCELLED"]
_FAILED_STATE_NAMES = {JobStatus.REJECTED: "Rejected", JobStatus.FAILED: "QA failed", JobStatus.ERROR: "Error"}


@dataclass(frozen=True)
class JobEnd:
    """How one job's run ended: the outcome the batch counts, and the state its run shows in
    the dashboard's colours (Completed only when accepted; the name says why it is not)."""

    outcome: JobOutcome
    state_type: StateType
    state_name: str | None  # None: the type's own name
    message: str


def accepted(job_key: str, attempt: int, clip: str) -> JobEnd:
    return JobEnd(JobOutcome(job_key, JobStatus.ACCEPTED, attempts=attempt, clip=clip), "COMPLETED", None,
                  f"accepted on attempt {attempt}")


def ended(job_key: str, status: JobStatus, reason: str, attempts: int, *, bad_input: bool = False) -> JobEnd:
    """A job that ended without a clip (rejected, failed, error) or was cancelled."""
    outcome = JobOutcome(job_key, status, reason=reason, attempts=attempts)
    if status == JobStatus.CANCELLED:
        return JobEnd(outcome, "CANCELLED", None, reason)
    return JobEnd(outcome, "FAILED", "Bad input" if bad_input else _FAILED_STATE_NAMES[status], reason)


def skipped(job_key: str, owner: str | None) -> JobEnd:
    """Another live run is making the job: this run leaves it alone (gray in the dashboard)."""
    outcome = JobOutcome(job_key, OutcomeStatus.SKIPPED, reason=f"made by {owner or 'another run'}")
    return JobEnd(outcome, "CANCELLED", "Skipped", outcome.reason)


def stopped_by_full_disk(job_key: str, line: str, attempts: int) -> JobEnd:
    """A full disk stops the batch, not only this job: the job is left interrupted, to resume."""
    outcome = JobOutcome(job_key, JobStatus.INTERRUPTED, reason=line, attempts=attempts, stops_batch=line)
    return JobEnd(outcome, "FAILED", DISK_FULL, line)
