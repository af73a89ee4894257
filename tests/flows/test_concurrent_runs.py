"""Two `clipmill run` of one spec at the same time (two operators, or a schedule firing while
the last run still goes): every job is made once, its published files match the record, and
no row is left "running"."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report

pytestmark = pytest.mark.slow


def test_two_runs_of_one_batch_make_each_job_once(prefect_server, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "twice", "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 128, "height": 128, "frames": 9, "fps": 8, "steps": 60,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": f"clip-{k}", "prompt": f"a dog runs in a park, take {k}", "seed": k} for k in range(4)]}))
    run_root = tmp_path / "runs"
    # Both against one real server, as two operators (or a schedule and a person) would be.
    env = {k: v for k, v in prefect_server.items() if k != "CLIPMILL_DATABASE_URL"}
    env["CLIPMILL_RUN_ROOT"] = str(run_root)
    clipmill = str(Path(sys.executable).with_name("clipmill"))
    runs = [subprocess.Popen([clipmill, "run", str(spec), "--json"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=420) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, err[-3000:]

    with session_scope(init_db(f"sqlite:///{run_root / 'clipmill.db'}")) as session:
        report = batch_report(session, "twice")
    assert report["attempts_total"] == 4, "a job was made twice"
    for job in report["jobs"]:
        assert job["status"] == "accepted" and [a["status"] for a in job["attempts"]] == ["accepted"]
        sidecar = next(a for a in job["artifacts"] if a["kind"] == "sidecar")
        assert hashlib.sha256(Path(sidecar["path"]).read_bytes()).hexdigest() == sidecar["sha256"]
    summaries = [json.loads(out[out.index("{"):out.rindex("}") + 1]) for out, _ in outputs]
    made = [{k for k, v in s["jobs"].items() if not v.get("resumed") and v["status"] == "accepted"} for s in summaries]
    assert not made[0] & made[1] and made[0] | made[1] == {f"clip-{k}" for k in range(4)}
