"""Special files named as jobs' images cost their own jobs, at once, never the batch.

Issue #23 item 2: a FIFO named as a job's image made the batch wait forever for a writer when
the job's version hashed it (before any job ran), and a symlink to /dev/zero read forever at
full CPU. The pytest timeout turns a hang into a failure instead of a stuck CI job."""
import os
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from storage.db import init_db, session_scope
from storage.reports import batch_report
from tests.flows.conftest import run_batch

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# The batch's own time once the harness is up: two tiny clips on 2 loaded CPU cores take
# about 20 s; a hang is forever, so this only has to be far below the pytest timeout.
BATCH_SECONDS = 240


def hostile_spec(tmp_path: Path) -> Path:
    photo = tmp_path / "photo.jpg"
    gradient = np.linspace(0, 255, 96 * 128).astype(np.uint8).reshape(96, 128)
    Image.fromarray(np.stack([gradient, gradient[::-1], gradient[:, ::-1]], -1)).save(photo)
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    (tmp_path / "folder.jpg").mkdir()
    spec = {
        "name": "hostile-images",
        "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 2,
                     "max_attempts": 1,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                            "max_seam_ratio": 1000.0, "detect_stride": 4}},
        "jobs": [
            {"id": "good-text", "prompt": "A brown dog runs toward a boy in a park"},
            {"id": "fifo", "prompt": "a cup of tea", "image": "pipe.jpg"},
            {"id": "dev-zero", "prompt": "a cup of tea", "image": "zero.png"},
            {"id": "directory", "prompt": "a cup of tea", "image": "folder.jpg"},
            {"id": "good-image", "prompt": "a colourful gradient poster", "image": "photo.jpg"},
        ],
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_fifo_dev_zero_and_a_directory_as_images_cost_only_their_jobs(harness, tmp_path):
    spec = hostile_spec(tmp_path)
    started = time.monotonic()
    state, summary = run_batch(spec, tmp_path / "runs")
    took = time.monotonic() - started
    assert took < BATCH_SECONDS, f"the batch took {took:.0f} s"

    jobs = summary["jobs"]
    assert {key: job["status"] for key, job in jobs.items()} == {
        "good-text": "accepted", "good-image": "accepted", "fifo": "error", "dev-zero": "error", "directory": "error"}
    expected = {
        "fifo": f"{tmp_path / 'pipe.jpg'}: is a FIFO (named pipe), not a regular file; give a regular image file",
        "dev-zero": f"{tmp_path / 'zero.png'}: is a character device (the symlink leads to /dev/zero), "
                    "not a regular file; give a regular image file",
        "directory": f"{tmp_path / 'folder.jpg'}: is a directory, not a regular file; give a regular image file",
    }
    for key, reason in expected.items():
        assert jobs[key]["reason"] == reason

    # The database says the same, one line each, on the job and on its attempt.
    with session_scope(init_db(summary["database"])) as session:
        report = batch_report(session, "hostile-images")
    recorded = {job["key"]: job for job in report["jobs"]}
    for key, reason in expected.items():
        assert recorded[key]["status"] == "error"
        assert recorded[key]["reason"] == reason
        assert [attempt["error"] for attempt in recorded[key]["attempts"]] == [reason]
        assert "\n" not in reason
