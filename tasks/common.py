"""What every clipmill task shares: the retry rule for infrastructure errors and stage timing."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.schemas.objects import TaskRun
from prefect.states import State


def retry_on_infrastructure_error(task, task_run: TaskRun, state: State) -> bool:
    """Retry what a second try can fix (a busy GPU, a full disk being cleaned, a lost mount),
    never a bad input: ValueError and its kin fail the same way every time."""
    try:
        state.result()
    except (ValueError, TypeError, KeyError, LookupError):
        return False
    except Exception:
        return True
    return False


@contextmanager
def stage_timer(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - start, 4)
