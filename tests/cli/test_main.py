"""The command line: help for every command, clear errors, doctor's findings."""
import pytest
from typer.testing import CliRunner

from clipmill.cli import app

runner = CliRunner()
COMMANDS = ["run", "demo", "validate", "report", "doctor", "plan", "prep", "trending", "check", "deflicker",
            "stitch", "calibrate-gate", "cancel", "pause", "resume", "rerun", "submit", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output and len(result.output.splitlines()) > 4


def test_top_level_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert all(c in result.output for c in COMMANDS)


def test_validate_reports_the_field(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: b\njobs:\n  - {id: a, prompt: x, frames: 10}\n")
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 2
    assert "job 'a'" in result.output and "frames=10" in result.output


@pytest.mark.parametrize("text, words", [
    ("name: b\njobs:\n  - {id: a, prompt: x}\nmodles: {}\n", "unknown top-level field(s): modles"),
    ("name: b\njobs:\n  - {id: a, prompt: x\n", "not valid YAML"),
    ("name: b\ndefaults: {width: 100}\njobs:\n  - {id: a, prompt: x}\n", "multiple of 16"),
])
def test_run_refuses_a_spec_it_cannot_read_before_starting_prefect(tmp_path, text, words):
    """Only what no job can do without stops a run; one job's own typo costs only that job
    (tests/flows/test_job_errors.py)."""
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    result = runner.invoke(app, ["run", str(spec), "--run-root", str(tmp_path / "runs")])
    assert result.exit_code == 2 and words in result.output
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()


def test_report_names_a_missing_batch(tmp_path):
    result = runner.invoke(app, ["report", "nope", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}"])
    assert result.exit_code == 2 and "nope" in result.output


def test_doctor_reports_each_area(tmp_path):
    result = runner.invoke(app, ["doctor", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}"])
    for name in ("ffmpeg", "torch", "cuda", "database", "weights wan2.2-ti2v-5b", "prefect api"):
        assert name in result.output
    assert "reachable" in result.output


@pytest.mark.slow
def test_run_exits_1_with_one_line_when_a_job_failed_and_prints_json_for_machines(tmp_path):
    """As cron runs it: a separate process, its own temporary Prefect server, the real console."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "cron-check", "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 5, "fps": 8, "steps": 1,
                     "max_attempts": 1, "qa": {"gate_threshold": -1.0, "min_motion": 1000.0}},
        "jobs": [{"id": "still", "prompt": "a cat jumps"},
                 {"id": "broken", "prompt": "a cup", "image": "broken.jpg"}]}))
    clipmill = Path(sys.executable).with_name("clipmill")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(CLIPMILL_RUN_ROOT=str(tmp_path / "runs"), CLIPMILL_DATABASE_URL="", PREFECT_LOGGING_LEVEL="INFO")
    done = subprocess.run([str(clipmill), "run", str(spec), "--json"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "error: batch cron-check: 0/2 accepted · 1 failed QA · 1 error" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr  # a bad photo is one line, not a stack
    summary = json.loads(done.stdout[done.stdout.index("{"):done.stdout.rindex("}") + 1])
    assert {k: v["status"] for k, v in summary["jobs"].items()} == {"still": "failed", "broken": "error"}
    assert summary["counts"]["failed"] == 1 and "broken.jpg" in summary["jobs"]["broken"]["reason"]


def test_validate_says_which_prompt_will_be_cut_and_where(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: b\njobs:\n  - {id: short, prompt: a dog runs}\n  - {id: essay, prompt: '"
                    + "a dog runs " * 200 + "'}\n")
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 0
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and all("job 'essay'" in w and "at character" in w for w in warnings)
