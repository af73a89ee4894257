"""The record tasks on their own (called as plain functions): a batch reopened with a changed
job starts that job afresh, a job's lease holder recovers what a killed run left of it. A
lease holder on another host is judged by what Prefect knows: its flow run marked Crashed (by
the worker that ran it) is proof that it is dead; a running or unknown one is not."""
import uuid

import pytest
import yaml
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import Crashed, Running

from clipmill.spec import load_spec
from clipmill.storage import repository as repo
from clipmill.storage.config import RunConfig
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.leases import flow_run_of
from clipmill.storage.schema import Job
from clipmill.tasks.records import holder_is_dead, open_batch, open_job, resume_job, this_runs_worker_id


def _spec(tmp_path, prompt):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"name": "rec", "jobs": [{"id": "a", "prompt": prompt}, {"id": "b", "prompt": "x"}]}))
    return load_spec(path)


def test_reopening_a_batch_restarts_only_the_changed_job(tmp_path):
    config = RunConfig.resolve(tmp_path / "runs", f"sqlite:///{tmp_path / 'db.sqlite'}")
    opened = open_batch.fn(config, _spec(tmp_path, "a dog runs"))
    with session_scope(init_db(config.db_url)) as session:
        for job in session.query(Job).all():
            repo.set_job_status(session, job, "failed", reason="budget spent")
    assert open_batch.fn(config, _spec(tmp_path, "a dog runs")).ended == {"a": "failed", "b": "failed"}
    again = open_batch.fn(config, _spec(tmp_path, "a cat runs"))  # job a changed: a new version
    assert again.batch_id == opened.batch_id and again.ended == {"b": "failed"}


def test_resume_closes_a_killed_runs_attempt_and_removes_its_temporary_files(tmp_path):
    config = RunConfig.resolve(tmp_path / "runs", f"sqlite:///{tmp_path / 'db.sqlite'}")
    spec = _spec(tmp_path, "a dog runs")
    opened = open_batch.fn(config, spec)
    job_id = open_job.fn(config, opened.batch_id, spec.jobs[0])
    with session_scope(init_db(config.db_url)) as session:
        repo.start_attempt(session, session.get(Job, job_id), seed=4, params={"seed": 4})  # then killed
    leftover = config.paths("rec").attempt_dir("a", 1) / ".clip.x1y2.tmp.mp4"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half an mp4")
    history = resume_job.fn(config, job_id)
    assert (history.spent, history.tried_seeds, history.status) == (1, frozenset({4}), "interrupted")
    assert not leftover.exists()


def test_a_jobs_outcome_can_be_read_back_from_the_database(tmp_path):
    """What the batch uses when Prefect hands a clip flow's state back without its data."""
    from clipmill.tasks.records import read_outcome

    config = RunConfig.resolve(tmp_path / "runs", f"sqlite:///{tmp_path / 'db.sqlite'}")
    opened = open_batch.fn(config, _spec(tmp_path, "a dog runs"))
    with session_scope(init_db(config.db_url)) as session:
        job = session.query(Job).filter_by(key="a").one()
        attempt = repo.start_attempt(session, job, seed=0, params={})
        clip = tmp_path / "a.mp4"
        clip.write_bytes(b"mp4")
        repo.record_artifact(session, job=job, kind="clip", path=clip)
        repo.set_job_status(session, job, "accepted", accepted_attempt=attempt)
    outcome = read_outcome.fn(config, opened.batch_id, "a")
    assert (outcome.status, outcome.attempts, outcome.clip) == ("accepted", 1, str(clip.resolve()))
    assert read_outcome.fn(config, opened.batch_id, "b").status == "pending"


def test_an_attempts_scratch_frame_arrays_are_sized_not_hashed_and_its_clip_is_hashed(tmp_path):
    from clipmill.qa.retry import AttemptParams
    from clipmill.storage.files import sha256_file
    from clipmill.storage.schema import Artifact
    from clipmill.tasks.records import SCRATCH_FRAME_KINDS, begin_attempt, finish_attempt

    config = RunConfig.resolve(tmp_path / "runs", f"sqlite:///{tmp_path / 'db.sqlite'}")
    spec = _spec(tmp_path, "a dog runs")
    job_id = open_job.fn(config, open_batch.fn(config, spec).batch_id, spec.jobs[0])
    record = begin_attempt.fn(config, job_id, AttemptParams(seed=1, guidance=5.0, segments=1,
                                                            deflicker_strength=1.0, steps=2))
    files = {kind: tmp_path / f"{kind}.bin" for kind in ("segment", "frames", "attempt_clip")}
    for kind, path in files.items():
        path.write_bytes(kind.encode() * 100)
        record.artifacts.append((kind, str(path)))
    finish_attempt.fn(config, record, "failed_qa")
    with session_scope(init_db(config.db_url)) as session:
        rows = {a.kind: (a.bytes, a.sha256) for a in session.query(Artifact).all()}
    assert SCRATCH_FRAME_KINDS == {"segment", "frames"}
    assert rows == {kind: (path.stat().st_size, None if kind in SCRATCH_FRAME_KINDS else sha256_file(path))
                    for kind, path in files.items()}


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


@pytest.mark.slow  # on the session's real Prefect server, which costs 16-20 s to start
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


@pytest.mark.slow  # on the session's real Prefect server, which costs 16-20 s to start
def test_a_clip_lease_names_its_batch_run_the_one_a_worker_marks_crashed(harness):
    batch_run, worker = _batch()
    assert flow_run_of(worker) == batch_run
    assert not holder_is_dead(worker)  # this very process, its batch run completed, not crashed
