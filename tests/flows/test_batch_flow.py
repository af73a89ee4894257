"""The whole pipeline under Prefect, end to end, with the tiny random-weight models:
every stage runs for real; the database holds one row per attempt; a second run resumes."""
import re
import threading
import time
from pathlib import Path
from unittest.mock import ANY

import numpy as np
import pytest
import yaml
from PIL import Image

from clipmill.media import probe
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report
from tests.flows.conftest import run_batch

pytestmark = pytest.mark.slow


def spec_file(tmp_path: Path) -> Path:
    photo = tmp_path / "photo.jpg"
    gradient = np.linspace(0, 255, 96 * 128).astype(np.uint8).reshape(96, 128)
    Image.fromarray(np.stack([gradient, gradient[::-1], gradient[:, ::-1]], -1)).save(photo)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    spec = {
        "name": "flow-test",
        "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 2,
                     "max_attempts": 2,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                            "max_seam_ratio": 1000.0, "detect_stride": 4}},
        "jobs": [
            {"id": "t2v", "prompt": "A brown dog runs toward a boy in a park"},
            {"id": "i2v", "prompt": "a colourful gradient poster", "image": "photo.jpg"},
            {"id": "two-seg", "prompt": "A woman walks to a bench, then sits down", "frames": 17, "segments": 2},
            {"id": "gated", "prompt": "a bowl of ramen", "image": "photo.jpg", "qa": {"gate_threshold": 0.99}},
            {"id": "always-fails", "prompt": "a cat jumps", "qa": {"min_motion": 1000.0}},
            {"id": "bad-image", "prompt": "a cup", "image": "broken.png"},
            # Flicker alone fails: the policy first re-deflickers the same frames, then gives up.
            {"id": "flicker-repair", "prompt": "a dog runs", "max_attempts": 1,
             "qa": {"max_flicker": 0.0, "deflicker_strength": 0.5}},
            # Every seam fails: 17 frames split into 1, 2 or 4 segments, never 3, so the retry
            # goes from 2 to 4 segments, and the job's saved plan follows.
            {"id": "seam-split", "prompt": "A woman walks to a bench, then sits down", "frames": 17,
             "segments": 2, "qa": {"max_seam_ratio": 0.0001}},
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_batch_end_to_end_and_resume(harness, tmp_path):
    spec = spec_file(tmp_path)
    run_root = tmp_path / "runs"
    state, result = run_batch(spec, run_root)
    statuses = {k: v["status"] for k, v in result["jobs"].items()}
    assert statuses == {"t2v": "accepted", "i2v": "accepted", "two-seg": "accepted", "gated": "rejected",
                        "always-fails": "failed", "bad-image": "error", "flicker-repair": "failed",
                        "seam-split": "failed"}
    assert state.is_failed() and state.message == "3/8 accepted · 1 rejected · 3 failed QA · 1 error"
    assert_dashboard_shows_how_each_job_ended(state.message)

    # Every accepted clip is H.264 yuv420p with the frame count and fps the job asked for.
    for key, frames in (("t2v", 9), ("i2v", 9), ("two-seg", 17)):
        info = probe(run_root / "flow-test" / "clips" / f"{key}.mp4")
        assert (info.codec, info.pix_fmt, info.frames, info.width, info.height) == ("h264", "yuv420p", frames, 64, 64)
        assert info.fps == pytest.approx(8.0)
        assert (run_root / "flow-test" / "clips" / f"{key}.json").is_file()

    with session_scope(init_db(result["database"])) as session:
        report = batch_report(session, "flow-test")
    jobs = {j["key"]: j for j in report["jobs"]}
    assert [a["status"] for a in jobs["always-fails"]["attempts"]] == ["failed_qa", "failed_qa"]
    seeds = [a["seed"] for a in jobs["always-fails"]["attempts"]]
    assert seeds[0] != seeds[1], "a retry must use a new seed"
    assert "barely moves" in jobs["always-fails"]["reason"]
    assert [a["status"] for a in jobs["gated"]["attempts"]] == ["rejected"]
    assert "below the gate threshold" in jobs["gated"]["reason"]
    assert jobs["bad-image"]["status"] == "error" and "broken.png" in jobs["bad-image"]["reason"]
    repair = jobs["flicker-repair"]["attempts"][0]
    assert [e["action"] for e in repair["events"] if e["kind"] == "retry"] == ["repair", "stop"]
    assert not any(c["stage"] == "retry" for j in jobs.values() for a in j["attempts"] for c in a["checks"])
    # The recorded retry decision is the one the next attempt ran, and the saved plan is its plan.
    split = jobs["seam-split"]["attempts"]
    assert split[0]["events"][0]["details"]["changes"]["segments"] == {"from": 2, "to": 4, "why": ANY}
    assert [a["params"]["segments"] for a in split] == [2, 4]
    assert len(jobs["seam-split"]["plan"]["segment_prompts"]) == 4
    assert any(a["path"].endswith("clip-repair.mp4") for a in jobs["flicker-repair"]["artifacts"])
    gate_checks = [c for c in jobs["i2v"]["attempts"][0]["checks"] if c["stage"] == "gate"]
    assert len(gate_checks) == 1 and gate_checks[0]["passed"]
    assert {a["kind"] for a in jobs["t2v"]["artifacts"]} >= {"clip", "poster", "sidecar", "attempt_clip", "frames"}
    assert all(len(jobs[k]["attempts"]) == 1 for k in ("t2v", "i2v", "two-seg"))
    gallery = (run_root / "flow-test" / "index.html").read_text()
    assert "Random-weight models" in gallery and "clips/t2v.mp4" in gallery

    # Second run: every job has ended, so nothing is generated, gated or checked again.
    attempts_before = report["attempts_total"]
    again_state, again = run_batch(spec, run_root)
    assert all(job["resumed"] for job in again["jobs"].values())
    assert again_state.message == state.message
    with session_scope(init_db(result["database"])) as session:
        assert batch_report(session, "flow-test")["attempts_total"] == attempts_before

    # --retry-failed: failed and errored jobs get a new budget, with seeds never tried before.
    _, retried = run_batch(spec, run_root, retry_failed=True)
    assert retried["jobs"]["t2v"]["resumed"] and retried["jobs"]["gated"]["resumed"]
    with session_scope(init_db(result["database"])) as session:
        jobs2 = {j["key"]: j for j in batch_report(session, "flow-test")["jobs"]}
    assert all(len(jobs2[k]["attempts"]) == 1 for k in ("t2v", "i2v", "two-seg", "gated"))
    fails = jobs2["always-fails"]["attempts"]
    assert [a["number"] for a in fails] == [1, 2, 3, 4]
    assert len({a["seed"] for a in fails}) == 4, "a seed was drawn twice for the same job version"
    assert [a["status"] for a in jobs2["bad-image"]["attempts"]] == ["error", "error"]


def assert_dashboard_shows_how_each_job_ended(batch_message: str) -> None:
    """What the server holds, as the UI shows it: every run of the batch tagged with it, the
    batch named <batch>-<date-time> with the counts as its message, each job subflow named by
    its job and in a state whose type (the colour) and name say how the job ended."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["batch:flow-test"])))
    [batch] = [r for r in runs if r.name.startswith("flow-test-")]
    assert re.fullmatch(r"flow-test-\d{8}-\d{6}", batch.name)
    assert (batch.state.type.value, batch.state.message) == ("FAILED", batch_message)
    jobs = {r.name: (r.state.type.value, r.state.name) for r in runs if r.parent_task_run_id is not None}
    assert jobs == {
        "t2v": ("COMPLETED", "Completed"), "i2v": ("COMPLETED", "Completed"), "two-seg": ("COMPLETED", "Completed"),
        "gated": ("FAILED", "Rejected"), "always-fails": ("FAILED", "QA failed"), "bad-image": ("FAILED", "Bad input"),
        "flicker-repair": ("FAILED", "QA failed"), "seam-split": ("FAILED", "QA failed")}
    gated = next(r for r in runs if r.name == "gated")
    assert "below the gate threshold" in gated.state.message
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="clipmill-flow-test-%")))}
    for job in ("t2v", "i2v", "two-seg"):  # a link to each accepted clip and its poster
        assert artifacts[f"clipmill-flow-test-{job}-clip"].type == "markdown"  # link artifacts are markdown links
        assert artifacts[f"clipmill-flow-test-{job}-clip"].data.endswith(f"clips/{job}.mp4)")
        assert artifacts[f"clipmill-flow-test-{job}-poster"].type == "image"
    assert "clipmill-flow-test-gated-clip" not in artifacts
    assert artifacts["clipmill-flow-test-gallery"].data.endswith("index.html)")
    assert "| too little motion |" in artifacts["clipmill-flow-test-summary"].data


class RecordingLock:
    """Stands for the GPU slot a generation holds (entered on the device's model thread once
    the generation's turn has come): records when it is held and signals each acquisition."""

    def __init__(self, lock) -> None:
        self.lock, self.held, self.acquired = lock, [], threading.Semaphore(0)

    def __enter__(self) -> None:
        self.lock.acquire()
        self._since = time.monotonic()
        self.acquired.release()

    def __exit__(self, *exc) -> None:
        self.held.append((self._since, time.monotonic()))
        self.lock.release()


def test_next_clip_generates_while_the_last_one_is_in_its_cpu_stages(harness, tmp_path, monkeypatch):
    """Two clips in flight: the first clip's deflicker (a CPU stage) waits until another clip
    has the device, which only happens if the batch overlaps them; generations never share it."""
    import clipmill.tasks.clip

    recorder = RecordingLock(threading.Lock())
    monkeypatch.setattr(clipmill.tasks.clip, "gpu_slot", lambda device: recorder)
    real_deflicker, cpu_stage, first = clipmill.tasks.clip.deflicker, [], threading.Lock()

    def deflicker_after_next_generation_starts(frames, **kwargs):
        if first.acquire(blocking=False):  # the first clip to get here
            recorder.acquired.acquire(timeout=60)  # its own generation
            overlapped = recorder.acquired.acquire(timeout=30)  # another clip's, if it can start now
            cpu_stage.append((overlapped, time.monotonic()))
        return real_deflicker(frames, **kwargs)

    monkeypatch.setattr(clipmill.tasks.clip, "deflicker", deflicker_after_next_generation_starts)
    spec = yaml.safe_load(spec_file(tmp_path).read_text())
    spec["name"] = "overlap-test"
    spec["jobs"] = [{"id": f"clip-{n}", "prompt": "A brown dog runs toward a boy in a park", "seed": n}
                    for n in range(3)]
    path = tmp_path / "overlap.yaml"
    path.write_text(yaml.safe_dump(spec))

    _, result = run_batch(path, tmp_path / "runs", clips_in_flight=2)
    assert {job["status"] for job in result["jobs"].values()} == {"accepted"}
    [(overlapped, deflicker_resumed)] = cpu_stage
    assert overlapped, "no other clip could generate while the first one was in its CPU stages"
    held = sorted(recorder.held)
    assert len(held) == 3 and held[1][0] < deflicker_resumed
    for (_, first_end), (second_start, _) in zip(held, held[1:]):
        assert second_start >= first_end, "two generations held the device at once"
