"""What every clipmill task shares: the retry rule for infrastructure errors, task settings."""
from __future__ import annotations

from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State


def retry_on_infrastructure_error(task, task_run: TaskRun, state: State) -> bool:
    """Retry what a second try can fix (a busy GPU, a full disk being cleaned, a lost mount),
    never a bad input: ValueError and its kin fail the same way every time; nor a cancelled
    generation, which was stopped on purpose."""
    from tasks.generate import GenerationCancelled

    try:
        state.result()
    except (ValueError, TypeError, KeyError, LookupError, GenerationCancelled):
        return False
    except Exception:
        return True
    return False


# Database tasks: small, idempotent writes; a locked or restarting database is worth two retries.
DB_TASK = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 1}
# Writes to the artifact store: a remote store can drop a connection, worth retrying; a bad
# URL (ValueError) fails the same way every time and is not retried.
STORE_TASK = {"cache_policy": NO_CACHE, "retries": 2, "retry_delay_seconds": 2,
              "retry_condition_fn": retry_on_infrastructure_error}
# Model work (CLIP, YOLO, ffmpeg): one retry for a transient failure, none for a bad input.
MODEL_TASK = {"cache_policy": NO_CACHE, "retries": 1, "retry_delay_seconds": 2,
              "retry_condition_fn": retry_on_infrastructure_error}
