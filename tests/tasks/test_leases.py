"""A lease holder on another host is judged by what Prefect knows: its flow run marked Crashed
(by the worker that ran it) is proof that it is dead; a running or unknown one is not."""
import uuid

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Crashed, Running

from clipmill.storage.leases import flow_run_of
from clipmill.tasks.leases import holder_is_dead, this_runs_worker_id


@flow
def _some_batch() -> None:
    pass


def _flow_run(state) -> str:
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(_some_batch)
        client.set_flow_run_state(run.id, state, force=True)
        return str(run.id)


def _elsewhere(run_id: str) -> str:
    # A worker id of another host: its process cannot be looked at from here.
    return f"gpu-box-7:4242:123456:4026531836:0badcafe:{run_id}"


def test_a_holder_whose_flow_run_crashed_is_dead_and_a_running_one_is_not(harness):
    assert holder_is_dead(_elsewhere(_flow_run(Crashed(message="worker process exited with -9"))))
    assert not holder_is_dead(_elsewhere(_flow_run(Running())))
    assert not holder_is_dead(_elsewhere(str(uuid.uuid4())))  # no such run on this server: nothing proven
    assert not holder_is_dead("gpu-box-7:4242:123456:4026531836:0badcafe")  # no flow run named


@flow
def _clip() -> str:
    return this_runs_worker_id()


@flow
def _batch() -> tuple[str, str]:
    from prefect.runtime import flow_run

    return str(flow_run.get_id()), _clip()


def test_a_clip_lease_names_its_batch_run_the_one_a_worker_marks_crashed(harness):
    batch_run, worker = _batch()
    assert flow_run_of(worker) == batch_run
    assert not holder_is_dead(worker)  # this very process, its batch run completed, not crashed
