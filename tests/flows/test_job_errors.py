"""A job whose own fields are wrong costs only itself: a run records it "error" with the file,
the job and the field, and makes every other job; `validate` still refuses the whole spec."""
import json

import pytest
import yaml
from typer.testing import CliRunner

from clipmill.cli import app
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report

pytestmark = pytest.mark.slow
runner = CliRunner()


def _spec(tmp_path, jobs: int, typo_at: int):
    spec = {
        "name": "one-typo", "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 32, "height": 32, "frames": 5, "fps": 8, "steps": 1,
                     "max_attempts": 1,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                            "max_seam_ratio": 1000.0, "detect_stride": 4, "consistency_samples": 2,
                            "check_text": False}},
        "jobs": [{"id": f"clip-{n:02d}", "prompt": f"a dog runs, take {n}"} for n in range(jobs)],
    }
    spec["jobs"][typo_at] = {"id": "typo", "keyword": "summer dress", "template": "product-showcse"}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_one_unknown_template_among_21_jobs_costs_only_its_job(harness, tmp_path):
    path = _spec(tmp_path, jobs=21, typo_at=7)
    runs = tmp_path / "runs"
    db = f"sqlite:///{runs / 'clipmill.db'}"

    checked = runner.invoke(app, ["validate", str(path)])
    assert checked.exit_code == 2, checked.output  # a person checking the spec sees it at once
    assert "job 'typo': field 'template': unknown template 'product-showcse'" in checked.output

    result = runner.invoke(app, ["run", str(path), "--run-root", str(runs), "--db-url", db, "--json"])
    assert result.exit_code == 1, result.output[-3000:]  # a job errored: not a clean batch
    summary = json.loads(result.output[result.output.index("{\n"):result.output.rindex("\n}") + 2])
    statuses = {key: job["status"] for key, job in summary["jobs"].items()}
    assert statuses.pop("typo") == "error"
    assert statuses == {f"clip-{n:02d}": "accepted" for n in range(21) if n != 7}
    reason = summary["jobs"]["typo"]["reason"]
    assert str(path) in reason and "job 'typo'" in reason and "field 'template'" in reason
    assert summary["message"].startswith("20/21 accepted · 1 error")
    assert "wrong in the spec: typo (template)" in summary["message"]  # the batch's state names it
    assert len(list((runs / "one-typo" / "clips").glob("*.mp4"))) == 20

    with session_scope(init_db(db)) as session:
        recorded = {job["key"]: job for job in batch_report(session, "one-typo")["jobs"]}
    assert recorded["typo"]["status"] == "error" and recorded["typo"]["reason"] == reason
    assert recorded["typo"]["attempts"] == []  # recorded, never made
