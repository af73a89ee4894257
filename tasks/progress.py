"""A batch's progress where a person looks while it runs: the number on its progress artifact's
card, and done/total in the run's state message (the Details tab, the API).

Prefect's UI draws a progress artifact's card from its key and description, not its value, so
a bare percentage showed only as "PROGRESS"; the description carries the count. The message of
a Running state can be changed by proposing Running again: the server allows RUNNING ->
RUNNING, and refuses it while the run is Cancelling (only Cancelled may follow), so a progress
update never undoes a cancel. Neither may fail a batch: a refused or lost update is skipped.
"""
from __future__ import annotations

from collections.abc import Mapping

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from prefect.states import Running

from clipmill.statuses import JobStatus
from clipmill.tasks.common import artifact_key


def progress_text(outcomes: Mapping[str, object], total: int) -> str:
    """'3/7 jobs done · 2 accepted' from the outcomes so far (JobOutcome-like: .status)."""
    accepted = sum(1 for outcome in outcomes.values() if getattr(outcome, "status", None) == JobStatus.ACCEPTED)
    return f"{len(outcomes)}/{total} jobs done · {accepted} accepted"


class BatchProgress:
    """The progress artifact of one batch run and its run's state message."""

    def __init__(self, batch_name: str, outcomes: Mapping[str, object], total: int):
        self.batch_name, self.total = batch_name, total
        self.artifact_id = create_progress_artifact(
            self._percent(outcomes), key=artifact_key("clipmill", batch_name, "progress"),
            description=f"clipmill batch {batch_name}: {progress_text(outcomes, total)}")
        self._set_message(outcomes)

    def update(self, outcomes: Mapping[str, object]) -> None:
        try:
            update_progress_artifact(self.artifact_id, self._percent(outcomes),
                                     description=f"clipmill batch {self.batch_name}: {progress_text(outcomes, self.total)}")
        except Exception as error:  # a display must not cost the batch
            get_run_logger().warning("progress artifact not updated: %s", error)
        self._set_message(outcomes)

    def _percent(self, outcomes: Mapping[str, object]) -> float:
        return 100.0 * len(outcomes) / self.total if self.total else 100.0

    def _set_message(self, outcomes: Mapping[str, object]) -> None:
        run_id = flow_run.get_id()
        if run_id is None:
            return
        try:
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(run_id, Running(message=progress_text(outcomes, self.total)))
        except Exception as error:
            get_run_logger().warning("run's progress message not updated: %s", error)
