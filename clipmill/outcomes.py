"""What each step of a clip hands to the next: small typed records, never string-keyed dicts.

Tasks return these; the clip flow reads them. Frames travel as file paths (.npy), never as
arrays, so nothing large passes through Prefect.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from clipmill.media import VideoInfo
from clipmill.models.lora_files import LoraWeights
from clipmill.publishing.encode import PublishedLabels
from clipmill.statuses import JobStatus

if TYPE_CHECKING:
    from clipmill.models.precision import PrecisionChoice


@dataclass(frozen=True)
class GeneratedSegment:
    """One generated segment. `device_s`: seconds it held the device; `waited_s`: seconds it
    queued for it behind another clip; `fell_back_from`: the memory profile it left after
    running out of GPU memory (None when it did not); `precision`: what the transformer ran in,
    what was asked for, why, and the FP8 check's errors (models.precision.PrecisionChoice);
    `loras`: the LoRA set fused while it was made, and `lora_s` the seconds spent swapping to
    it (0.0: it was fused already); `warnings`: what the attempt's record must show."""

    frames_path: Path
    last_frame: Path
    device: str
    device_s: float
    waited_s: float
    fell_back_from: str | None = None
    source: str = ""  # where the weights came from: a folder, a hub id, "built-in random weights"
    precision: PrecisionChoice | None = None
    loras: tuple[LoraWeights, ...] = ()
    lora_s: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class StitchedClip:
    frames_path: Path
    seams: list[int]  # frame indices where segments meet
    seam_metrics: dict


@dataclass(frozen=True)
class EncodedClip:
    path: Path
    poster: Path
    probe: VideoInfo
    labels: PublishedLabels


@dataclass(frozen=True)
class PublishedClip:
    """URLs (or absolute paths, for the default local store) of an accepted clip's files."""

    clip: str
    poster: str
    sidecar: str


class OutcomeStatus(StrEnum):
    """A job's outcome in one run that is no status of the job's own. SKIPPED: left unmade to
    another live run that holds it; never stored (the job's row keeps what that run records)."""

    SKIPPED = "skipped"


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended in this run: accepted, rejected, failed or error (or `resumed`: it had
    ended in an earlier run and was not run again); pending when the run stopped before it;
    skipped when another run holds it."""

    job: str
    status: JobStatus | OutcomeStatus
    reason: str | None = None
    attempts: int = 0
    clip: str | None = None
    resumed: bool = False
    # A fault of the machine, not of the job (a full disk), that every next clip would meet
    # too: its one line. The batch starts no more clips and ends with it.
    stops_batch: str | None = None


class BatchEnded(Exception):
    """A batch that ended Failed or Cancelled, carrying its summary.

    A Prefect run that ends Failed must hold an exception: on a worker the engine resolves the
    final state's data into one and logs a TypeError with a traceback when it is anything else
    (a dict, say). This is that exception; `summary` is what a Completed batch returns."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message, summary)  # both in args, so a pickled copy keeps the summary
        self.message, self.summary = message, summary

    def __str__(self) -> str:
        return self.message
