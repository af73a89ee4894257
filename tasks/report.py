"""The batch's report, once its jobs are done: report.json and the HTML gallery in the artifact
store, and what the Prefect dashboard shows of the batch (results table, summary, gallery
link, every clip's poster on one sheet, the events its automations react to).

Batch-level only: the batch and fan-out flows call these after the last job. What one job
shows of itself (its card, its clip's link) is written with its record, by tasks/records.py."""
from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from clipmill.job_card import render_contact_sheet
from clipmill.publishing import LabelStatus, PublishRow, publish_manifest
from clipmill.report import prompt_cuts, render_gallery, render_markdown_summary, results_table
from clipmill.statuses import JobStatus
from clipmill.storage.config import RunConfig
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.files import is_url
from clipmill.storage.reports import batch_report
from clipmill.tasks.common import STORE_TASK, artifact_key


def show_every_clip(config: RunConfig, batch_name: str) -> None:
    """Every job's poster, status and reason on one markdown artifact of the batch run. Called
    from the flow itself, not a task: the run page's Artifacts tab lists what the flow run made
    under "Flow run"; those that write-report makes went unlisted there (Prefect 3.8.8's UI)."""
    try:
        with session_scope(init_db(config.db_url)) as session:
            report = batch_report(session, batch_name)
        create_markdown_artifact(render_contact_sheet(report, config.browser_url),
                                 key=artifact_key("clipmill", batch_name, "clips"),
                                 description=f"clipmill batch {batch_name}: every clip's poster, status and reason")
    except Exception as error:  # a display: it never costs the batch its result
        get_run_logger().warning("clips artifact not made: %s", error)


BATCH_FINISHED_EVENT = "clipmill.batch.finished"
BATCH_LOW_YIELD_EVENT = "clipmill.batch.low-yield"


@task(name="announce-batch", cache_policy=NO_CACHE)
def announce_batch(batch_name: str, message: str, counts: dict[str, int], gallery: str | None,
                   min_yield: float | None) -> list[str]:
    """Events the notification automations (deployments/automations/batch-*.yaml) react to:
    the batch's end, and a yield below the spec's `min_yield`. Returns the events emitted."""
    total = sum(counts.values())
    accepted_share = counts.get(JobStatus.ACCEPTED, 0) / total if total else None
    payload = {"batch": batch_name, "message": message, "counts": counts, "yield": accepted_share,
               "gallery": gallery, "min_yield": min_yield}
    resource = {"prefect.resource.id": f"clipmill.batch.{batch_name}", "prefect.resource.name": batch_name}
    emitted = [BATCH_FINISHED_EVENT]
    if min_yield is not None and accepted_share is not None and accepted_share < min_yield:
        emitted.append(BATCH_LOW_YIELD_EVENT)
    for event in emitted:
        emit_event(event, resource=resource, payload=payload)
    return emitted


@task(name="write-report", **STORE_TASK)
def write_report(config: RunConfig, batch_name: str, random_weights: bool) -> dict:
    """report.json and the HTML gallery in the batch's folder of the artifact store, plus the
    table, summary and gallery-link artifacts. Returns where they are, the job counts and the
    prompts the encoders cut (job key -> cuts), for the run's summary."""
    store = config.store(batch_name)
    with session_scope(init_db(config.db_url)) as session:
        report = batch_report(session, batch_name)
    report["random_weights"] = random_weights
    report_url = store.put_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), "report.json")
    gallery_url = store.put_text(render_gallery(report, base_dir=store.url), "index.html")
    gallery_link = config.public_url(gallery_url)
    create_table_artifact(results_table(report), key=artifact_key("clipmill", batch_name, "results"),
                          description=f"clipmill batch {batch_name}: one row per job")
    create_markdown_artifact(render_markdown_summary(report, gallery=gallery_link),
                             key=artifact_key("clipmill", batch_name, "summary"),
                             description=f"clipmill batch {batch_name}: summary")
    create_link_artifact(config.browser_url(gallery_url), link_text=f"{batch_name} gallery",
                         key=artifact_key("clipmill", batch_name, "gallery"),
                         description=f"clipmill batch {batch_name}: every clip and verdict")
    csv_text, json_text = publish_manifest(_publish_rows(report, store), batch=batch_name)
    manifest_url = store.put_text(json_text, "publish.json")
    store.put_text(csv_text, "publish.csv")
    return {"report": report_url, "gallery": gallery_link, "clips": store.url_for("clips"),
            "publish_manifest": manifest_url, "counts": report.get("counts", {}),
            "prompt_cuts": prompt_cuts(report)}


def _publish_rows(report: dict, store) -> list[PublishRow]:
    """One row per accepted clip, for an upload tool: file, poster, title, description,
    hashtags, duration, size, sha256, labels and ProduceID."""
    rows = []
    for job in report.get("jobs", []):
        if job["status"] != JobStatus.ACCEPTED:
            continue
        attempt = next(a for a in job["attempts"] if a["number"] == job["accepted_attempt"])
        files = {a["kind"]: a["path"] for a in job["artifacts"] if a["attempt"] is None}
        with _local_file(files["clip"], store) as clip:
            rows.append(PublishRow.from_clip(
                clip, job_id=job["key"], plan=job["plan"] or {}, keyword=job["params"].get("keyword"),
                template=job["params"].get("template"), label_status=LabelStatus(attempt.get("label_status") or LabelStatus.OFF),
                produce_id=attempt.get("produce_id"), file=files["clip"], poster_url=files.get("poster")))
    return rows


@contextlib.contextmanager
def _local_file(stored: str, store) -> Iterator[Path]:
    """A published file as a local path: itself, or a temporary copy of a stored object."""
    if not is_url(stored):
        yield Path(stored)
        return
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / PurePosixPath(stored).name
        local.write_bytes(store.fs.cat_file(stored))
        yield local
