"""ffmpeg encode and probe: H.264, yuv420p, exact frame count and fps, atomic writes."""
import numpy as np
import pytest

from clipmill.media import MediaError, encode_mp4, load_frames, probe, read_video, save_frames, save_poster

pytestmark = pytest.mark.skipif(__import__("shutil").which("ffprobe") is None, reason="ffprobe not installed")


def moving_frames(count=17, height=96, width=160):
    y, x = np.mgrid[0:height, 0:width]
    frames = [((np.sin((x + 4 * t) / 7.0) + 1) * 120 + (y % 16)).astype(np.uint8) for t in range(count)]
    return np.stack([np.stack([f, f[::-1], 255 - f], axis=-1) for f in frames])


def test_encode_is_h264_yuv420p_with_exact_frames_and_fps(tmp_path):
    frames = moving_frames(17)
    out = encode_mp4(frames, tmp_path / "clip.mp4", fps=16)
    info = probe(out)
    assert (info.codec, info.pix_fmt, info.width, info.height, info.frames) == ("h264", "yuv420p", 160, 96, 17)
    assert info.fps == pytest.approx(16.0)
    decoded, fps = read_video(out)
    assert decoded.shape == frames.shape and fps == pytest.approx(16.0)
    # crf 18: close to the source, not bit-exact
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 6
    assert not list(tmp_path.glob(".*tmp*")), "temporary file left behind"


def test_faststart_puts_the_index_first(tmp_path):
    out = encode_mp4(moving_frames(9), tmp_path / "clip.mp4", fps=24)
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_odd_sizes_and_bad_arrays_are_refused(tmp_path):
    with pytest.raises(MediaError, match="even"):
        encode_mp4(moving_frames(5, 95, 160), tmp_path / "odd.mp4", fps=16)
    with pytest.raises(ValueError, match="uint8"):
        encode_mp4(np.zeros((5, 16, 16, 3), np.float32), tmp_path / "f.mp4", fps=16)
    assert not (tmp_path / "odd.mp4").exists()


def test_frames_and_poster_round_trip(tmp_path):
    frames = moving_frames(5)
    assert np.array_equal(load_frames(save_frames(frames, tmp_path / "f.npy")), frames)
    assert save_poster(frames, tmp_path / "p.png").stat().st_size > 0


def test_read_video_rejects_non_video(tmp_path):
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"not a video")
    with pytest.raises(MediaError):
        read_video(bogus)
