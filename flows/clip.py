"""One job's way from prompt to accepted clip, with QA-driven regeneration.

A failed QA verdict is a result, not an exception: the loop below reads it and tries again
with the parameters the retry policy chooses. Exceptions are for bad inputs and
infrastructure: the task decorators retry the latter, and whatever still fails ends the job
as "error", recorded, with the flow run marked Failed in the dashboard; the batch goes on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import Failed

from clipmill.spec import JobSpec, ModelSources
from qa.retry import AttemptParams
from storage.artifacts import ArtifactStore
from storage.paths import BatchPaths
from tasks.checks import check_clip, decide_retry
from tasks.generate import check_job_fits_model, generate_segment, initial_params
from tasks.inputs import input_gate, job_text, prepare_input_image, structure_prompt
from tasks.outputs import encode_clip, publish_clip, store_artifact
from tasks.records import begin_attempt, close_job, finish_attempt, open_job, params_record
from tasks.repair import deflicker_clip, stitch


@dataclass
class AttemptLog:
    """What one attempt has produced so far; written to the database when it ends."""

    db_url: str
    attempt_id: int
    number: int
    folder: Path
    paths: BatchPaths
    store_url: str  # the batch's folder in the artifact store
    timings: dict[str, float] = field(default_factory=dict)
    artifacts: list[tuple[str, str]] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    device: str = ""

    def took(self, stage: str, result: dict) -> dict:
        self.timings[stage] = round(self.timings.get(stage, 0.0) + result["seconds"], 4)
        return result

    def publish(self, kind: str, path: str) -> None:
        """Copy a finished local file to the same place in the artifact store; list it by URL."""
        self.artifacts.append((kind, store_artifact(Path(path), self.store_url, self.paths.relative(path))))

    def finish(self, status: str, error: str | None = None) -> None:
        finish_attempt(self.db_url, self.attempt_id, status=status, checks=self.checks, artifacts=self.artifacts,
                       timings=self.timings, error=error, device=self.device or None)


@flow(name="clipmill-clip", flow_run_name="{job.id}")
def clip_flow(job: JobSpec, batch_id: int, batch_name: str, db_url: str, run_root: str,
              models: ModelSources, artifact_url: str) -> dict:
    """Scratch work goes under `run_root`; published files to the artifact store at `artifact_url`."""
    logger = get_run_logger()
    paths = BatchPaths.for_batch(run_root, batch_name)
    store_url = ArtifactStore.for_batch(artifact_url, batch_name).url
    job_id = open_job(db_url, batch_id, job)
    params = initial_params(job)
    plan: dict | None = None
    start_image: Path | None = None  # the prepared photo, once it has passed the gate

    for tried in range(1, job.max_attempts + 1):
        opened = begin_attempt(db_url, job_id, seed=params.seed, params=params_record(params))
        attempt = AttemptLog(db_url, opened["attempt_id"], opened["number"],
                             paths.attempt_dir(job.id, opened["number"]), paths, store_url)
        try:
            # 1. Plan, input image and gate: once per run of the job, before any GPU time.
            if plan is None:
                check_job_fits_model(job)
                plan = structure_prompt(job, params.segments)
                for warning in plan["warnings"]:
                    logger.warning("%s: %s", job.id, warning)
                open_job(db_url, batch_id, job, plan)
            if job.image is not None and start_image is None:
                prepared = attempt.took("prepare", prepare_input_image(
                    job, paths.job_dir(job.id) / "input.png", models.detector, plan))
                attempt.publish("prepared_image", prepared["path"])
                gate = attempt.took("gate", input_gate(Path(prepared["path"]), job_text(job), job.qa.gate_threshold,
                                                       models.clip_model, models.clip_pretrained))
                attempt.checks.append(gate["check"])
                if not gate["check"]["passed"]:
                    attempt.finish("rejected")
                    close_job(db_url, job_id, status="rejected", reason=gate["check"]["reason"])
                    logger.info("%s rejected at the gate: %s", job.id, gate["check"]["reason"])
                    return {"job": job.id, "status": "rejected", "reason": gate["check"]["reason"]}
                start_image = Path(prepared["path"])
            if params.segments != len(plan["segment_prompts"]):  # the retry policy split the clip anew
                plan = structure_prompt(job, params.segments)

            # 2. Generate, then repair and judge. A flicker-only failure is first repaired on the
            # same frames (stronger deflicker, no GPU time); anything else is regenerated below.
            stitched = _generate(job, plan, params, start_image, models, attempt)
            verdict, encoded = _repair_and_judge(job, plan, params, stitched, models, attempt, repair=False)
            decision = None if verdict["passed"] else decide_retry(
                params, verdict, attempt_number=tried, max_attempts=job.max_attempts,
                valid_segments=job.valid_segment_counts())
            if decision is not None and decision["action"] == "repair":
                attempt.checks.append(_decision_record(decision))
                params = decision["params"]
                verdict, encoded = _repair_and_judge(job, plan, params, stitched, models, attempt, repair=True)
                decision = None if verdict["passed"] else decide_retry(
                    params, verdict, attempt_number=tried, max_attempts=job.max_attempts,
                    valid_segments=job.valid_segment_counts(), repaired=True)
        except Exception as error:  # recorded, then reported to Prefect as this job's failure
            message = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
            attempt.finish("error", error=message)
            close_job(db_url, job_id, status="error", reason=message)
            # A bad input (ValueError and kin) needs its message, not a traceback; anything else does.
            (logger.error if isinstance(error, ValueError) else logger.exception)("%s: %s", job.id, message)
            return Failed(message=message, data={"job": job.id, "status": "error", "reason": message})

        attempt.checks += verdict["checks"]
        if verdict["passed"]:
            sidecar = {"job": job.model_dump(mode="json"), "plan": plan, "attempt": attempt.number,
                       "params": params_record(params), "verdict": verdict, "video": encoded["probe"],
                       "timings": attempt.timings, "device": attempt.device}
            published = publish_clip(Path(encoded["path"]), Path(encoded["poster"]), store_url,
                                     paths.relative(paths.clip(job.id)), sidecar)
            attempt.finish("accepted")
            close_job(db_url, job_id, status="accepted", accepted_attempt_id=attempt.attempt_id,
                      artifacts=[("clip", published["clip"]), ("poster", published["poster"]),
                                 ("sidecar", published["sidecar"])])
            return {"job": job.id, "status": "accepted", "attempts": attempt.number, "clip": published["clip"]}

        attempt.checks.append(_decision_record(decision))
        attempt.finish("failed_qa")
        logger.info("%s attempt %d failed QA (%s); %s", job.id, attempt.number,
                    "; ".join(verdict["reasons"]), decision["reason"])
        if decision["action"] != "regenerate":
            break
        params = decision["params"]

    reason = "; ".join(verdict["reasons"])
    close_job(db_url, job_id, status="failed", reason=reason)
    return {"job": job.id, "status": "failed", "reason": reason}


def _decision_record(decision: dict) -> dict:
    """The retry policy's decision, kept with the attempt's checks so reports show why."""
    return {"stage": "retry", "metric": decision["action"], "value": 0.0, "threshold": None, "passed": True,
            "reason": decision["reason"]}


def _generate(job: JobSpec, plan: dict, params: AttemptParams, start_image: Path | None,
              models: ModelSources, attempt: AttemptLog) -> dict:
    """All segments, each continuing from the previous one's last frame, stitched into one clip."""
    segment_paths, previous = [], start_image
    for index, prompt in enumerate(plan["segment_prompts"]):
        segment = attempt.took("generate", generate_segment(
            model=job.model, source=models.generator_source.get(job.model), memory_profile=models.memory_profile,
            prompt=prompt,
            negative_prompt=plan["negative_prompt"], start_image=previous, width=job.width, height=job.height,
            num_frames=job.segment_frames(params.segments), steps=params.steps, guidance=params.guidance,
            seed=params.seed + index, dest=attempt.folder / f"segment-{index + 1}.npy"))
        attempt.took("gpu_wait", {"seconds": segment["waited_s"]})
        segment_paths.append(Path(segment["frames_path"]))
        attempt.artifacts.append(("segment", segment["frames_path"]))
        previous, attempt.device = Path(segment["last_frame"]), segment["device"]
        if segment["fell_back_from"]:
            attempt.checks.append({"stage": "retry", "metric": "oom_fallback", "value": float(index + 1),
                                   "threshold": None, "passed": True,
                                   "reason": f"segment {index + 1} ran out of GPU memory with profile "
                                             f"{segment['fell_back_from']!r}; retried on {segment['device']}"})
    return attempt.took("stitch", stitch(segment_paths, attempt.folder / "stitched.npy"))


def _repair_and_judge(job: JobSpec, plan: dict, params: AttemptParams, stitched: dict, models: ModelSources,
                      attempt: AttemptLog, *, repair: bool) -> tuple[dict, dict]:
    """Deflicker → QA → MP4. Every version is encoded, so a person can watch what QA judged."""
    suffix = "-repair" if repair else ""
    repaired = attempt.took("deflicker", deflicker_clip(Path(stitched["frames_path"]),
                                                        attempt.folder / f"frames{suffix}.npy",
                                                        params.deflicker_strength))
    attempt.artifacts.append(("frames", repaired["frames_path"]))
    verdict = attempt.took("qa", check_clip(
        Path(repaired["frames_path"]), seams=stitched["seams"], plan=plan,
        text=job_text(job), qa=job.qa, detector_weights=models.detector, clip_model=models.clip_model,
        clip_pretrained=models.clip_pretrained))
    encoded = attempt.took("encode", encode_clip(Path(repaired["frames_path"]),
                                                 attempt.folder / f"clip{suffix}.mp4", job.fps))
    attempt.publish("attempt_clip", encoded["path"])
    attempt.publish("attempt_poster", encoded["poster"])
    return verdict, encoded
