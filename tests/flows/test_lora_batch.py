"""LoRAs through a real batch run on the tiny backend: jobs sharing a LoRA set run together and
pay for the swap once, every attempt records the files' sha256 and scales, `clipmill rerun`
makes the same frames (after swaps) and refuses a LoRA file that has changed since, and a
distilled job without a LoRA says so in its record."""
import hashlib

import numpy as np
import pytest
import yaml

from tests.flows.conftest import run_batch

pytestmark = pytest.mark.slow

QA_OPEN = {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255, "min_motion": 0.0,
           "max_frozen_fraction": 1.0, "max_black_fraction": 1.0, "max_seam_ratio": 1000.0}


def test_a_batch_groups_lora_sets_records_them_and_reruns_them(harness, tmp_path):
    from clipmill.flows.rerun import rerun_flow
    from clipmill.models.tiny_wan import build_tiny_pipeline
    from clipmill.storage.db import init_db, session_scope
    from clipmill.storage.reports import batch_report
    from tests.models.lora_files import random_lora, save_lora

    style = save_lora(random_lora(build_tiny_pipeline().transformer, seed=5), tmp_path / "loras" / "style.safetensors",
                      "lightx2v")
    style_sha = hashlib.sha256(style.read_bytes()).hexdigest()
    styled = {"loras": [{"path": "loras/style.safetensors", "scale": 0.8}]}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "styles", "models": {"clip_pretrained": "random", "detector": "random"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 5, "fps": 8, "steps": 2, "seed": 3,
                     "max_attempts": 1, "qa": QA_OPEN},
        "jobs": [{"id": "styled-1", "prompt": "a dog runs", **styled},
                 {"id": "plain-1", "prompt": "a dog runs"},
                 {"id": "styled-2", "prompt": "a cat runs", **styled},
                 {"id": "quick", "prompt": "a cow runs", "speed": "distilled"},
                 {"id": "plain-2", "prompt": "a cat runs"}]}))
    root = tmp_path / "runs"
    _, result = run_batch(spec, root, clips_in_flight=1)
    assert {job: outcome["status"] for job, outcome in result["jobs"].items()} == dict.fromkeys(
        ["styled-1", "plain-1", "styled-2", "quick", "plain-2"], "accepted")

    with session_scope(init_db(f"sqlite:///{root / 'clipmill.db'}")) as session:
        report = batch_report(session, "styles")
    attempts = {job["key"]: job["attempts"][0] for job in report["jobs"]}
    # The style set is fused once, for its first job: the second job after it pays nothing.
    started = sorted(attempts, key=lambda key: attempts[key]["started_at"])
    assert started == ["styled-1", "styled-2", "plain-1", "quick", "plain-2"]
    assert attempts["styled-1"]["timings"].get("lora_swap", 0.0) > 0.0
    assert "lora_swap" not in attempts["styled-2"]["timings"]
    assert attempts["plain-1"]["timings"].get("lora_swap", 0.0) > 0.0  # back to the checkpoint's weights
    assert "lora_swap" not in attempts["plain-2"]["timings"]
    [warning] = attempts["quick"]["events"]
    assert warning["kind"] == "warning" and "without any LoRA" in warning["reason"]
    assert not any(event["kind"] == "warning" for key in ("styled-1", "plain-1") for event in attempts[key]["events"])

    from clipmill.storage.schema import Attempt
    from sqlalchemy import select

    with session_scope(init_db(f"sqlite:///{root / 'clipmill.db'}")) as session:
        records = {attempt.job.key: attempt.reproduce for attempt in session.scalars(select(Attempt))}
    assert records["styled-1"]["loras"] == [{"path": str(style), "sha256": style_sha, "scale": 0.8,
                                             "expert": "transformer"}]
    assert records["plain-1"]["loras"] == []

    # Reruns in this process: the generator holds the style set, then swaps it out and back.
    frames = {key: np.load(root / "styles" / "jobs" / key / "attempt-1" / "frames.npy") for key in ("styled-1", "plain-1")}
    for key in ("plain-1", "styled-1", "plain-1"):
        again = rerun_flow("styles", key, run_root=str(root))
        np.testing.assert_array_equal(np.load(again["frames"]), frames[key])
    assert not np.array_equal(frames["styled-1"], frames["plain-1"])  # same prompt and seed: the LoRA is the change

    # A LoRA file changed since the attempt would make another clip: the rerun refuses it.
    save_lora(random_lora(build_tiny_pipeline().transformer, seed=6), style, "lightx2v")
    state = rerun_flow("styles", "styled-1", run_root=str(root), return_state=True)
    assert state.is_failed() and "not the pinned" in state.message and "style.safetensors" in state.message
