"""Job leases: one run at a time makes a job, on SQLite and PostgreSQL, across real processes."""
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from clipmill.storage import repository as repo
from clipmill.storage.db import session_scope
from clipmill.storage.leases import (
    JobLease,
    claim,
    holder,
    live_holders,
    new_worker_id,
    process_is_gone,
    release,
    release_dead_claims,
)
from clipmill.storage.schema import Batch, Job

REPO = Path(__file__).resolve().parents[2]


def _jobs(engine, count: int) -> list[int]:
    with session_scope(engine) as session:
        batch = Batch(name="b", spec_path="s", spec_sha256="0", run_dir="r")
        session.add(batch)
        session.flush()
        return [repo.upsert_job(session, batch, key=f"j{i}", prompt="p", model="tiny", params={}).id
                for i in range(count)]


def test_a_live_lease_keeps_others_out_until_it_expires_or_is_released(engine):
    [job] = _jobs(engine, 1)
    with session_scope(engine) as session:
        assert claim(session, job, "a", lease_s=60) and not claim(session, job, "b", lease_s=60)
        assert holder(session, job) == "a"
        release(session, job, "b")  # only the holder can release
        assert holder(session, job) == "a"
        assert claim(session, job, "a", lease_s=0.2)  # renewing shortens it here
    time.sleep(0.4)
    with session_scope(engine) as session:
        assert holder(session, job) is None and claim(session, job, "b", lease_s=60)


def test_the_heartbeat_keeps_a_lease_alive_through_a_long_generation(engine, db_url):
    [job] = _jobs(engine, 1)
    with JobLease(db_url, job, lease_s=0.6) as first:
        time.sleep(1.5)  # more than twice the lease: only the heartbeat keeps it
        with JobLease(db_url, job, lease_s=0.6) as second:
            assert first.held and not second.held and second.owner == first.worker
        assert first.still_held()
    with JobLease(db_url, job, lease_s=0.6) as third:
        assert third.held  # released on exit


def test_a_step_past_its_deadline_stops_the_heartbeat_until_it_leaves(engine, db_url):
    """A fake generation hung in a thread: past its deadline the lease is no longer renewed,
    runs out, and another run takes the job; the hung step's run has lost it for good."""
    import threading

    [job] = _jobs(engine, 1)
    hung, stuck = threading.Event(), threading.Event()
    with JobLease(db_url, job, lease_s=0.6) as first:

        def hung_generation() -> None:
            with first.working_until(time.monotonic() + 0.3):
                stuck.set()
                hung.wait(30)

        generation = threading.Thread(target=hung_generation)
        generation.start()
        try:
            assert stuck.wait(10)
            time.sleep(0.1)
            with JobLease(db_url, job, lease_s=30) as early:
                assert not early.held  # within the deadline it is renewed
            assert first.overrun_s() == 0.0
            time.sleep(0.3 + 0.6 + 0.4)  # past the deadline, then past the lease
            assert first.overrun_s() > 0.6
            with JobLease(db_url, job, lease_s=30) as second:
                assert second.held
        finally:
            hung.set()
            generation.join()
        assert first.overrun_s() == 0.0 and not first.still_held()


def test_two_processes_never_claim_the_same_job(engine, db_url, tmp_path):
    jobs = _jobs(engine, 40)
    start = tmp_path / "go"
    script = textwrap.dedent(f"""
        import json, sys, time
        from pathlib import Path
        from clipmill.storage.db import init_db, session_scope
        from clipmill.storage.leases import claim
        while not Path({str(start)!r}).exists():
            time.sleep(0.01)
        won = []
        for job in {jobs!r}:
            with session_scope(init_db({db_url!r})) as session:
                if claim(session, job, sys.argv[1], lease_s=600):
                    won.append(job)
        print(json.dumps(won))
    """)
    workers = [subprocess.Popen([sys.executable, "-c", script, name], cwd=REPO, stdout=subprocess.PIPE, text=True)
               for name in ("worker-a", "worker-b")]
    time.sleep(1.0)
    start.touch()
    won = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]
    assert not set(won[0]) & set(won[1]), "a job was claimed by both processes"
    assert sorted(won[0] + won[1]) == sorted(jobs)


def _dead_worker_id() -> str:
    """The worker id of a process of this host that has since exited."""
    done = subprocess.run([sys.executable, "-c", "from clipmill.storage.leases import new_worker_id; print(new_worker_id())"],
                          cwd=REPO, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def test_a_lease_whose_holder_process_is_gone_is_taken_over_at_once(engine):
    [job] = _jobs(engine, 1)
    dead = _dead_worker_id()
    with session_scope(engine) as session:
        assert claim(session, job, dead, lease_s=600)
    with session_scope(engine) as session:  # ten minutes of lease left, and yet
        assert claim(session, job, "next-run", lease_s=60) and holder(session, job) == "next-run"


def test_a_live_holder_or_one_that_cannot_be_judged_keeps_its_lease(engine):
    jobs = _jobs(engine, 4)
    me = new_worker_id()
    host, pid, start, namespace, tail = me.split(":")
    kept = [me,  # alive: this very process
            f"{host}-elsewhere:{pid}:{int(start) + 1}:{namespace}:{tail}",  # another host: its pids are not ours
            f"{host}:{pid}:{int(start) + 1}:{int(namespace) + 1}:{tail}",  # another container's pid namespace
            f"{host}:999999:{tail}"]  # an id from before ids named their process
    for job, worker in zip(jobs, kept):
        with session_scope(engine) as session:
            assert claim(session, job, worker, lease_s=600)
        with session_scope(engine) as session:
            assert not claim(session, job, "next-run", lease_s=60), worker
            assert holder(session, job) == worker


def test_a_reused_pid_is_not_taken_for_the_holder():
    me = new_worker_id()
    host, pid, start, namespace, tail = me.split(":")
    assert not process_is_gone(me)
    # The same pid, started at another time: the kernel gave the holder's pid to a new process.
    assert process_is_gone(f"{host}:{pid}:{int(start) - 1}:{namespace}:{tail}")
    assert process_is_gone(_dead_worker_id())


def test_a_batch_opened_again_releases_only_the_dead_holders_leases(engine):
    jobs = _jobs(engine, 2)
    dead, alive = _dead_worker_id(), new_worker_id()
    with session_scope(engine) as session:
        assert claim(session, jobs[0], dead, lease_s=600) and claim(session, jobs[1], alive, lease_s=600)
        batch_id = session.get(Job, jobs[0]).batch_id
        assert live_holders(session, "b") == {dead, alive}
    with session_scope(engine) as session:
        assert release_dead_claims(session, batch_id) == ["j0"]
        assert holder(session, jobs[0]) is None and holder(session, jobs[1]) == alive
