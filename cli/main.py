"""The `clipmill` command: run batches, read their results, check the machine."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from clipmill.cli.console import fail
from clipmill.statuses import JobStatus

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_SPEC = REPO_ROOT / "deployments" / "specs" / "demo.yaml"

app = typer.Typer(help="clipmill: quality-gated batch production of AI video clips (Wan2.2 + Prefect).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

RunRoot = typer.Option(None, "--run-root", help="folder for run outputs [default: $CLIPMILL_RUN_ROOT or ./runs]")
DbUrl = typer.Option(None, "--db-url", help="SQLAlchemy URL [default: $CLIPMILL_DATABASE_URL or SQLite in the run root]")


def _run_batch(spec: Path, run_root: Optional[Path], db_url: Optional[str], *, retry_failed: bool = False,
               as_json: bool = False) -> dict:
    from clipmill.preflight import PreflightError, preflight
    from clipmill.spec import SpecError, load_spec
    from clipmill.storage.config import RunConfig

    try:
        # Fail fast, before Prefect starts, on a spec that cannot be read; a job whose own
        # fields are wrong costs only itself: the run records it "error" and names it.
        loaded = load_spec(spec, jobs_may_fail=True)
    except SpecError as error:
        fail(str(error))
    _warn_long_prompts(loaded)
    try:  # ffmpeg, folders, disk, database, weights: one line and exit 3, before any GPU time
        preflight(RunConfig.resolve(run_root, db_url, None, loaded.artifacts), loaded)
    except (PreflightError, ValueError) as error:
        fail(str(error), code=3)
    from clipmill.flows.batch import batch_flow, batch_summary
    from clipmill.storage.db import database_in_environment

    # --db-url reaches the flow by environment, never as a parameter: the server stores
    # parameters and the dashboard shows them, passwords too.
    with database_in_environment(db_url):
        state = batch_flow(str(spec), str(run_root) if run_root else None, retry_failed=retry_failed,
                           return_state=True)
    result = batch_summary(state)
    if result is None:
        from clipmill.storage.files import disk_full

        error = state.result(raise_on_failure=False)
        full = disk_full(error) if isinstance(error, BaseException) else None
        if full:  # the machine's fault, as preflight's full disk is: exit 3, one line
            fail(full, code=3)
    if result is None:  # the flow itself broke: one line, no traceback
        fail(f"batch {spec} did not finish: {state.message or state.result(raise_on_failure=False)}", code=1)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        _print_summary(result)
    return result


def _warn_long_prompts(spec) -> None:
    from clipmill.prompt_limits import length_warnings

    for job in spec.jobs:
        for warning in [*length_warnings(job.text()), *job.warnings()]:
            typer.secho(f"warning: job '{job.id}': {warning}", fg=typer.colors.YELLOW, err=True)


def _print_summary(result: dict) -> None:
    typer.echo("")
    typer.secho(f"batch {result['batch']}: {result['message']}", bold=True)
    for name, job in result["jobs"].items():
        detail = job.get("clip") or job.get("reason") or ""
        if job.get("resumed"):
            detail = "ended in an earlier run (--retry-failed runs failed and errored jobs again)" \
                if job["status"] in (JobStatus.FAILED, JobStatus.ERROR) else "ended in an earlier run"
        typer.echo(f"  {name:<24} {job['status']:<9} {detail}")
    for name, cuts in (result.get("prompt_cuts") or {}).items():
        for cut in cuts:  # recorded with the job too (its plan, sidecar and the report)
            typer.secho(f"warning: job '{name}': {cut['text']} cut by {cut['encoder']}: about {cut['tokens_kept']} "
                        f"of {cut['tokens_given']} tokens read, {cut['characters_kept']} of "
                        f"{cut['characters_given']} characters", fg=typer.colors.YELLOW)
    for label, key in (("clips", "clips"), ("gallery", "gallery"), ("report", "report")):
        if result.get(key):
            typer.echo(f"{label + ':':<10}{result[key]}")
    if result.get("random_weights"):
        typer.secho("NOTE: random-weight models (" + ", ".join(result["random_weights"]) + "): the clips are noise "
                    "and the scores mean nothing; this run shows the pipeline working, not video quality.",
                    fg=typer.colors.YELLOW)


def _unfinished(result: dict) -> int:
    counts = result.get("counts", {})
    return counts.get(JobStatus.FAILED, 0) + counts.get(JobStatus.ERROR, 0)


# `run` exit statuses besides 0 (done), 1 (jobs failed), 2 (bad spec), 3 (machine not ready):
# jobs left unmade because another live run holds them. Its own code, so cron, a Prefect
# automation or a person does not take the batch for done, nor for failed by its jobs.
EXIT_HELD = 4


def _held_elsewhere(result: dict) -> str | None:
    """One line naming the jobs this run left to another live run: which, whose, until when."""
    from clipmill.outcomes import OutcomeStatus

    held: dict[str, list[str]] = {}
    for key, job in result.get("jobs", {}).items():
        if job.get("status") == OutcomeStatus.SKIPPED:
            holder = (job.get("reason") or "").removeprefix("held by ").removeprefix("made by ")
            held.setdefault(holder, []).append(key)
    if not held:
        return None
    count = sum(len(keys) for keys in held.values())
    where = "; ".join(f"{', '.join(keys)} held by {holder}" for holder, keys in held.items())
    return (f"batch {result['batch']}: {count} job(s) not made, another live run holds them: {where}; "
            "run again once it ends or its lease expires")


@app.command()
def run(spec: Path = typer.Argument(..., help="batch spec YAML"), run_root: Optional[Path] = RunRoot,
        db_url: Optional[str] = DbUrl,
        retry_failed: bool = typer.Option(False, "--retry-failed",
                                          help="give failed and errored jobs a new attempt budget"),
        as_json: bool = typer.Option(False, "--json", help="print the batch summary as JSON"),
        wait_held: Optional[float] = typer.Option(
            None, "--wait-held", metavar="SECONDS", help="after its own jobs, wait this long for jobs another live "
            "run holds, making those it lets go [default: $CLIPMILL_WAIT_HELD_S or 300]")) -> None:
    """Run a batch spec: every job that has not ended through gate, generation, repair, QA,
    retry and encode. Exits 1 when any job of the batch ended failed or error, 4 when jobs
    were left unmade because another live run holds them."""
    import os

    from clipmill.flows.batch import WAIT_HELD_ENV

    if wait_held is not None:  # the flow reads it where a deployment's worker would set it
        os.environ[WAIT_HELD_ENV] = str(wait_held)
    result = _run_batch(spec, run_root, db_url, retry_failed=retry_failed, as_json=as_json)
    held = _held_elsewhere(result)
    if held:
        typer.secho(f"error: {held}", err=True, fg=typer.colors.RED)
    if _unfinished(result):
        typer.secho(f"error: batch {result['batch']}: {result['message']}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1)
    if held:
        raise typer.Exit(code=EXIT_HELD)


@app.command()
def demo(run_root: Optional[Path] = RunRoot, db_url: Optional[str] = DbUrl) -> None:
    """Run the offline demo batch (random-weight tiny models; no downloads, no GPU). Its
    failed and errored jobs are part of the show: it exits 0 once the batch has run."""
    _run_batch(DEMO_SPEC, run_root, db_url)


@app.command()
def rerun(batch: str = typer.Argument(..., help="batch name"), job: str = typer.Argument(..., help="job id"),
          attempt: Optional[int] = typer.Option(None, "--attempt", help="attempt number [default: the accepted one, "
                                                                         "else the last]"),
          seed: Optional[int] = typer.Option(None, "--seed", help="a different seed [default: the recorded one]"),
          run_root: Optional[Path] = RunRoot, db_url: Optional[str] = DbUrl) -> None:
    """Make a recorded attempt again from its record (prompts, plan, parameters, seed, start
    image) into <batch>/reruns/; says what differs from when it was first made."""
    from clipmill.flows.rerun import rerun_flow
    from clipmill.storage.db import database_in_environment

    with database_in_environment(db_url):  # by environment, never a flow parameter
        state = rerun_flow(batch, job, attempt, seed, str(run_root) if run_root else None, return_state=True)
    result = state.result(raise_on_failure=False)
    if not isinstance(result, dict):
        fail(str(result), code=2 if isinstance(result, LookupError) else 1)
    typer.echo(f"made {job} attempt {result['attempt']} again with seed {result['seed']}: {result['clip']}")
    for difference in result["differences"]:
        typer.secho(f"differs: {difference}", fg=typer.colors.YELLOW)
    if not result["differences"]:
        typer.echo("same software, weights and device as the recorded attempt")


@app.command()
def validate(spec: Path = typer.Argument(..., help="batch spec YAML")) -> None:
    """Check a batch spec without running it."""
    from clipmill.spec import SpecError, load_spec

    try:
        loaded = load_spec(spec)
    except SpecError as error:
        fail(str(error))
    _warn_long_prompts(loaded)
    typer.echo(f"{spec}: batch '{loaded.name}', {len(loaded.jobs)} job(s), valid")


@app.command()
def report(batch: str = typer.Argument(..., help="batch name or id"),
           as_json: bool = typer.Option(False, "--json", help="print the full report as JSON"),
           run_root: Optional[Path] = RunRoot, db_url: Optional[str] = DbUrl) -> None:
    """Print a batch's results from the database."""
    from clipmill.report import results_table, stage_seconds
    from clipmill.storage.config import results_database_url
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.reports import batch_report

    from sqlalchemy.exc import SQLAlchemyError

    url = results_database_url(run_root, db_url)
    try:
        with session_scope(init_db(url)) as session:
            data = batch_report(session, batch)
    except LookupError as error:
        fail(str(error.args[0] if error.args else error))
    except SQLAlchemyError as error:
        from sqlalchemy.engine import make_url

        reason = str(getattr(error, "orig", None) or error)[:200]
        fail(f"database {make_url(url).render_as_string(hide_password=True)} is not usable: {reason}", code=3)
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    typer.secho(f"batch {data['name']} ({data['status']})", bold=True)
    for row in results_table(data):
        typer.echo(f"  {row['job']:<24} {row['status']:<9} attempts={row['attempts']}  {row['scores']}")
        if row["reason"]:
            typer.echo(f"  {'':<24} reason: {row['reason']}")
        if row["clip"]:
            typer.echo(f"  {'':<24} clip: {row['clip']}")
    stages = stage_seconds(data)
    if stages:
        typer.echo("seconds by stage: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))


@app.command()
def doctor(db_url: Optional[str] = DbUrl, run_root: Optional[Path] = RunRoot,
           detector: Optional[str] = typer.Option(None, "--detector", help="QA detector source to check: "
                                                  "ultralytics:PATH, opencv-dnn:GRAPH.pb[:CONFIG.pbtxt] or a path "
                                                  "[default: $CLIPMILL_DETECTOR, else yolov8n.pt]"),
           spec: Optional[Path] = typer.Option(None, "--spec", help="a batch spec whose LoRAs to check against "
                                                                     "their jobs' models")) -> None:
    """Report ffmpeg, torch and CUDA, GPU memory, the database, which weights are local, the QA
    detector, and (with --spec) whether the spec's LoRAs load into their models."""
    from clipmill.cli.doctor import run_checks

    ok = True
    for line in run_checks(db_url=db_url, run_root=run_root, detector=detector, spec=spec):
        colour = {"ok": typer.colors.GREEN, "warn": typer.colors.YELLOW, "fail": typer.colors.RED}[line.level]
        typer.secho(f"[{line.level:>4}] {line.name:<22} {line.detail}", fg=colour)
        ok &= line.level != "fail"
    raise typer.Exit(code=0 if ok else 1)


# Single-stage commands: each stage of the pipeline, run by hand on one input.
from clipmill.cli.inputs import plan, prep, trending  # noqa: E402
from clipmill.cli.check import calibrate_gate, check  # noqa: E402
from clipmill.cli.repair import deflicker, stitch  # noqa: E402
from clipmill.cli.control import cancel, pause, resume, submit  # noqa: E402
from clipmill.cli.serve import serve  # noqa: E402

app.command()(plan)
app.command()(prep)
app.command()(trending)
app.command()(check)
app.command()(deflicker)
app.command()(stitch)
app.command("calibrate-gate")(calibrate_gate)
app.command()(submit)
app.command()(cancel)
app.command()(pause)
app.command()(resume)
app.command()(serve)


def main() -> None:  # pragma: no cover - console entry
    app(prog_name="clipmill")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
