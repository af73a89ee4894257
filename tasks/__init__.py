"""Prefect tasks: thin wrappers that call the domain, persist results, return typed records.

Importing this package applies clipmill's Prefect settings (every entry point that talks to
Prefect imports it): a server started offline must not try to send analytics.
"""
import logging
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


class _BadInputWithoutTraceback(logging.Filter):
    """A bad input (ValueError and kin: a broken photo, a job its model cannot make) is the
    user's to fix from one line; the traceback Prefect logs with it says nothing to them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ValueError):
            record.exc_info, record.exc_text = None, None
        return True


for _name in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_name).addFilter(_BadInputWithoutTraceback())
