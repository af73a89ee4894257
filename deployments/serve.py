"""Serve the batch flow from this process, without a work pool: the simplest way to get the
schedule and the dashboard's "Run" button on one machine.

    prefect server start                                   # in another terminal
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python deployments/serve.py                             # schedules the nightly batch
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from flows.batch import batch_flow  # noqa: E402

if __name__ == "__main__":
    batch_flow.serve(
        name="nightly-batch",
        cron="0 2 * * *",
        parameters={"spec_path": "deployments/specs/mcn-trending-shorts.yaml"},
        description="The scheduled production batch; run by hand from the dashboard with any spec_path.",
    )
