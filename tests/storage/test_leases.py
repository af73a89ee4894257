"""Job leases: one run at a time makes a job, on SQLite and PostgreSQL, across real processes."""
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from storage import repository as repo
from storage.db import session_scope
from storage.leases import JobLease, claim, holder, release
from storage.schema import Batch

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


def test_two_processes_never_claim_the_same_job(engine, db_url, tmp_path):
    jobs = _jobs(engine, 40)
    start = tmp_path / "go"
    script = textwrap.dedent(f"""
        import json, sys, time
        from pathlib import Path
        from storage.db import init_db, session_scope
        from storage.leases import claim
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
