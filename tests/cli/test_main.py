"""The command line: help for every command, clear errors, doctor's findings."""
import pytest
from typer.testing import CliRunner

from clipmill.cli import app

runner = CliRunner()
COMMANDS = ["run", "demo", "validate", "report", "doctor", "plan", "prep", "trending", "check", "deflicker",
            "stitch", "calibrate-gate"]


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


def test_run_refuses_a_bad_spec_before_starting_prefect(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: b\njobs:\n  - {id: a, prompt: x, width: 100}\n")
    result = runner.invoke(app, ["run", str(spec)])
    assert result.exit_code == 2 and "multiple of 16" in result.output


def test_report_names_a_missing_batch(tmp_path):
    result = runner.invoke(app, ["report", "nope", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}"])
    assert result.exit_code == 2 and "nope" in result.output


def test_doctor_reports_each_area(tmp_path):
    result = runner.invoke(app, ["doctor", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}"])
    for name in ("ffmpeg", "torch", "cuda", "database", "weights wan2.2-ti2v-5b", "prefect api"):
        assert name in result.output
    assert "reachable" in result.output
