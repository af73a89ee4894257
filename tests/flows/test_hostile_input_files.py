"""Hostile inputs in one batch beside good jobs (issue #23, items 2 and 9).

Item 2: special files named as jobs' images cost their own jobs, at once, never the batch. A
FIFO named as a job's image made the batch wait forever for a writer when the job's version
hashed it (before any job ran), and a symlink to /dev/zero read forever at full CPU. The pytest
timeout turns a hang into a failure instead of a stuck CI job.

Item 9: a 100,000-character prompt is cut by the text encoders; the cut is recorded in the
job's sidecar, its record, the report and the run's summary, not only said on the console.

One batch serves both (a module fixture): each batch run costs tens of seconds of CPU."""
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from clipmill.report import render_markdown_summary
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report
from tests.flows.conftest import run_batch

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# The batch's own time once the harness is up: three tiny clips on 2 loaded CPU cores take
# well under a minute; a hang is forever, so this only has to be far below the pytest timeout.
BATCH_SECONDS = 300
LONG_PROMPT_CHARACTERS = 100_000


def long_prompt() -> str:
    """Varied English, as a pasted article would be: the planner keeps it, so every encoder cuts it."""
    words = ("a dog runs across the park toward a boy who throws a red ball while a woman walks her bike "
             "past old trees in warm evening light and the camera slowly pans to follow them").split()
    chooser = random.Random(23)
    text = ""
    while len(text) < LONG_PROMPT_CHARACTERS:
        text += chooser.choice(words) + " "
    return text[:LONG_PROMPT_CHARACTERS - 1] + "."


def hostile_spec(folder: Path) -> Path:
    photo = folder / "photo.jpg"
    gradient = np.linspace(0, 255, 96 * 128).astype(np.uint8).reshape(96, 128)
    Image.fromarray(np.stack([gradient, gradient[::-1], gradient[:, ::-1]], -1)).save(photo)
    os.mkfifo(folder / "pipe.jpg")
    (folder / "zero.png").symlink_to("/dev/zero")
    (folder / "folder.jpg").mkdir()
    spec = {
        "name": "hostile-inputs",
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
            {"id": "long-prompt", "prompt": long_prompt()},
        ],
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def hostile_batch(harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    spec = hostile_spec(folder)
    started = time.monotonic()
    state, summary = run_batch(spec, folder / "runs")
    with session_scope(init_db(summary["database"])) as session:
        report = batch_report(session, "hostile-inputs")
    return {"folder": folder, "state": state, "summary": summary, "report": report,
            "seconds": time.monotonic() - started}


def test_a_fifo_dev_zero_and_a_directory_as_images_cost_only_their_jobs(hostile_batch):
    folder, summary = hostile_batch["folder"], hostile_batch["summary"]
    assert hostile_batch["seconds"] < BATCH_SECONDS, f"the batch took {hostile_batch['seconds']:.0f} s"

    jobs = summary["jobs"]
    assert {key: job["status"] for key, job in jobs.items()} == {
        "good-text": "accepted", "good-image": "accepted", "long-prompt": "accepted",
        "fifo": "error", "dev-zero": "error", "directory": "error"}
    expected = {
        "fifo": f"{folder / 'pipe.jpg'}: is a FIFO (named pipe), not a regular file; give a regular image file",
        "dev-zero": f"{folder / 'zero.png'}: is a character device (the symlink leads to /dev/zero), "
                    "not a regular file; give a regular image file",
        "directory": f"{folder / 'folder.jpg'}: is a directory, not a regular file; give a regular image file",
    }
    for key, reason in expected.items():
        assert jobs[key]["reason"] == reason

    # The database says the same, one line each, on the job and on its attempt.
    recorded = {job["key"]: job for job in hostile_batch["report"]["jobs"]}
    for key, reason in expected.items():
        assert recorded[key]["status"] == "error"
        assert recorded[key]["reason"] == reason
        assert [attempt["error"] for attempt in recorded[key]["attempts"]] == [reason]
        assert "\n" not in reason


def test_a_prompt_the_encoders_cut_is_recorded_in_the_sidecar_the_report_and_the_summary(hostile_batch):
    folder, summary, report = hostile_batch["folder"], hostile_batch["summary"], hostile_batch["report"]

    # The run's summary names the job and each cut; short prompts have none.
    assert set(summary["prompt_cuts"]) == {"long-prompt"}
    cuts = {cut["text"]: cut for cut in summary["prompt_cuts"]["long-prompt"]}
    clip_cut = cuts["prompt"]
    assert clip_cut["encoder"].startswith("CLIP") and clip_cut["tokens_kept"] == 75
    assert clip_cut["characters_given"] == LONG_PROMPT_CHARACTERS
    assert 0 < clip_cut["characters_kept"] < 1_000 and clip_cut["tokens_given"] > 10_000
    wan_cut = cuts["generation prompt"]
    assert wan_cut["encoder"].startswith("Wan") and wan_cut["tokens_kept"] == 512
    assert wan_cut["characters_kept"] < wan_cut["characters_given"]

    # The accepted clip's sidecar carries the same record.
    sidecar = json.loads((folder / "runs" / "hostile-inputs" / "clips" / "long-prompt.json").read_text())
    assert sidecar["prompt_cuts"] == summary["prompt_cuts"]["long-prompt"]
    short = json.loads((folder / "runs" / "hostile-inputs" / "clips" / "good-text.json").read_text())
    assert short["prompt_cuts"] == []

    # So do the job's record (its plan), report.json and the markdown summary.
    recorded = {job["key"]: job for job in report["jobs"]}
    assert recorded["long-prompt"]["plan"]["prompt_cuts"] == summary["prompt_cuts"]["long-prompt"]
    report_json = json.loads(Path(summary["report"]).read_text())
    assert [j["plan"]["prompt_cuts"] for j in report_json["jobs"] if j["key"] == "long-prompt"] == \
        [summary["prompt_cuts"]["long-prompt"]]
    markdown = render_markdown_summary(report)
    assert "| long-prompt | prompt: CLIP" in markdown
    assert f"{clip_cut['characters_kept']} of {LONG_PROMPT_CHARACTERS}" in markdown
