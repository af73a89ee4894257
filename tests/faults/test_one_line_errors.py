"""Handled faults end in one line and a sensible exit status, never a traceback (issue #23
item 8): the trending poller with every source failed, and a batch name that would leave the
run folder."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipmill.cli import app
from clipmill.storage.paths import BatchPaths

runner = CliRunner()


def _clipmill(*args: str) -> subprocess.CompletedProcess:
    """The command in a process of its own, as cron runs it, on the test's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = {key: value for key, value in os.environ.items() if key != "CLIPMILL_DATABASE_URL"}
    env.update(PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_LOGGING_LEVEL="INFO")
    return subprocess.run([str(Path(sys.executable).with_name("clipmill")), *args], env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_a_poll_whose_every_source_failed_is_one_line(harness, tmp_path):
    done = _clipmill("trending", "--source", str(tmp_path / "missing.txt"), "--source", "http://127.0.0.1:1/feed",
                     "--run-root", str(tmp_path / "runs"))
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stderr[-2000:]  # as a dry run with every source failed says it
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: trending poll failed: ")
    assert "every source failed" in errors[0] and "missing.txt: no such file or folder" in errors[0]
    assert "127.0.0.1:1/feed: cannot fetch" in errors[0]


def test_a_poller_batch_name_that_would_leave_the_run_folder_is_refused_up_front(tmp_path):
    (tmp_path / "keywords.txt").write_text("summer dress\n")
    for name in ("../x", "a/b", "/etc/cron.d/x", ".."):
        (tmp_path / "defaults.yaml").write_text(f"name: '{name}'\ndefaults: {{model: tiny}}\n")
        result = runner.invoke(app, ["trending", "--source", str(tmp_path / "keywords.txt"), "--spec-defaults",
                                     str(tmp_path / "defaults.yaml"), "--run-root", str(tmp_path / "runs")])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"error: spec defaults: name {name!r} cannot start a batch name: use up to 43 letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (it names a folder under the run root)"]
        assert not (tmp_path / "runs").exists() and not list(tmp_path.parent.glob("x-*.yaml"))


@pytest.mark.slow
def test_the_poller_flow_refuses_such_a_name_before_writing_its_spec(harness, tmp_path):
    """As a deployment runs it, with no command line in front: the poll ends Failed with one
    line, and no spec is written outside <run_root>/trending/."""
    from clipmill.flows.trending import trending_poller

    (tmp_path / "keywords.txt").write_text("summer dress\n")
    runs = tmp_path / "runs"
    state = trending_poller(sources=[str(tmp_path / "keywords.txt")], spec_defaults={"name": "../x"},
                            run_root=str(runs), batch_deployment="clipmill-batch/none", return_state=True)
    assert state.is_failed() and "name '../x' cannot start a batch name" in state.message
    assert "\n" not in state.message
    assert not list(tmp_path.rglob("*.yaml"))


def test_batch_paths_stay_under_the_run_root(tmp_path):
    assert BatchPaths.for_batch(tmp_path, "nightly-1").root == tmp_path.resolve() / "nightly-1"
    for name in ("../x", "a/b", "/abs", "..", "."):
        with pytest.raises(ValueError, match="would leave the run root"):
            BatchPaths.for_batch(tmp_path, name)


def test_report_and_controls_name_such_a_batch_in_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    for command in (["report", "../x"], ["pause", "../x"], ["cancel", "../x"]):
        result = runner.invoke(app, [*command, "--db-url", db])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and "'../x'" in result.output
