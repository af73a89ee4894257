"""What every clipmill task shares: the retry rule for infrastructure errors, task settings,
artifact keys, and how a flow finds its run configuration (the database from a Secret block
or the worker)."""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from clipmill.storage.config import RunConfig


def run_config(run_root: str | Path | None = None, db_secret: str | None = None, artifact_url: str | None = None,
               spec_artifacts: str | None = None) -> RunConfig:
    """The run's configuration. Its database: the URL in the Prefect Secret block named
    `db_secret`, else this process's $CLIPMILL_DATABASE_URL (a worker's own environment, or
    `--db-url`), else SQLite in the run root. A flow takes the block's name, never the URL:
    parameters are stored on the server; the URL stays in this process."""
    config = RunConfig.resolve(run_root, database_from_secret(db_secret) if db_secret else None,
                               artifact_url, spec_artifacts)
    return dataclasses.replace(config, public_base=public_base_url())


PUBLIC_URL_VARIABLE = "clipmill_public_url"


def public_base_url() -> str:
    """Where the run root is served: this process's $CLIPMILL_PUBLIC_URL, else the server's
    `clipmill_public_url` variable (deployments/setup.sh sets it), so every worker's artifacts
    link to `clipmill serve` without each worker being started with the variable."""
    from clipmill.storage.config import PUBLIC_URL_ENV

    if os.environ.get(PUBLIC_URL_ENV):
        return os.environ[PUBLIC_URL_ENV]
    from prefect.variables import Variable

    try:
        return str(Variable.get(PUBLIC_URL_VARIABLE, default="") or "")
    except Exception:  # no server to ask (a bare `clipmill run`): links stay file paths
        return ""


def import_model_libraries() -> None:
    """diffusers, transformers and open_clip, imported now, on the calling thread, under one
    lock (models.imports): a flow calls it on its main thread before clips start in threads,
    where two first imports at once can fail half-way."""
    from clipmill.models.imports import import_model_libraries as import_once

    import_once()


def database_from_secret(name: str) -> str:
    """The database URL held by the Prefect Secret block `name`."""
    if "://" in name:  # a URL where a name belongs: say so without repeating it (it may hold a password)
        raise ValueError("db_secret names a Prefect Secret block that holds the database URL, not the URL itself")
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()
    except ValueError as error:  # no such block
        raise ValueError(f"database secret block {name!r}: {error}") from None
    if not isinstance(value, str) or not value:
        raise ValueError(f"database secret block {name!r} must hold the database URL as a string")
    return value


class GenerationCancelled(RuntimeError):
    """The flow run was cancelled while its GPU was generating (tasks/concurrency.py's CancelWatch)."""


class GenerationTimedOut(TimeoutError):
    """A generation ran past its task's time limit and was stopped at a denoising step
    (tasks/concurrency.py). A TimeoutError, so Prefect ends the task run `TimedOut` as it does
    for its own timeout."""


def retry_on_infrastructure_error(task, task_run: TaskRun, state: State) -> bool:
    """Retry what a second try can fix (a busy GPU, a full disk being cleaned, a lost mount),
    never a bad input: ValueError and its kin fail the same way every time; nor a cancelled
    generation, which was stopped on purpose; nor a step past its time limit, which a second
    try on the same machine would only spend again (a network timeout inside a step is a plain
    TimeoutError and is retried)."""
    from prefect.task_engine import TaskRunTimeoutError

    try:
        state.result()
    except (ValueError, TypeError, KeyError, LookupError, GenerationCancelled, GenerationTimedOut,
            TaskRunTimeoutError):
        return False
    except Exception:
        return True
    return False


def retry_unless_locked_out(task, task_run: TaskRun, state: State) -> bool:
    """Retry a database write after a dropped connection or a restarting server, but not
    after a lock it already waited the whole bound for (storage.db.lock_wait_seconds): a retry
    would only multiply the wait the bound promises."""
    from clipmill.storage.db import DatabaseLockedError

    try:
        state.result()
    except DatabaseLockedError:
        return False
    except Exception:
        return True
    return False


# Database tasks: small, idempotent writes; a restarting database is worth two retries. A lock
# is waited out inside the write itself (storage.db: busy_timeout), up to its bound.
DB_TASK = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 1,
           "retry_condition_fn": retry_unless_locked_out}
# Writes to the artifact store: a remote store can drop a connection, worth retrying; a bad
# URL (ValueError) fails the same way every time and is not retried.
STORE_TASK = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 2,
              "retry_condition_fn": retry_on_infrastructure_error}
# Model work (CLIP, YOLO, ffmpeg): one retry for a transient failure, none for a bad input.
MODEL_TASK = {"cache_policy": NO_CACHE, "retries": 1, "retry_delay_seconds": 2,
              "retry_condition_fn": retry_on_infrastructure_error}


def artifact_key(*parts: str) -> str:
    # Artifact keys allow lowercase letters, digits and dashes only.
    safe = "-".join("".join(ch if ch.isalnum() else "-" for ch in part.lower()) for part in parts)
    return "-".join(piece for piece in safe.split("-") if piece)


_ATTEMPT_FOLDER = re.compile(r"(?:^|/)attempt-(\d+)(?:/|$)")


def clip_step_name() -> str:
    """A clip step's task run name, `<job>-attempt-<n>-<step>` (`<job>-<step>` before any
    attempt): what a person looks for in a run's task list, where every run of a task was
    `check-clip-123`. The job is the clip flow run's name; the attempt a parameter
    (`attempt`, `attempt_number`) or the `attempt-<n>` folder of a path it is given
    (storage/paths.py's layout)."""
    from prefect.runtime import flow_run, task_run

    parameters = task_run.parameters or {}
    attempt = parameters.get("attempt", parameters.get("attempt_number"))
    if attempt is None:
        for value in parameters.values():
            paths = value if isinstance(value, (list, tuple)) else [value]
            found = next((m for p in paths if isinstance(p, (str, Path))
                          for m in [_ATTEMPT_FOLDER.search(Path(p).as_posix())] if m), None)
            if found:
                attempt = found.group(1)
                break
    job = flow_run.name or "run"
    return f"{job}-attempt-{attempt}-{task_run.task_name}" if attempt is not None else f"{job}-{task_run.task_name}"
