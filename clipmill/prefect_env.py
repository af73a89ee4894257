"""clipmill's Prefect settings, in one place. Prefect reads its settings from the environment
once, when it is first imported, so every entry point imports this module before Prefect:
flows/ and tasks/ from their package `__init__`, the command line from cli/, the tests
from their conftest. Only defaults: a variable already set wins. (No Prefect import here.)
"""
import os

DEFAULTS = {
    # An offline server must not try to send analytics.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The temporary server a run without PREFECT_API_URL starts: Prefect waits 20 s for it, too
    # little on a loaded machine (a worker per GPU starting at once, or a busy CI box).
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}

for name, value in DEFAULTS.items():
    os.environ.setdefault(name, value)
