"""Prefect tasks: thin wrappers that call the domain, persist results, return typed records.

Importing this package applies clipmill's Prefect settings (clipmill.prefect_env) and keeps
known faults to one line in Prefect's logs.
"""
import logging

import clipmill.prefect_env  # noqa: F401  (before anything imports Prefect)
from prefect.exceptions import FailedRun

from clipmill.outcomes import BatchEnded
from clipmill.storage.db import DatabaseLockedError
from clipmill.storage.files import DiskFullError, disk_full

# Faults whose message says all a person needs: a bad input (ValueError and kin: a broken
# photo, a job its model cannot make, a machine not ready for the batch), a full disk, or a
# database another process kept locked for longer than the lock bound.
KNOWN_FAULTS = (ValueError, DiskFullError, DatabaseLockedError)


class _BadInputWithoutTraceback(logging.Filter):
    """A known fault is the user's to fix from one line; the traceback Prefect logs with it
    says nothing to them (and twelve broken photos would print twelve of them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A full disk is known however it surfaced: SQLite says "database or disk is full"
        # through SQLAlchemy, ffmpeg and numpy through their own errors (storage.files.disk_full).
        if record.exc_info and (isinstance(record.exc_info[1], KNOWN_FAULTS) or disk_full(record.exc_info[1])):
            record.exc_info, record.exc_text = None, None
        return True


class _BatchOutcomeIsNoCrash(logging.Filter):
    """On a worker the engine asks a finished run for its result and, when the run ended
    Failed, logs the exception its state holds as "Engine execution exited with unexpected
    exception" with a traceback. For a batch whose jobs failed QA that exception is
    BatchEnded, the expected outcome already shown as the run's state: not a crash to report.
    When the state reaches the engine without its result (seen on a loaded machine, the final
    state read back a minute late), Prefect wraps the state's own message in FailedRun instead:
    the same outcome, with nothing the state does not already say. A real error in a flow is
    stored as itself, never as FailedRun, and keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], (BatchEnded, FailedRun)))


for _name in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_name).addFilter(_BadInputWithoutTraceback())
logging.getLogger("prefect.flow_runs").addFilter(_BatchOutcomeIsNoCrash())
