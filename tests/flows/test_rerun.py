"""`clipmill rerun` makes a recorded attempt again from the database alone: with the tiny
backend on the same machine the frames are identical; another seed gives other frames; other
software versions are named. The attempt records the precision asked for and the one used."""
import numpy as np
import pytest
import yaml
from sqlalchemy import select

from clipmill.storage.db import init_db, session_scope
from clipmill.storage.schema import Attempt

from tests.flows.conftest import run_batch

pytestmark = pytest.mark.slow


def test_a_rerun_makes_identical_frames_and_names_what_differs(harness, tmp_path, monkeypatch):
    from clipmill.flows.rerun import rerun_flow

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "again", "models": {"clip_pretrained": "random", "detector": "random", "precision": "fp8"},
        "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 17, "segments": 2, "fps": 8, "steps": 3,
                     "seed": 11, "qa": {"gate_threshold": -1.0, "enforce_expectations": False, "max_flicker": 255,
                                        "min_motion": 0.0, "max_frozen_fraction": 1.0, "max_black_fraction": 1.0,
                                        "max_seam_ratio": 1000.0}},
        "jobs": [{"id": "walk", "prompt": "A woman walks to a bench, then sits down"}]}))
    root = tmp_path / "runs"
    _, result = run_batch(spec, root)
    assert result["jobs"]["walk"]["status"] == "accepted"
    original = np.load(root / "again" / "jobs" / "walk" / "attempt-1" / "frames.npy")
    # FP8 was asked for; the tiny model (float32, and here on the CPU) cannot have it: the
    # attempt records what it ran in, what was asked for and why, with the request in the recipe.
    with session_scope(init_db(result["database"])) as session:
        attempt = session.scalars(select(Attempt)).one()
        device, recorded = attempt.device, attempt.reproduce
    assert device.endswith(", fp32)") and recorded["models"]["precision"] == "fp8"
    assert (recorded["precision"]["precision"], recorded["precision"]["requested"]) == ("fp32", "fp8")
    assert recorded["precision"]["reason"] and recorded["precision"]["relative_error"] is None

    same = rerun_flow("again", "walk", run_root=str(root))
    assert same["differences"] == [] and same["seed"] == 11
    np.testing.assert_array_equal(np.load(same["frames"]), original)

    other = rerun_flow("again", "walk", seed=12, run_root=str(root))
    assert not np.array_equal(np.load(other["frames"]), original)

    monkeypatch.setattr("clipmill.tasks.clip.software_versions", lambda: {"python": "3.99", "torch": "9.9"})
    changed = rerun_flow("again", "walk", run_root=str(root))["differences"]
    assert any(d.startswith("torch ") and "9.9 now" in d for d in changed)
