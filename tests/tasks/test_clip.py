"""The clip tasks' own logic, run as plain functions (`.fn`): no Prefect server needed. The
shot-plan task reads the spec's prompt extender; without usable weights the rules plan is used
and its notes say why (no batch stops for a missing language model). The stitch passes one
segment on as it is and joins several without the repeated frame."""
import numpy as np

from clipmill.media import load_frames, save_frames
from clipmill.spec import parse_spec
from clipmill.tasks.clip import stitch, structure_prompt


def test_structure_prompt_falls_back_to_the_rules_plan_when_the_extender_cannot_load(tmp_path):
    spec = parse_spec({"name": "b", "models": {"prompt_extender": str(tmp_path / "no-such-model")},
                       "jobs": [{"id": "a", "prompt": "A boy throws a yellow frisbee to a brown dog in a park"}]})
    plan = structure_prompt.fn(spec.jobs[0], 1, spec.models)
    rules = structure_prompt.fn(spec.jobs[0], 1, None)
    assert plan.expectations == rules.expectations and plan.segment_prompts == rules.segment_prompts
    assert any("no-such-model" in note for note in plan.notes)


def _clip(path, value: int, count: int = 5):
    return save_frames(np.full((count, 16, 16, 3), value, np.uint8), path)


def test_one_segment_is_the_clip_as_it_is_never_read_and_written_again(tmp_path):
    segment = _clip(tmp_path / "segment-1.npy", 90)
    before = segment.stat().st_mtime_ns
    stitched = stitch.fn([segment], tmp_path / "stitched.npy")
    assert stitched.frames_path == segment and stitched.seams == [] and stitched.seam_metrics == []
    assert not (tmp_path / "stitched.npy").exists() and segment.stat().st_mtime_ns == before


def test_two_segments_are_joined_without_the_repeated_frame(tmp_path):
    first, second = _clip(tmp_path / "segment-1.npy", 90), _clip(tmp_path / "segment-2.npy", 90)
    stitched = stitch.fn([first, second], tmp_path / "stitched.npy")
    assert stitched.frames_path == tmp_path / "stitched.npy"
    assert len(load_frames(stitched.frames_path)) == 9 and stitched.seams == [5]
    assert len(stitched.seam_metrics) == 1
