"""The Prefect server and client versions we pin must work together on the calls that
`prefect deploy`, `prefect worker` and `prefect artifact ls` make (some send null fields that
a mismatched fastapi refuses with 422)."""
import asyncio

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate


@pytest.mark.slow  # the session's Prefect server starts for it alone (16 s): out of the fast loop
def test_worker_and_artifact_endpoints_accept_the_clients_requests(harness):
    async def calls():
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name="clipmill-test-pool", type="process"))
            workers = await client.read_workers_for_work_pool("clipmill-test-pool")
            artifacts = await client.read_latest_artifacts()
            return workers, artifacts

    workers, artifacts = asyncio.run(calls())
    assert workers == [] and isinstance(artifacts, list)
