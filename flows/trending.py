"""The trending-keyword poller: sources in, a batch of keyword jobs out.

Every poll fetches each source (one failing source is reported, the others still count),
screens the keywords (duplicates, blocklist, allowlist, those queued by earlier polls),
writes a batch spec for the new ones to `<run_root>/trending/<batch>.yaml`, records the
keywords, and starts the batch in one of three ways:

- `batch_deployment="clipmill-batch/trending-batch"`: `run_deployment`, a worker picks it up;
- `emit_event=True`: a `clipmill.trending.batch-ready` event; the automation in
  deployments/automations/trending-batch.yaml runs the batch deployment;
- neither: the batch flow runs here, as a subflow.

With a deployment or an event the batch runs elsewhere, so the run root must be storage the
workers share (the spec is read from there). The database goes by name: the Secret block
`db_secret`, or each process's own $CLIPMILL_DATABASE_URL; never a URL in a parameter.
"""
from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.deployments import run_deployment
from prefect.events import emit_event as emit_prefect_event

from clipmill.trending import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    Decision,
    FetchResult,
    ScreeningStatus,
    SourceError,
    TrendingBatch,
)
from clipmill.tasks.common import run_config
from clipmill.tasks.trending import (
    fetch_trending_source,
    record_trending_keywords,
    screen_trending_keywords,
    write_trending_spec,
)

BATCH_READY_EVENT = "clipmill.trending.batch-ready"


@flow(name="clipmill-trending-poller")
def trending_poller(
    sources: list[str],
    templates: list[str] | None = None,
    spec_defaults: dict | None = None,
    blocklist: list[str] | str | None = None,
    allowlist: list[str] | str | None = None,
    batch_deployment: str | None = None,
    emit_event: bool = False,
    run_root: str | None = None,
    db_secret: str | None = None,
    max_keywords: int = 20,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """Poll `sources` (http(s) URLs or local paths; see clipmill.trending) and start a batch
    of `templates` x new keywords (at most `max_keywords` a poll; the rest wait for the next).

    `spec_defaults` is the rest of the batch spec: `models`, `defaults`, optionally
    `description` and `name` (the batch name prefix). `blocklist`/`allowlist` are terms or
    the path of a word-list file. `db_secret`: the Prefect Secret block holding the database
    URL, passed on to the batch [default: $CLIPMILL_DATABASE_URL, or SQLite in the run root].
    """
    logger = get_run_logger()
    templates = list(templates or ["trending-short"])
    config = run_config(run_root, db_secret)

    # 1. fetch every source; a failing one is reported and the others still count
    fetched, failed = _fetch_all(sources, timeout_s, max_bytes, logger)

    # 2. screen: duplicates, word lists, keywords earlier polls already queued
    decisions = screen_trending_keywords(fetched, config, blocklist, allowlist)
    new = [d for d in decisions if d.status == ScreeningStatus.NEW]
    chosen, deferred = new[:max_keywords], new[max_keywords:]
    summary = _summary(fetched, failed, decisions, deferred, config.database_label)
    if not chosen:
        record_trending_keywords(config, decisions)
        logger.info("no new keywords; nothing to start")
        return {**summary, "batch": None, "spec_path": None, "jobs": 0, "started": None}

    # 3. the batch spec, then the record (so a spec that fails validation queues nothing)
    spec = write_trending_spec([d.keyword for d in chosen], templates, str(config.run_root), spec_defaults)
    record_trending_keywords(config, decisions, spec.name, spec.job_keys)
    logger.info("%d keyword(s) -> %d job(s) in %s", len(chosen), spec.jobs, spec.spec_path)
    summary.update(batch=spec.name, spec_path=spec.spec_path, jobs=spec.jobs, job_keys=spec.job_keys)

    # 4. start the batch: through a deployment, an event, or here as a subflow
    summary["started"] = _start_batch(spec, chosen, str(config.run_root), db_secret, batch_deployment, emit_event)
    return summary


def _fetch_all(sources: list[str], timeout_s: float, max_bytes: int, logger) -> tuple[list[FetchResult], dict]:
    """Fetch every source concurrently; return the fetched results and {source: error} of
    those that failed. Raises only when there were sources and every one failed."""
    futures = [fetch_trending_source.submit(source, timeout_s, max_bytes) for source in sources]
    fetched, failed = [], {}
    for source, future in zip(sources, futures):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            failed[source] = str(outcome)
            logger.warning("source failed: %s", outcome)
        else:
            fetched.append(outcome)
            if outcome.malformed:
                logger.warning("%s: %d malformed entr(ies) skipped", source, outcome.malformed)
    if sources and not fetched:
        # A ValueError: the poll ends Failed with this one line, no traceback (see tasks/__init__.py).
        raise SourceError(", ".join(sources), "every source failed: " + "; ".join(failed.values()))
    return fetched, failed


def _summary(fetched: list[FetchResult], failed: dict, decisions: list[Decision], deferred: list[Decision],
             database_label: str) -> dict:
    """What the poll saw, before anything is started: the flow's JSON result."""
    return {
        "sources": {r.source: len(r.keywords) for r in fetched},
        "failed_sources": failed,
        "malformed": sum(r.malformed for r in fetched),
        "decisions": [d.to_dict() for d in decisions],
        "deferred": [d.keyword.display for d in deferred],
        "database": database_label,
    }


def _start_batch(spec: TrendingBatch, chosen: list[Decision], root: str, db_secret: str | None,
                 batch_deployment: str | None, emit_event: bool) -> dict:
    """Start the batch of `spec` and say how: a deployment run, an event, or an inline subflow."""
    # The batch run keeps the poller's name for it (run_name), which the batch flow would
    # otherwise replace with <batch>-<date-time>.
    parameters = {"spec_path": spec.spec_path, "run_root": root, "db_secret": db_secret, "run_name": spec.name}
    if batch_deployment:
        flow_run = run_deployment(batch_deployment, parameters=parameters, timeout=0,
                                  flow_run_name=spec.name, tags=["clipmill", "trending"])
        return {"mode": "deployment", "deployment": batch_deployment, "flow_run_id": str(flow_run.id)}
    if emit_event:
        event = emit_prefect_event(
            BATCH_READY_EVENT,
            resource={"prefect.resource.id": f"clipmill.trending.batch.{spec.name}",
                      "prefect.resource.name": spec.name},
            payload={**parameters, "batch": spec.name, "jobs": spec.jobs,
                     "keywords": [d.keyword.display for d in chosen]},
        )
        return {"mode": "event", "event": BATCH_READY_EVENT, "event_id": str(event.id) if event else None}
    # Imported here: the batch flow pulls in torch and the models, which a poller that only
    # dispatches never needs.
    from clipmill.flows.batch import batch_flow, batch_summary

    result = batch_summary(batch_flow(spec.spec_path, root, db_secret=db_secret, run_name=spec.name,
                                      return_state=True)) or {"jobs": {}}
    return {"mode": "inline", "counts": result.get("counts", {}),
            "jobs": {k: v["status"] for k, v in result["jobs"].items()}}


if __name__ == "__main__":
    import sys

    # python flows/trending.py https://example.com/trends.rss keywords.txt   (runs the batch inline)
    print(trending_poller(sys.argv[1:]))
