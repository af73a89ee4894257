"""Tasks of the trending-keyword poller: fetch a source, screen what came back against the
word lists and the database, write the batch spec, record the keywords."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from clipmill.trending import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    Decision,
    FetchResult,
    Keyword,
    ScreeningStatus,
    SourceError,
    TrendingBatch,
    WordList,
    build_batch_spec,
    check_name_prefix,
    fetch_source,
    screen_keywords,
)
from clipmill.statuses import KeywordStatus
from clipmill.storage import keywords as repo
from clipmill.storage.config import RunConfig
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.files import atomic_write_text
from clipmill.tasks.common import DB_TASK

def retry_transient_source_error(task, task_run: TaskRun, state: State) -> bool:
    """A timeout or a 5xx may pass on the next try; a broken feed or a wrong JSON path will not."""
    try:
        state.result()
    except SourceError as error:
        return error.transient
    except Exception:
        return True
    return False


@task(name="fetch-trending-source", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=retry_transient_source_error, task_run_name="fetch {source}")
def fetch_trending_source(source: str, timeout_s: float = DEFAULT_TIMEOUT_S,
                          max_bytes: int = DEFAULT_MAX_BYTES) -> FetchResult:
    """The raw keywords of one source (RSS/Atom, JSON API, CSV/text file or folder)."""
    return fetch_source(source, timeout=timeout_s, max_bytes=max_bytes)


def word_list(terms: list[str] | str | None) -> WordList:
    """Terms given inline (a list) or as a word-list file (a path)."""
    if terms is None:
        return WordList()
    if isinstance(terms, str):
        return WordList.load(terms)
    return WordList.of(terms)


@task(name="screen-trending-keywords", **DB_TASK)
def screen_trending_keywords(fetched: list[FetchResult], config: RunConfig, blocklist: list[str] | str | None = None,
                             allowlist: list[str] | str | None = None) -> list[Decision]:
    """One decision a fetched keyword: new, seen (queued by an earlier poll), duplicate,
    blocked, filtered (allowlist) or invalid."""
    pairs = [(result.source, text) for result in fetched for text in result.keywords]
    first_pass = screen_keywords(pairs)
    with session_scope(init_db(config.db_url)) as session:
        seen = repo.seen_keywords(session, [d.keyword.normalised for d in first_pass if d.status == ScreeningStatus.NEW])
    return screen_keywords(pairs, seen=seen, blocklist=word_list(blocklist), allowlist=word_list(allowlist))


def batch_name(prefix: str = "trending") -> str:
    # Seconds alone collide when two pollers (or a poller and a CLI run) start together.
    return f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


@task(name="write-trending-spec", cache_policy=NO_CACHE)
def write_trending_spec(keywords: list[Keyword], templates: list[str], run_root: str,
                        spec_defaults: dict | None = None) -> TrendingBatch:
    """Write `<run_root>/trending/<batch>.yaml` (atomically) with one job per keyword and template."""
    skeleton = dict(spec_defaults or {})
    # Checked before the name becomes a path: `../x` would put the spec outside trending/.
    name = batch_name(check_name_prefix(skeleton.pop("name", None) or "trending"))
    path = Path(run_root) / "trending" / f"{name}.yaml"
    spec, job_keys = build_batch_spec(keywords, templates, name=name, skeleton=skeleton, source=path)
    atomic_write_text(path, yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    return TrendingBatch(name=name, spec_path=str(path), jobs=len(spec["jobs"]), job_keys=job_keys)


@task(name="record-trending-keywords", **DB_TASK)
def record_trending_keywords(config: RunConfig, decisions: list[Decision], batch: str | None = None,
                             job_keys: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Store every keyword worth remembering: queued (with its batch and jobs), blocked,
    filtered, invalid. Duplicates and already-seen ones add nothing new."""
    job_keys = job_keys or {}
    rows = []
    for decision in decisions:
        status, keyword = decision.status.recorded_as, decision.keyword
        if status is None or not keyword.normalised:
            continue
        if status == KeywordStatus.QUEUED and keyword.normalised not in job_keys:
            continue  # beyond this poll's max_keywords: left for the next poll
        # Postgres refuses over-long values outright; an invalid keyword can be any length.
        rows.append(repo.KeywordRecord(normalised=keyword.normalised[:500], display=keyword.display,
                                       source=keyword.source, status=status, reason=decision.reason or None,
                                       job_keys=job_keys.get(keyword.normalised, [])))
    with session_scope(init_db(config.db_url)) as session:
        recorded = repo.record_keywords(session, rows, batch_name=batch)
    counts: dict[str, int] = {}
    for row in recorded:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts
