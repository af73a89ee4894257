"""The trending poller under a real Prefect server: a local feed becomes jobs, clips and
keyword rows; a second poll adds nothing; run_deployment and the event + automation path
each start the batch deployment on the server."""
from __future__ import annotations

import asyncio
import http.server
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from clipmill.storage.db import init_db, session_scope
from clipmill.storage.keywords import list_keywords
from clipmill.storage.reports import batch_report

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

# 10 items: 4 distinct keywords, 4 duplicates of them (case, spacing, full-width), one
# blocked word and one item without a title.
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Trends</title>
  <item><title>Air Fryer</title></item>
  <item><title>露营装备</title></item>
  <item><title>air   fryer</title></item>
  <item><title>Toy Gun</title></item>
  <item><title>Matcha Latte</title></item>
  <item><link>https://example.com/no-title</link></item>
  <item><title>ＡＩＲ ＦＲＹＥＲ</title></item>
  <item><title>Yoga Mat</title></item>
  <item><title> 露营装备 </title></item>
  <item><title>MATCHA LATTE</title></item>
</channel></rss>"""

TINY = {
    "models": {"clip_pretrained": "random", "detector": "random"},
    "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 9, "fps": 8, "steps": 2, "max_attempts": 1,
                 "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                        "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                        "max_seam_ratio": 1000.0, "detect_stride": 4}},
}


class _Feed(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body, status = (FEED.encode(), 200) if self.path.startswith("/feed") else (b"gone", 404)
        self.send_response(status)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def feed_url():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_feed_to_clips_then_nothing_new(harness, tmp_path, feed_url, monkeypatch):
    from clipmill.flows.trending import trending_poller

    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    run_root = tmp_path / "runs"
    result = trending_poller(
        sources=[f"{feed_url}/feed.rss", f"{feed_url}/missing.rss"],
        templates=["trending-short"], spec_defaults=TINY, blocklist=["gun"], run_root=str(run_root),
    )

    # The broken source is reported; the good one still counts.
    assert list(result["failed_sources"]) == [f"{feed_url}/missing.rss"]
    assert "HTTP 404" in result["failed_sources"][f"{feed_url}/missing.rss"]
    assert result["malformed"] == 1
    statuses = [(d["display"], d["status"]) for d in result["decisions"]]
    assert statuses == [("Air Fryer", "new"), ("露营装备", "new"), ("air fryer", "duplicate"),
                        ("Toy Gun", "blocked"), ("Matcha Latte", "new"), ("AIR FRYER", "duplicate"),
                        ("Yoga Mat", "new"), ("露营装备", "duplicate"), ("MATCHA LATTE", "duplicate")]

    # One job per new keyword, every one made into a clip by the inline batch.
    spec = yaml.safe_load(Path(result["spec_path"]).read_text(encoding="utf-8"))
    assert [(j["keyword"], j["template"]) for j in spec["jobs"]] == [
        ("Air Fryer", "trending-short"), ("露营装备", "trending-short"), ("Matcha Latte", "trending-short"),
        ("Yoga Mat", "trending-short")]
    assert result["started"]["mode"] == "inline"
    assert set(result["started"]["jobs"].values()) == {"accepted"}
    for job in spec["jobs"]:
        assert (run_root / result["batch"] / "clips" / f"{job['id']}.mp4").is_file()

    with session_scope(init_db(result["database"])) as session:
        keywords = {k["normalised"]: k for k in list_keywords(session)}
        report = batch_report(session, result["batch"])
    assert {n: k["status"] for n, k in keywords.items()} == {
        "air fryer": "queued", "露营装备": "queued", "matcha latte": "queued", "yoga mat": "queued",
        "toy gun": "blocked"}
    assert keywords["air fryer"]["job_keys"] == ["air-fryer-trending-short"]
    assert all(k["batch_name"] == result["batch"] for k in keywords.values() if k["status"] == "queued")
    assert sorted(j["key"] for j in report["jobs"]) == sorted(j["id"] for j in spec["jobs"])
    # The shot plan made from the Chinese keyword uses the Chinese template.
    chinese = next(j for j in report["jobs"] if j["key"] == keywords["露营装备"]["job_keys"][0])
    assert "露营装备" in chinese["prompt"] or "露营装备" in str(chinese.get("plan"))

    # Same feed again: every keyword was queued before, so no spec, no batch, no job.
    again = trending_poller(sources=[f"{feed_url}/feed.rss"], templates=["trending-short"], spec_defaults=TINY,
                            blocklist=["gun"], run_root=str(run_root))
    assert again["batch"] is None and again["jobs"] == 0 and again["started"] is None
    assert {d["status"] for d in again["decisions"]} == {"seen", "duplicate", "blocked"}
    assert sorted(p.name for p in (run_root / "trending").iterdir()) == [Path(result["spec_path"]).name]


async def _register_batch_deployment(name: str) -> uuid.UUID:
    from clipmill.flows.batch import batch_flow

    deployment = await batch_flow.ato_deployment(name=name)
    return await deployment.aapply()


async def _runs_of(deployment_id: uuid.UUID):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with get_client() as client:
        return await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))


def test_run_deployment_schedules_the_batch_on_the_server(harness, tmp_path, feed_url, monkeypatch):
    from clipmill.flows.trending import trending_poller

    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    deployment_id = asyncio.run(_register_batch_deployment("trending-run-deployment"))
    result = trending_poller(sources=[f"{feed_url}/feed.rss"], templates=["product-showcase"], spec_defaults=TINY,
                             batch_deployment="clipmill-batch/trending-run-deployment", run_root=str(tmp_path))

    runs = asyncio.run(_runs_of(deployment_id))
    assert [str(r.id) for r in runs] == [result["started"]["flow_run_id"]]
    assert runs[0].parameters == {"spec_path": result["spec_path"], "run_root": str(tmp_path), "db_secret": None,
                                  "run_name": result["batch"]}
    assert runs[0].state.is_scheduled()  # no worker here: it waits for one
    assert Path(result["spec_path"]).is_file() and result["jobs"] == 5  # no blocklist: "Toy Gun" too


def test_event_triggers_the_automation_that_runs_the_batch(harness, tmp_path, feed_url, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    from clipmill.flows.trending import trending_poller

    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    deployment_id = asyncio.run(_register_batch_deployment("trending-batch"))
    # The automation file as shipped, with the id filled in as its header says.
    text = (REPO / "deployments" / "automations" / "trending-batch.yaml").read_text()
    automation = AutomationCore.model_validate(yaml.safe_load(text.replace("REPLACE-WITH-DEPLOYMENT-ID",
                                                                           str(deployment_id))))

    async def create():
        async with get_client() as client:
            return await client.create_automation(automation)

    automation_id = asyncio.run(create())
    assert automation_id
    time.sleep(2.0)  # the triggers service picks up new automations asynchronously

    result = trending_poller(sources=[f"{feed_url}/feed.rss"], templates=["trending-short", "product-showcase"],
                             spec_defaults=TINY, emit_event=True, run_root=str(tmp_path))
    assert result["started"]["mode"] == "event" and result["jobs"] == 10

    deadline = time.monotonic() + 40
    runs = []
    while time.monotonic() < deadline and not runs:
        runs = asyncio.run(_runs_of(deployment_id))
        if not runs:
            time.sleep(0.5)
    assert len(runs) == 1, "the automation did not start the batch deployment"
    assert runs[0].parameters == {"spec_path": result["spec_path"], "run_root": str(tmp_path), "db_secret": None,
                                  "run_name": result["batch"]}
