"""The log filters `tasks` installs on Prefect's loggers: a known outcome is no crash, a real error keeps its traceback."""
from __future__ import annotations

import logging
import sys

import pytest
from prefect.exceptions import FailedRun

import clipmill.tasks  # noqa: F401  (installs the filters)
from clipmill.outcomes import BatchEnded


def _record(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1,
                             "Engine execution exited with unexpected exception", None, exc_info)


def _kept(record: logging.LogRecord) -> bool:
    return all(f.filter(record) for f in logging.getLogger("prefect.flow_runs").filters)


@pytest.mark.parametrize("error", [
    BatchEnded("4/7 accepted · 1 rejected", {}),
    FailedRun("4/7 accepted · 1 rejected · 1 failed QA · 1 error"),  # the state came back without its result
])
def test_a_batch_that_ended_failed_is_not_logged_as_a_crash(error):
    assert not _kept(_record(error))


def test_a_real_error_in_a_flow_keeps_its_traceback():
    record = _record(RuntimeError("the database went away"))
    assert _kept(record) and record.exc_info is not None
