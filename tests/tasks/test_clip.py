"""The stitch task's own logic, run as a plain function (`.fn`): no Prefect server needed."""
import numpy as np

from clipmill.media import load_frames, save_frames
from clipmill.tasks.clip import stitch


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
