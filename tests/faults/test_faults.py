"""Faults an unattended run meets — a missing tool, a read-only or full disk, a locked or
unreachable database, a secret in a URL, markup in a name — each ends in one line that names
the cause, with nothing written and nothing shown that should not be."""
import errno
import sqlite3

import pytest
from typer.testing import CliRunner

from clipmill.cli import app
from clipmill.preflight import PreflightError, preflight
from clipmill.spec import SpecError, parse_spec
from clipmill.storage.config import RunConfig

runner = CliRunner()
SECRET = "s3cr3t-pw"
DEAD_POSTGRES = f"postgresql+psycopg://clipmill:{SECRET}@127.0.0.1:1/clipmill"


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: faults\nmodels: {clip_pretrained: random, detector: random}\n"
                    "defaults: {model: tiny, width: 64, height: 64, frames: 5}\njobs:\n  - {id: a, prompt: a dog runs}\n")
    return path


def _spec():
    return parse_spec({"name": "faults", "jobs": [{"id": "a", "prompt": "a dog runs"}]})


def _run(spec_path, *args):
    result = runner.invoke(app, ["run", str(spec_path), *args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result.exit_code, lines


def test_ffprobe_missing_is_found_before_any_generation(tmp_path, spec_path, monkeypatch):
    monkeypatch.setattr("clipmill.preflight.ffprobe_binary", lambda: None)
    code, lines = _run(spec_path, "--run-root", str(tmp_path / "runs"))
    assert code == 3 and len(lines) == 1 and "ffprobe not found" in lines[0]
    assert not (tmp_path / "runs" / "clipmill.db").exists()  # nothing recorded, nothing generated


def test_a_run_root_that_cannot_be_written_is_named(tmp_path, spec_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run root should be")
    code, lines = _run(spec_path, "--run-root", str(blocker / "runs"))
    assert code == 3 and len(lines) == 1 and "is not writable" in lines[0] and "not-a-folder" in lines[0]


@pytest.mark.slow
def test_a_locked_sqlite_database_is_named_not_waited_on(tmp_path, spec_path):
    db = tmp_path / "runs" / "clipmill.db"
    db.parent.mkdir()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for the whole run
    try:
        code, lines = _run(spec_path, "--run-root", str(tmp_path / "runs"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 3 and len(lines) == 1 and "database is locked" in lines[0]


def test_an_unreachable_postgres_is_one_line_without_its_password(tmp_path, spec_path):
    code, lines = _run(spec_path, "--run-root", str(tmp_path / "runs"), "--db-url", DEAD_POSTGRES)
    assert code == 3 and len(lines) == 1 and "is not usable" in lines[0] and SECRET not in lines[0]
    result = runner.invoke(app, ["report", "faults", "--db-url", DEAD_POSTGRES])
    assert result.exit_code == 3 and len(result.output.strip().splitlines()) == 1
    assert "is not usable" in result.output and SECRET not in result.output
    doctor = runner.invoke(app, ["doctor", "--db-url", DEAD_POSTGRES])
    assert "database" in doctor.output and SECRET not in doctor.output


def test_every_problem_is_named_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr("clipmill.preflight.ffprobe_binary", lambda: None)
    monkeypatch.setattr("clipmill.preflight.shutil.disk_usage", lambda path: type("U", (), {"free": 1024})())
    spec = parse_spec({"name": "faults", "models": {"detector": "/no/such/yolo.pt"},
                       "jobs": [{"id": "a", "prompt": "a dog runs"}]})
    with pytest.raises(PreflightError) as raised:
        preflight(RunConfig.resolve(tmp_path / "runs", f"sqlite:///{tmp_path / 'db.sqlite'}"), spec)
    message = str(raised.value)
    assert "\n" not in message
    for words in ("ffprobe not found", "disk full", "models.detector: /no/such/yolo.pt does not exist"):
        assert words in message


def test_a_full_disk_says_so_and_leaves_no_temporary_file(tmp_path):
    from clipmill.storage.files import DiskFullError, atomic_path

    with pytest.raises(DiskFullError, match="disk full: no space left writing .*frames.npy"):
        with atomic_path(tmp_path / "frames.npy") as tmp:
            tmp.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_batch_name_cannot_leave_the_run_root():
    for name in ("../escape", "a/../../b", "/abs"):
        with pytest.raises(SpecError, match="name"):
            parse_spec({"name": name, "jobs": [{"id": "a", "prompt": "x"}]})


def test_a_database_password_never_reaches_the_run_summary(tmp_path):
    config = RunConfig.resolve(tmp_path, f"postgresql+psycopg://clipmill:{SECRET}@db-host/clipmill")
    assert SECRET not in config.database_label and "db-host" in config.database_label
