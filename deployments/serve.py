"""Serve the nightly batch from this process, without a work pool: the simplest way to get the
schedule and the dashboard's "Run" button on one machine.

    prefect server start                                   # in another terminal
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python deployments/serve.py                             # schedules the nightly batch

It registers `clipmill-batch/nightly-batch-served`, a deployment of its own: the work-pool
deployment `nightly-batch` of prefect.yaml (deployments/setup.sh) is left as it is, so both can
exist on one server. Schedule, spec and description are prefect.yaml's nightly batch; runs
execute from this process, one at a time, in the repository root (as a worker's runs do in
$CLIPMILL_HOME), so relative spec paths and ./runs mean the same in both.

When this process stops (Ctrl-C, SIGTERM), Prefect pauses the served deployment and deletes
its future scheduled runs: nothing piles up as Late while nobody serves it. Starting serve.py
again resumes the schedule. Served and worker runs on one GPU never generate at the same time:
each generation holds the GPU's global concurrency limit made by deployments/setup.sh.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import clipmill.prefect_env  # noqa: E402,F401  (before anything imports Prefect)

from prefect.schedules import Cron, Interval  # noqa: E402

from clipmill.flows.batch import batch_flow  # noqa: E402

SERVED_NAME = "nightly-batch-served"


def nightly_batch() -> dict:
    """The nightly batch as deployments/prefect.yaml declares it, so the two never drift apart."""
    project = yaml.safe_load((REPO / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    return next(d for d in project["deployments"] if d["name"] == "nightly-batch")


def schedules(declared: list[dict]) -> list:
    made = []
    for schedule in declared:
        if "cron" in schedule:
            made.append(Cron(schedule["cron"], timezone=schedule.get("timezone"), active=schedule.get("active", True)))
        else:
            made.append(Interval(schedule["interval"], timezone=schedule.get("timezone"),
                                 active=schedule.get("active", True)))
    return made


if __name__ == "__main__":
    os.chdir(REPO)
    nightly = nightly_batch()
    batch_flow.serve(
        name=SERVED_NAME,
        schedules=schedules(nightly.get("schedules", [])),
        parameters=nightly.get("parameters", {}),
        description=f"{nightly['description']} Served by deployments/serve.py; run by hand from the "
                    "dashboard with any spec_path.",
        limit=1,
    )
