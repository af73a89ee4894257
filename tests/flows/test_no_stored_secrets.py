"""No database password reaches the Prefect server (issue 23, item 1).

A real `prefect server start`, a real PostgreSQL role with a password, and a batch run the
two ways a team runs one: `clipmill run` / `clipmill trending` with `--db-url` (which travels
by environment), and a worker that resolves the database from a Prefect Secret block named
by the deployment's run. Then everything the server stored is read back: every flow run
(poller, batch, each clip subflow: parameters, names, states), task runs, logs, artifacts,
deployments, and the server's database file itself (events and all). The password appears
nowhere; nor in what the runs published or printed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.flows.test_workers import BIN, REPO, api_client, run, start, stop

pytestmark = pytest.mark.slow

POSTGRES_ADMIN_URL = os.environ.get("CLIPMILL_TEST_POSTGRES_URL")
CLIPMILL = str(Path(sys.executable).with_name("clipmill"))

TINY = {
    "models": {"clip_pretrained": "random", "detector": "random"},
    "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 2, "max_attempts": 1,
                 "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                        "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                        "max_seam_ratio": 1000.0, "detect_stride": 4}},
}


@pytest.fixture
def password_url() -> tuple[str, str]:
    """A fresh PostgreSQL database owned by a role of its own with a password; yields the
    full URL and the password."""
    if not POSTGRES_ADMIN_URL:
        pytest.skip("CLIPMILL_TEST_POSTGRES_URL is not set (.ci/postgres.sh starts a server and prints one)")
    suffix = uuid.uuid4().hex[:10]
    role, database, password = f"clipmill_pw_{suffix}", f"clipmill_pw_{suffix}", f"Pw{uuid.uuid4().hex}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER {role}'))
    url = make_url(POSTGRES_ADMIN_URL).set(username=role, password=password, database=database)
    try:
        yield url.render_as_string(hide_password=False), password
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


# Random-weight clips may fail QA (exit 1): this test is about where the database went, so a
# job counts once it ended with a verdict, accepted or failed, and not as "error".
JUDGED = {"accepted", "failed"}


def _clipmill(args: list[str], env: dict, timeout: float = 400, codes: tuple[int, ...] = (0, 1)) -> tuple[str, dict]:
    """Run a clipmill command; returns all it printed and, for --json, what it printed as JSON."""
    result = subprocess.run([CLIPMILL, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode in codes, f"clipmill {' '.join(args[:1])}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    out = result.stdout
    return out + result.stderr, json.loads(out[out.index("{"):out.rindex("}") + 1]) if "--json" in args else {}


def _client_env(prefect_server: dict, run_root: Path) -> dict:
    """The server's environment, with no database of the shell's own."""
    env = {k: v for k, v in prefect_server.items() if k != "CLIPMILL_DATABASE_URL"}
    env["CLIPMILL_RUN_ROOT"] = str(run_root)
    return env


def _write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _everything_stored(env: dict) -> dict[str, list[tuple[str, str]]]:
    """What the server holds, as (what, JSON) pairs by kind."""
    with api_client(env) as client:
        flows = {flow.id: flow.name for flow in client.read_flows()}
        flow_runs = client.read_flow_runs(limit=200)
        stored = {"flow_runs": [(f"{flows[r.flow_id]} run {r.name!r}", r.model_dump_json()) for r in flow_runs]}
        stored["task_runs"] = [(f"task run {r.name!r}", r.model_dump_json()) for r in client.read_task_runs(limit=200)]
        logs, offset = [], 0
        while True:
            page = client.read_logs(limit=200, offset=offset)
            logs += [(f"log of {log.flow_run_id}", log.model_dump_json()) for log in page]
            offset += len(page)
            if len(page) < 200:
                break
        stored["logs"] = logs
        stored["artifacts"] = [(f"artifact {a.key or a.id}", a.model_dump_json()) for a in client.read_artifacts()]
        stored["deployments"] = [(f"deployment {d.name}", d.model_dump_json()) for d in client.read_deployments()]
    stored["flow_names"] = [(flows[r.flow_id], "") for r in flow_runs]
    return stored


def _server_files(env: dict) -> list[Path]:
    """The server's own SQLite database (events, states, parameters, logs, block documents)."""
    home = Path(env["PREFECT_HOME"])
    files = sorted(home.glob("*.db*"))
    assert files, f"no server database under {home}"
    return files


def assert_no_password(env: dict, password: str, *, folders: list[Path], printed: list[str],
                       expected_flows: dict[str, int]) -> None:
    stored = _everything_stored(env)
    names = [name for name, _ in stored.pop("flow_names")]
    for flow, at_least in expected_flows.items():
        assert names.count(flow) >= at_least, f"expected {at_least} run(s) of {flow}, the server has {names}"
    assert stored["logs"], "no logs stored: the check would prove nothing"
    leaks = [f"{kind}: {what}" for kind, items in stored.items() for what, data in items if password in data]
    assert not leaks, "the database password is stored on the Prefect server in:\n" + "\n".join(leaks)

    time.sleep(2)  # events and logs reach the server's database in batches
    server_files = {path: path.read_bytes() for path in _server_files(env)}
    # The right files: they hold the runs' parameters (each names the run root).
    assert any(str(folders[0]).encode() in data for data in server_files.values())
    for path, data in server_files.items():
        assert password.encode() not in data, f"the password is in the server's database file {path}"
    for folder in folders:
        for path in (p for p in folder.rglob("*") if p.is_file()):
            assert password.encode() not in path.read_bytes(), f"the password is in a published file {path}"
    for output in printed:
        assert password not in output, "the password was printed"


def test_db_url_on_the_command_line_stores_no_password(prefect_server, password_url, tmp_path):
    """`clipmill run --db-url` and `clipmill trending --db-url` (poller, inline batch, clips)."""
    url, password = password_url
    run_root = tmp_path / "runs"
    env = _client_env(prefect_server, run_root)
    spec = _write(tmp_path / "spec.yaml", {"name": "secret-run", **TINY,
                                           "jobs": [{"id": f"clip-{k}", "prompt": f"a dog runs, take {k}"}
                                                    for k in range(2)]})
    output, result = _clipmill(["run", str(spec), "--db-url", url, "--json"], env)
    printed = [output]
    assert {job["status"] for job in result["jobs"].values()} <= JUDGED and len(result["jobs"]) == 2, result
    assert password not in result["database"] and "***" in result["database"]

    feed = _write(tmp_path / "trends.txt", "air fryer\nyoga mat\n")
    defaults = _write(tmp_path / "defaults.yaml", TINY)
    output, trending = _clipmill(["trending", "--source", str(feed), "--spec-defaults", str(defaults),
                                  "--db-url", url, "--json"], env)
    printed.append(output)
    assert trending["started"]["mode"] == "inline" and set(trending["started"]["jobs"].values()) <= JUDGED

    # The runs really used that database (and not a SQLite file of the run root).
    with create_engine(url).connect() as connection:
        assert connection.execute(text("select count(*) from jobs")).scalar() == 4
    assert not (run_root / "clipmill.db").exists()
    assert_no_password(env, password, folders=[run_root], printed=printed, expected_flows={
        "clipmill-batch": 2, "clipmill-clip": 4, "clipmill-trending-poller": 1})


def test_a_worker_reads_the_database_from_a_secret_block(prefect_server, password_url, tmp_path):
    """The poller starts the trending-batch deployment; a worker with no database in its
    environment runs it with the URL from the Secret block the run names."""
    from prefect.blocks.system import Secret

    url, password = password_url
    run_root = tmp_path / "runs"
    env = _client_env(prefect_server, run_root)
    with api_client(env):
        Secret(value=url).save("clipmill-database", overwrite=True)
    prefect = str(BIN / "prefect")
    run([prefect, "work-pool", "create", "clipmill-gpu", "--type", "process"], env)
    run([prefect, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--name", "trending-batch"],
        env)
    worker = start([prefect, "worker", "start", "--pool", "clipmill-gpu", "--limit", "1", "--name", "secret-gpu"],
                   env, tmp_path / "worker.log")
    try:
        feed = _write(tmp_path / "trends.txt", "matcha latte\n")
        defaults = _write(tmp_path / "defaults.yaml", TINY)
        output, polled = _clipmill(["trending", "--source", str(feed), "--spec-defaults", str(defaults),
                                    "--deployment", "clipmill-batch/trending-batch", "--db-secret",
                                    "clipmill-database", "--json"], env)
        printed, started = [output], polled["started"]
        assert started["mode"] == "deployment"
        deadline, state = time.monotonic() + 300, None
        with api_client(env) as client:
            while time.monotonic() < deadline:
                state = client.read_flow_run(uuid.UUID(started["flow_run_id"])).state
                if state is not None and state.is_final():
                    break
                time.sleep(1)
            batch = client.read_flow_run(uuid.UUID(started["flow_run_id"]))
    finally:
        stop(worker)
    assert state is not None and (state.is_completed() or state.is_failed()) and "/1 accepted" in state.message, \
        f"{state}\n{(tmp_path / 'worker.log').read_text()[-4000:]}"
    assert batch.parameters["db_secret"] == "clipmill-database"
    with create_engine(url).connect() as connection:
        statuses = connection.execute(text("select status from jobs")).scalars().all()
    assert len(statuses) == 1 and set(statuses) <= JUDGED, statuses
    printed.append((tmp_path / "worker.log").read_text())

    # `clipmill submit --db-secret` queues a run that names the block too (no worker now: it waits).
    run([prefect, "work-queue", "create", "normal", "--pool", "clipmill-gpu"], env)
    spec = _write(tmp_path / "spec.yaml", {"name": "submitted", **TINY, "jobs": [{"id": "a", "prompt": "a dog runs"}]})
    printed.append(_clipmill(["submit", str(spec), "--priority", "normal", "--deployment",
                              "clipmill-batch/trending-batch", "--db-secret", "clipmill-database"], env,
                             codes=(0,))[0])
    with api_client(env) as client:
        queued = [r for r in client.read_flow_runs() if r.parameters.get("spec_path") == str(spec)]
    assert [r.parameters["db_secret"] for r in queued] == ["clipmill-database"]

    assert_no_password(env, password, folders=[run_root], printed=printed, expected_flows={
        "clipmill-batch": 2, "clipmill-clip": 1, "clipmill-trending-poller": 1})


def test_db_secret_takes_a_block_name_and_says_what_is_wrong_in_one_line(harness, tmp_path, monkeypatch):
    from prefect.blocks.system import Secret

    from clipmill.tasks.common import run_config

    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="not the URL itself") as raised:
        run_config(tmp_path, "postgresql+psycopg://clipmill:s3cret-pw@db-host/clipmill")
    assert "s3cret-pw" not in str(raised.value)
    with pytest.raises(ValueError, match="database secret block 'no-such-block'"):
        run_config(tmp_path, "no-such-block")
    Secret(value=f"sqlite:///{tmp_path / 'from-secret.db'}").save("clipmill-test-sqlite", overwrite=True)
    config = run_config(tmp_path, "clipmill-test-sqlite")
    assert config.db_url == f"sqlite:///{tmp_path / 'from-secret.db'}"
