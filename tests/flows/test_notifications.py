"""A batch's end reaches the team's chat: the batch flow's events, the shipped automations,
a Prefect custom-webhook block, and a receiver on 127.0.0.1 standing in for the chat."""
import http.server
import json
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.flows.conftest import run_batch

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_batch_end_and_low_yield_are_sent_to_the_team(harness, tmp_path, receiver):
    import importlib.util

    url, received = receiver
    loader = importlib.util.spec_from_file_location("notify_setup", REPO / "deployments/automations/notify_setup.py")
    notify_setup = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(notify_setup)
    assert len(notify_setup.setup_notifications(url, allow_private_urls=True)) == 2
    time.sleep(2.0)  # the triggers service picks up new automations asynchronously

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "notify-me", "min_yield": 0.9, "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 5, "fps": 8, "steps": 1, "max_attempts": 1,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": "fine", "prompt": "a dog runs"},
                 {"id": "still", "prompt": "a cat jumps", "qa": {"min_motion": 1000.0}}]}))
    state, _ = run_batch(spec, tmp_path / "runs")
    assert state.message == "1/2 accepted · 1 failed QA"

    deadline = time.monotonic() + 60
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    texts = sorted(message["text"] for message in received)
    assert len(texts) == 2, texts
    assert texts[0].startswith("clipmill batch notify-me finished") and "1/2 accepted · 1 failed QA" in texts[0]
    assert texts[1].startswith("clipmill batch notify-me: yield 0.5 below 0.9")
