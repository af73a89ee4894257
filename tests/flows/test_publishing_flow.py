"""A labelled batch: every accepted clip carries the visible label and the AIGC tag with a
ProduceID of its own, recorded in the database and in the publish manifest; QA judged the
frames without the label."""
import json

import numpy as np
import pytest
import yaml

from clipmill.media import read_video
from clipmill.publishing import read_aigc
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report
from tests.flows.conftest import run_batch

pytestmark = pytest.mark.slow


def test_accepted_clips_of_a_labelled_batch_carry_both_labels(harness, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "labelled", "models": {"clip_pretrained": "random", "detector": "random"},
        "publish": {"enabled": True, "label": {"text": "AI生成", "position": "top-left"}},
        "defaults": {"model": "tiny", "width": 128, "height": 128, "frames": 9, "fps": 8, "steps": 2,
                     "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                            "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0}},
        "jobs": [{"id": "one", "prompt": "a dog runs"}, {"id": "two", "prompt": "a cat jumps"},
                 {"id": "kw", "keyword": "espresso cup", "template": "product-showcase"}]}))
    root = tmp_path / "runs"
    state, result = run_batch(spec, root)
    assert state.is_completed(), state.message
    with session_scope(init_db(f"sqlite:///{root / 'clipmill.db'}")) as session:
        jobs = {j["key"]: j for j in batch_report(session, "labelled")["jobs"]}
    produce_ids = set()
    for key, job in jobs.items():
        attempt = job["attempts"][-1]
        clip = root / "labelled" / "clips" / f"{key}.mp4"
        aigc = read_aigc(clip)
        assert aigc["ProduceID"] == attempt["produce_id"] and attempt["label_status"] == "explicit+implicit"
        produce_ids.add(aigc["ProduceID"])
        # The label is in the published picture, not in the frames QA judged.
        judged = np.load(root / "labelled" / "jobs" / key / "attempt-1" / "frames.npy")
        published, _ = read_video(clip)
        # (x264 on these noise frames is far from lossless, so compare brightness: the label's box
        # darkens its corner; the rest of the picture keeps its level.)
        corner, rest = (slice(None), slice(6, 22), slice(6, 45)), (slice(None), slice(80, 128), slice(None))
        assert published[corner].mean() < judged[corner].mean() - 20
        assert abs(published[rest].mean() - judged[rest].mean()) < 5
    assert len(produce_ids) == 3
    manifest = json.loads((root / "labelled" / "publish.json").read_text())
    rows = manifest["clips"] if isinstance(manifest, dict) else manifest
    assert {r["produce_id"] for r in rows} == produce_ids
    assert (root / "labelled" / "publish.csv").read_text(encoding="utf-8-sig").count("\n") >= 4
    assert result["publish_manifest"].endswith("publish.json")
