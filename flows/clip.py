"""One job's way from prompt to accepted clip, with QA-driven regeneration.

A failed QA verdict is a result, not an exception: the loop below reads it and tries again
with the parameters the retry policy chooses. Exceptions are for bad inputs and
infrastructure: the task decorators retry the latter, and whatever still fails ends the job
as "error", recorded, with the flow run marked Failed in the dashboard; the batch goes on.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import Failed

from clipmill.spec import JobSpec, ModelSources
from storage.paths import BatchPaths
from tasks.checks import check_clip, decide_retry
from tasks.generate import check_job_fits_model, generate_segment, initial_params
from tasks.inputs import input_gate, job_text, prepare_input_image, structure_prompt
from tasks.outputs import encode_clip, publish_clip
from tasks.records import begin_attempt, close_job, finish_attempt, open_job, params_record
from tasks.repair import deflicker_clip, stitch


@flow(name="clipmill-clip", flow_run_name="{job.id}")
def clip_flow(job: JobSpec, batch_id: int, batch_name: str, db_url: str, run_root: str,
              models: ModelSources) -> dict:
    logger = get_run_logger()
    paths = BatchPaths.for_batch(run_root, batch_name)
    text = job_text(job)
    params = initial_params(job)
    plan = structure_prompt(job, params.segments)
    for warning in plan.get("warnings", []):
        logger.warning("%s: %s", job.id, warning)
    job_id = open_job(db_url, batch_id, job, plan)

    start_image: Path | None = None
    gate_checks: list[dict] = []
    for tried in range(1, job.max_attempts + 1):
        attempt = begin_attempt(db_url, job_id, seed=params.seed, params=params_record(params))
        attempt_dir = paths.attempt_dir(job.id, attempt["number"])
        timings: dict[str, float] = {}
        artifacts: list[tuple[str, str]] = []
        try:
            check_job_fits_model(job)
            # 1. Input image and gate, once per run of the job: they do not change between attempts.
            if job.image is not None and start_image is None:
                prepared = prepare_input_image(job, paths.job_dir(job.id) / "input.png")
                timings["prepare"] = prepared["seconds"]
                artifacts.append(("prepared_image", prepared["path"]))
                gate = input_gate(Path(prepared["path"]), text, job.qa.gate_threshold,
                                  models.clip_model, models.clip_pretrained)
                timings["gate"] = gate["seconds"]
                gate_checks = [gate["check"]]
                if not gate["check"]["passed"]:
                    reason = gate["check"]["reason"]
                    finish_attempt(db_url, attempt["attempt_id"], status="rejected", checks=gate_checks,
                                   artifacts=artifacts, timings=timings, error=None)
                    close_job(db_url, job_id, status="rejected", reason=reason)
                    logger.info("%s rejected at the gate: %s", job.id, reason)
                    return {"job": job.id, "status": "rejected", "reason": reason}
                start_image = Path(prepared["path"])

            # 2. Segments: each continues from the previous segment's last frame.
            if params.segments != len(plan["segment_prompts"]):
                plan = structure_prompt(job, params.segments)
            segment_paths, device, previous = [], "", start_image
            frames_per_segment = (job.frames - 1) // params.segments + 1
            for index, prompt in enumerate(plan["segment_prompts"]):
                segment = generate_segment(
                    model=job.model, source=models.generator_source.get(job.model), prompt=prompt,
                    negative_prompt=plan["negative_prompt"], start_image=previous, width=job.width,
                    height=job.height, num_frames=frames_per_segment, steps=params.steps,
                    guidance=params.guidance, seed=params.seed + index, dest=attempt_dir / f"segment-{index + 1}.npy")
                timings["generate"] = timings.get("generate", 0.0) + segment["seconds"]
                segment_paths.append(Path(segment["frames_path"]))
                artifacts.append(("segment", segment["frames_path"]))
                previous, device = Path(segment["last_frame"]), segment["device"]

            # 3. Repair: stitch, deflicker.
            stitched = stitch(segment_paths, attempt_dir / "stitched.npy")
            timings["stitch"] = stitched["seconds"]
            repaired = deflicker_clip(Path(stitched["frames_path"]), attempt_dir / "frames.npy",
                                      params.deflicker_strength)
            timings["deflicker"] = repaired["seconds"]
            artifacts.append(("frames", repaired["frames_path"]))

            # 4. Judge, and encode what was judged so every attempt can be watched.
            verdict = check_clip(Path(repaired["frames_path"]), seams=stitched["seams"],
                                 expectations=plan["expectations"], text=text, qa=job.qa,
                                 detector_weights=models.detector, clip_model=models.clip_model,
                                 clip_pretrained=models.clip_pretrained)
            timings["qa"] = verdict["seconds"]
            encoded = encode_clip(Path(repaired["frames_path"]), attempt_dir / "clip.mp4", job.fps)
            timings["encode"] = encoded["seconds"]
            artifacts += [("attempt_clip", encoded["path"]), ("attempt_poster", encoded["poster"])]
        except Exception as error:  # recorded, then reported to Prefect as this job's failure
            message = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
            finish_attempt(db_url, attempt["attempt_id"], status="error", checks=gate_checks,
                           artifacts=artifacts, timings=timings, error=message)
            close_job(db_url, job_id, status="error", reason=message)
            # A bad input (ValueError and kin) needs its message, not a traceback; anything else does.
            (logger.error if isinstance(error, ValueError) else logger.exception)("%s: %s", job.id, message)
            return Failed(message=message, data={"job": job.id, "status": "error", "reason": message})

        checks = gate_checks + verdict["checks"]
        gate_checks = []  # the gate belongs to the attempt that ran it
        if verdict["passed"]:
            sidecar = {"job": job.model_dump(mode="json"), "plan": plan, "attempt": attempt["number"],
                       "params": params_record(params), "verdict": verdict, "video": encoded["probe"],
                       "timings": timings, "device": device}
            published = publish_clip(Path(encoded["path"]), Path(encoded["poster"]), paths.clip(job.id), sidecar)
            finish_attempt(db_url, attempt["attempt_id"], status="accepted", checks=checks,
                           artifacts=artifacts, timings=timings, device=device)
            close_job(db_url, job_id, status="accepted", accepted_attempt_id=attempt["attempt_id"],
                      artifacts=[("clip", published["clip"]), ("poster", published["poster"]),
                                 ("sidecar", published["sidecar"])])
            return {"job": job.id, "status": "accepted", "attempts": attempt["number"], "clip": published["clip"]}

        finish_attempt(db_url, attempt["attempt_id"], status="failed_qa", checks=checks,
                       artifacts=artifacts, timings=timings, device=device)
        decision = decide_retry(params, verdict, attempt_number=tried,
                                max_attempts=job.max_attempts, valid_segments=job.valid_segment_counts())
        logger.info("%s attempt %d failed QA (%s); %s", job.id, attempt["number"],
                    "; ".join(verdict["reasons"]), decision["reason"])
        if not decision["retry"]:
            break
        params = decision["params"]

    reason = "; ".join(verdict["reasons"]) or "QA failed"
    close_job(db_url, job_id, status="failed", reason=reason)
    return {"job": job.id, "status": "failed", "reason": reason}
