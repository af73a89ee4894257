import gc
import os
from pathlib import Path

import pytest

import clipmill.prefect_env  # noqa: F401  (before anything imports Prefect)

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test material not found at {SHARED_DATA} (see shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _frozen_import_heap() -> None:
    """Move what imports made (torch, diffusers, transformers: millions of objects) out of the
    garbage collector's sight: `clear_model_cache` collects on every call, and walking that
    heap cost 0.6-0.7 s a call, twice for each test that starts from an empty cache. Objects
    the tests make later are collected as before."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def harness():
    """A real, temporary Prefect server (SQLite) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    # Prefect's default is 30 s; the first start migrates a fresh database, which on a loaded
    # 2-core CI machine has taken longer than that (CI failed at this fixture once).
    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture
def prefect_server(tmp_path):
    """A real `prefect server start` of the test's own on a free port; yields the environment
    that points clients, workers and flows at it (tests/flows/test_workers.py: start_server)."""
    from tests.flows.test_workers import start_server, stop

    server, env = start_server(tmp_path)
    try:
        yield env
    finally:
        stop(server)
