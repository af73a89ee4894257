from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clipmill.qa.types import Check, CheckKind
from clipmill.statuses import AttemptEventKind
from clipmill.storage import reports
from clipmill.storage import repository as repo
from clipmill.storage.db import session_scope
from clipmill.storage.files import atomic_write_bytes, sha256_file
from clipmill.storage.schema import Attempt, Batch, Job

SPEC = {"spec_path": "deployments/spec.yaml", "spec_sha256": "a" * 64, "run_dir": "runs/demo"}
PARAMS = {"size": [832, 480], "frames": 81, "fps": 16, "segments": 1, "attempts": 3}


def _new_batch(session, name="demo", **spec):
    return repo.get_or_create_batch(session, name=name, **{**SPEC, **spec})


def _new_job(session, batch, key="dog-park", prompt="a dog catches a frisbee"):
    return repo.upsert_job(session, batch, key=key, prompt=prompt, model="Wan2.2-TI2V-5B", params=PARAMS)


def test_full_life_cycle_and_report(engine, tmp_path):
    clip = atomic_write_bytes(tmp_path / "runs" / "demo" / "dog-park" / "a3.mp4", b"\x00mp4 bytes")
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = _new_job(session, batch)
        repo.record_artifact(session, job=job, kind="input_image", path="https://example.com/dog.png")

        first = repo.start_attempt(session, job, seed=11, params={**PARAMS, "guidance": 5.0}, device="cuda:0")
        repo.record_checks(session, first, [
            Check("interaction", CheckKind.INTERACTION, 0.1, 0.5, False, "dog never reaches the frisbee", subject="contact"),
            Check("temporal", CheckKind.FLICKER, 0.02, 0.05, True, "flicker 0.02 under 0.05"),
        ])
        repo.finish_attempt(session, first, status="failed_qa", timings={"generate": 61.5, "qa": 2})

        second = repo.start_attempt(session, job, seed=12, params=PARAMS, device="cuda:0")
        repo.finish_attempt(session, second, status="error", error="CUDA out of memory")

        third = repo.start_attempt(session, job, seed=13, params={**PARAMS, "guidance": 6.0}, device="cuda:1")
        repo.record_checks(session, third, [Check("interaction", CheckKind.INTERACTION, 0.9, 0.5, True, "contact at frame 40", subject="contact")])
        repo.record_artifact(session, job=job, attempt=third, kind="clip", path=clip)
        repo.finish_attempt(session, third, status="accepted", timings={"generate": 60.0})
        repo.set_job_status(session, job, "accepted", reason=None, accepted_attempt=third)

        other = _new_job(session, batch, key="cat-sofa", prompt="a cat jumps onto a sofa")
        repo.set_job_status(session, other, "rejected", reason="input gate: CLIP 0.12 < 0.20")
        repo.finish_batch(session, batch)

    with session_scope(engine) as session:
        report = reports.batch_report(session, "demo")
    json.dumps(report, allow_nan=False)  # the CLI prints it and the gallery embeds it

    assert report["name"] == "demo" and report["status"] == "finished"
    assert report["finished_at"] is not None and report["spec_sha256"] == "a" * 64
    assert report["jobs_total"] == 2 and report["attempts_total"] == 3
    assert report["counts"] == {"pending": 0, "running": 0, "accepted": 1, "failed": 0, "rejected": 1, "error": 0,
                                "interrupted": 0, "cancelled": 0}
    assert report["yield"] == 0.5

    dog, cat = report["jobs"]
    assert (dog["key"], dog["status"], dog["accepted_attempt"]) == ("dog-park", "accepted", 3)
    assert (cat["key"], cat["status"], cat["reason"]) == ("cat-sofa", "rejected", "input gate: CLIP 0.12 < 0.20")
    assert cat["attempts"] == [] and cat["prompt"] == "a cat jumps onto a sofa"

    assert [(a["number"], a["seed"], a["status"]) for a in dog["attempts"]] == [
        (1, 11, "failed_qa"), (2, 12, "error"), (3, 13, "accepted"),
    ]
    failed, errored, accepted = dog["attempts"]
    assert failed["timings"] == {"generate": 61.5, "qa": 2.0}
    assert failed["params"]["guidance"] == 5.0 and failed["device"] == "cuda:0"
    assert failed["checks"][0] == {
        "stage": "interaction", "kind": "interaction", "subject": "contact", "metric": "interaction:contact",
        "value": 0.1, "threshold": 0.5, "passed": False, "reason": "dog never reaches the frisbee",
    }
    assert failed["checks"][1]["subject"] is None and failed["checks"][1]["metric"] == "flicker"
    assert [c["passed"] for c in failed["checks"]] == [False, True]
    assert errored["error"] == "CUDA out of memory" and errored["checks"] == []
    assert accepted["finished_at"] >= accepted["started_at"]

    url_artifact, clip_artifact = dog["artifacts"]
    assert url_artifact == {
        "kind": "input_image", "path": "https://example.com/dog.png", "bytes": None, "sha256": None,
        "attempt": None, "created_at": url_artifact["created_at"],
    }
    assert clip_artifact["kind"] == "clip" and clip_artifact["attempt"] == 3
    assert clip_artifact["path"] == str(clip.resolve())
    assert clip_artifact["bytes"] == len(b"\x00mp4 bytes") and clip_artifact["sha256"] == sha256_file(clip)


def test_attempt_numbers_continue_when_the_same_batch_runs_again(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = _new_job(session, batch)
        for seed in (1, 2):
            attempt = repo.start_attempt(session, job, seed=seed, params=PARAMS)
            repo.finish_attempt(session, attempt, status="failed_qa")
        repo.set_job_status(session, job, "failed", reason="budget spent")
        repo.finish_batch(session, batch, status="failed")
        first_id = batch.id

    # A second run of the same spec: new session, same name, possibly an edited spec.
    with session_scope(engine) as session:
        batch = _new_batch(session, spec_sha256="b" * 64, run_dir="runs/demo-2")
        assert batch.id == first_id
        assert (batch.status, batch.finished_at, batch.spec_sha256, batch.run_dir) == (
            "running", None, "b" * 64, "runs/demo-2",
        )
        job = repo.upsert_job(session, batch, key="dog-park", prompt="a dog leaps for a frisbee",
                              model="Wan2.2-TI2V-5B", params={**PARAMS, "attempts": 5})
        assert job.status == "failed" and len(job.attempts) == 2  # history kept
        assert job.prompt == "a dog leaps for a frisbee" and job.params["attempts"] == 5
        attempt = repo.start_attempt(session, job, seed=3, params=PARAMS)
        assert attempt.number == 3
        assert (job.status, job.reason) == ("running", None)

    with session_scope(engine) as session:
        assert len(session.scalars(select(Batch)).all()) == 1
        assert session.scalars(select(Attempt.number).order_by(Attempt.number)).all() == [1, 2, 3]


def test_ended_jobs_lists_only_ended_jobs_of_that_batch(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        other_batch = _new_batch(session, name="other")
        for key, status in [("a", "accepted"), ("b", "failed"), ("c", "accepted"), ("d", "pending"),
                            ("f", "rejected"), ("g", "error"), ("h", "interrupted"), ("i", "running")]:
            job = _new_job(session, batch, key=key)
            if status == "accepted":
                attempt = repo.start_attempt(session, job, seed=0, params=PARAMS)
                repo.set_job_status(session, job, "accepted", accepted_attempt=attempt)
            else:
                repo.set_job_status(session, job, status)
        elsewhere = _new_job(session, other_batch, key="e")
        repo.set_job_status(session, elsewhere, "accepted",
                            accepted_attempt=repo.start_attempt(session, elsewhere, seed=0, params=PARAMS))
        assert repo.ended_jobs(session, batch) == {"a": "accepted", "b": "failed", "c": "accepted",
                                                   "f": "rejected", "g": "error"}
        assert repo.ended_jobs(session, other_batch) == {"e": "accepted"}


def test_upsert_keeps_an_existing_plan_and_set_plan_replaces_it(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={})
        repo.set_job_plan(session, job, {"segments": ["walk"]})
        again = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={})
        assert again is job and job.plan == {"segments": ["walk"]}
        repo.set_job_plan(session, job, {"segments": ["run"]})
        assert job.plan == {"segments": ["run"]}


def _finished(session, job, *seeds, status="failed_qa"):
    for seed in seeds:
        repo.finish_attempt(session, repo.start_attempt(session, job, seed=seed, params={"seed": seed}), status=status)


def test_a_new_version_starts_the_job_afresh_and_keeps_the_old_attempts(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1")
        _finished(session, job, 1, 2)
        repo.set_job_status(session, job, "failed", reason="budget spent")
        same = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1")
        assert same.status == "failed" and repo.job_history(session, job).spent == 2
        repo.upsert_job(session, batch, key="k", prompt="p2", model="m", params={}, version="v2")
        history = repo.job_history(session, job)
        assert job.status == "pending" and (history.spent, history.tried_seeds, history.last_params) == (0, frozenset(), None)
        _finished(session, job, 3)
        assert [a.job_version for a in job.attempts] == ["v1", "v1", "v2"]
        assert [a.number for a in job.attempts] == [1, 2, 3]


def test_retry_failed_gives_a_new_budget_but_remembers_every_seed(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1")
        _finished(session, job, 7, 8, 9)
        repo.set_job_status(session, job, "failed", reason="budget spent")
        repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1", retry_failed=True)
        history = repo.job_history(session, job)
        assert job.status == "pending" and history.spent == 0
        assert history.tried_seeds == {7, 8, 9} and history.last_params == {"seed": 9}
        _finished(session, job, 10)
        assert repo.job_history(session, job).spent == 1


def test_retry_failed_leaves_accepted_and_rejected_jobs_alone(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1")
        repo.set_job_status(session, job, "rejected", reason="input gate")
        repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1", retry_failed=True)
        assert job.status == "rejected"


def test_abandoned_attempts_and_their_jobs_become_interrupted(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = repo.upsert_job(session, batch, key="k", prompt="p", model="m", params={}, version="v1")
        attempt = repo.start_attempt(session, job, seed=5, params={})
        assert repo.abandon_running_attempts(session, batch) == 1
        assert (attempt.status, job.status) == ("interrupted", "interrupted")
        assert attempt.finished_at is not None and repo.job_history(session, job).spent == 1


@dataclass(frozen=True)
class _Event:  # storage takes any object with an event's fields (clipmill.bookkeeping.AttemptEvent in the pipeline)
    kind: str
    action: str
    reason: str
    details: dict = field(default_factory=dict)


def test_events_are_recorded_apart_from_checks(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = _new_job(session, batch)
        attempt = repo.start_attempt(session, job, seed=5, params={})
        repo.record_events(session, attempt, [_Event(AttemptEventKind.RETRY, "regenerate", "new seed",
                                                     {"seed": {"from": 5, "to": 6}})])
        repo.finish_attempt(session, attempt, status="failed_qa")
        reported = reports.batch_report(session, "demo")["jobs"][0]["attempts"][0]
        assert reported["checks"] == []
        assert reported["events"] == [{"kind": "retry", "action": "regenerate", "reason": "new seed",
                                       "details": {"seed": {"from": 5, "to": 6}}}]
        with pytest.raises(ValueError, match="unknown attempt event status"):
            repo.record_events(session, attempt, [_Event("qa", "x", "y")])


@pytest.mark.parametrize(
    "make_duplicate",
    [
        pytest.param(lambda s, b, j: s.add(Batch(name="demo", spec_path="x", spec_sha256="x", run_dir="x")),
                     id="batch-name"),
        pytest.param(lambda s, b, j: s.add(Job(batch=b, key=j.key, prompt="p", model="m", params={})),
                     id="job-key-per-batch"),
        pytest.param(lambda s, b, j: s.add(Attempt(job=j, number=1, seed=0, params={})),
                     id="attempt-number-per-job"),
    ],
)
def test_unique_constraints(engine, make_duplicate):
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            batch = _new_batch(session)
            job = _new_job(session, batch)
            repo.start_attempt(session, job, seed=0, params=PARAMS)
            make_duplicate(session, batch, job)
            session.flush()


def test_same_job_key_is_allowed_in_another_batch(engine):
    with session_scope(engine) as session:
        first = _new_job(session, _new_batch(session, name="one"), key="shared")
        second = _new_job(session, _new_batch(session, name="two"), key="shared")
        assert first.id != second.id


def test_database_refuses_an_unknown_status(engine):
    with pytest.raises(IntegrityError, match="ck_jobs_status"):
        with session_scope(engine) as session:
            job = _new_job(session, _new_batch(session))
            job.status = "done"  # bypasses the repository's check on purpose
            session.flush()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s, j, a: repo.set_job_status(s, j, "done"), id="job"),
        pytest.param(lambda s, j, a: repo.finish_attempt(s, a, status="passed"), id="attempt"),
        pytest.param(lambda s, j, a: repo.finish_attempt(s, a, status="running"), id="attempt-still-running"),
        pytest.param(lambda s, j, a: repo.finish_batch(s, j.batch, status="done"), id="batch"),
        pytest.param(lambda s, j, a: repo.set_job_status(s, j, "accepted"), id="accepted-without-attempt"),
        pytest.param(lambda s, j, a: repo.set_job_status(s, j, "failed", accepted_attempt=a),
                     id="attempt-without-accepted"),
    ],
)
def test_repository_refuses_inconsistent_status(engine, call):
    with session_scope(engine) as session:
        job = _new_job(session, _new_batch(session))
        attempt = repo.start_attempt(session, job, seed=0, params=PARAMS)
        with pytest.raises(ValueError):
            call(session, job, attempt)


def test_attempts_of_another_job_are_refused(engine, tmp_path):
    clip = atomic_write_bytes(tmp_path / "c.mp4", b"x")
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job, other = _new_job(session, batch, key="a"), _new_job(session, batch, key="b")
        foreign = repo.start_attempt(session, other, seed=0, params=PARAMS)
        with pytest.raises(ValueError, match="not 'a'"):
            repo.record_artifact(session, job=job, attempt=foreign, kind="clip", path=clip)
        with pytest.raises(ValueError, match="does not belong to job 'a'"):
            repo.set_job_status(session, job, "accepted", accepted_attempt=foreign)


def test_record_artifact_hashes_the_file_on_disk(engine, tmp_path):
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one of sha256_file's 1 MiB chunks
    poster = atomic_write_bytes(tmp_path / "poster.png", data)
    with session_scope(engine) as session:
        job = _new_job(session, _new_batch(session))
        artifact = repo.record_artifact(session, job=job, kind="poster", path=poster)
        assert artifact.sha256 == hashlib.sha256(data).hexdigest()
        assert artifact.bytes == len(data)

        unhashed = repo.record_artifact(session, job=job, kind="frames", path=poster, compute_hash=False)
        assert (unhashed.bytes, unhashed.sha256) == (len(data), None)

        with pytest.raises(FileNotFoundError):
            repo.record_artifact(session, job=job, kind="clip", path=tmp_path / "missing.mp4")


def test_record_artifact_stores_local_paths_absolute(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    atomic_write_bytes(tmp_path / "seg" / "s1.mp4", b"seg")
    with session_scope(engine) as session:
        job = _new_job(session, _new_batch(session))
        artifact = repo.record_artifact(session, job=job, kind="segment", path="seg/s1.mp4")
        assert artifact.path == str(tmp_path / "seg" / "s1.mp4")


def test_non_finite_check_values_are_stored_as_null(engine):
    with session_scope(engine) as session:
        job = _new_job(session, _new_batch(session))
        attempt = repo.start_attempt(session, job, seed=0, params=PARAMS)
        repo.record_checks(session, attempt, [
            Check("temporal", CheckKind.FLICKER, math.nan, 0.05, False, "too few frames to measure flicker"),
            Check("gate", CheckKind.GATE, math.inf, None, True, "informational"),
        ])
    with session_scope(engine) as session:
        checks = reports.batch_report(session, "demo")["jobs"][0]["attempts"][0]["checks"]
    assert [(c["value"], c["threshold"]) for c in checks] == [(None, 0.05), (None, None)]


def test_abandon_running_attempts_closes_leftovers_of_a_crashed_run(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        job = _new_job(session, batch)
        done = repo.start_attempt(session, job, seed=0, params=PARAMS)
        repo.finish_attempt(session, done, status="failed_qa")
        repo.start_attempt(session, job, seed=1, params=PARAMS)  # the worker died here
    with session_scope(engine) as session:
        batch = _new_batch(session)
        assert repo.abandon_running_attempts(session, batch) == 1
        statuses = session.execute(select(Attempt.number, Attempt.status, Attempt.error).order_by(Attempt.number)).all()
    # Interrupted, not an error: the job did nothing wrong, and the next run resumes it.
    assert [tuple(row[:2]) for row in statuses] == [(1, "failed_qa"), (2, "interrupted")]
    assert statuses[1].error.startswith("interrupted")


def test_report_of_an_unknown_batch_names_it(engine):
    with session_scope(engine) as session:
        _new_batch(session, name="real")
        with pytest.raises(LookupError, match="'no-such-batch'"):
            reports.batch_report(session, "no-such-batch")
        with pytest.raises(LookupError, match="42"):
            reports.batch_report(session, 42)


def test_report_finds_a_batch_by_id_or_numeric_string(engine):
    with session_scope(engine) as session:
        batch = _new_batch(session)
        _new_batch(session, name="2024")  # a numeric name wins over the id it looks like
        assert reports.batch_report(session, batch.id)["name"] == "demo"
        assert reports.batch_report(session, str(batch.id))["name"] == "demo"
        assert reports.batch_report(session, "2024")["name"] == "2024"


def test_empty_batch_report_has_no_yield(engine):
    with session_scope(engine) as session:
        _new_batch(session)
        report = reports.batch_report(session, "demo")
    assert (report["jobs_total"], report["yield"], report["jobs"]) == (0, None, [])


def test_list_batches_newest_first_with_counts(engine):
    with session_scope(engine) as session:
        old = _new_batch(session, name="old")
        for key in ("a", "b"):
            job = _new_job(session, old, key=key)
        repo.set_job_status(session, job, "accepted",
                            accepted_attempt=repo.start_attempt(session, job, seed=0, params=PARAMS))
        _new_batch(session, name="new")
    with session_scope(engine) as session:
        listed = reports.list_batches(session)
    json.dumps(listed)
    assert [(b["name"], b["jobs_total"], b["accepted"]) for b in listed] == [("new", 0, 0), ("old", 2, 1)]
