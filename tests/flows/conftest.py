import pytest


@pytest.fixture(scope="session")
def harness():
    """A real, temporary Prefect server (SQLite) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield
