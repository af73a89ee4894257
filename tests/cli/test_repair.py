"""`clipmill deflicker` and `clipmill stitch` on small encoded videos."""
import numpy as np
import typer
from typer.testing import CliRunner

from clipmill.cli.repair import deflicker, stitch
from clipmill.media import encode_mp4, read_video
from tests.qa.synthetic import shifted, textured_clip, with_brightness_flicker

app = typer.Typer()
app.command("deflicker")(deflicker)
app.command("stitch")(stitch)
runner = CliRunner()


def test_deflicker_writes_a_steadier_video(tmp_path):
    source = tmp_path / "in.mp4"
    encode_mp4(with_brightness_flicker(textured_clip(16, 96, 160), patch_jitter=0.0), source, fps=12)
    result = runner.invoke(app, ["deflicker", str(source), str(tmp_path / "out.mp4")])
    assert result.exit_code == 0, result.output
    before, after = [float(x) for x in result.output.split("flicker ")[1].split(" luma")[0].split(" -> ")]
    assert after < 0.5 * before
    frames, fps = read_video(tmp_path / "out.mp4")
    assert frames.shape == (16, 96, 160, 3) and abs(fps - 12) < 0.01


def test_stitch_joins_segments_and_reports_the_seam(tmp_path):
    clip = textured_clip(25, 96, 160, dx=1, dy=0)
    encode_mp4(clip[:13], tmp_path / "a.mp4", fps=12)
    encode_mp4(shifted(clip[12:], 2.0, 0.0), tmp_path / "b.mp4", fps=12)
    result = runner.invoke(app, ["stitch", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "-o", str(tmp_path / "s.mp4")])
    assert result.exit_code == 0, result.output
    assert "seam at frame 13" in result.output and "jump undone (+2.0" in result.output
    seam_line = next(line for line in result.output.splitlines() if line.startswith("seam at frame 13"))
    ratio = float(seam_line.split("ratio ")[1].split()[0])
    assert ratio < 1.5
    for metric in ("colour shift dE", "colour step dE", "zoom ", "turn "):
        assert metric in seam_line
    assert abs(float(seam_line.split("zoom ")[1].split(",")[0]) - 1.0) < 0.005
    assert read_video(tmp_path / "s.mp4")[0].shape[0] == 25


def test_bad_input_is_one_line_without_traceback(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    for args in (["deflicker", str(tmp_path / "missing.mp4"), str(tmp_path / "o.mp4")],
                 ["deflicker", str(broken), str(tmp_path / "o.mp4")],
                 ["stitch", str(broken), str(broken), "-o", str(tmp_path / "o.mp4")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "error:" in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_mismatched_segment_sizes_are_refused(tmp_path):
    encode_mp4(textured_clip(5, 48, 64), tmp_path / "a.mp4", fps=12)
    encode_mp4(textured_clip(5, 48, 80), tmp_path / "b.mp4", fps=12)
    result = runner.invoke(app, ["stitch", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "-o", str(tmp_path / "s.mp4")])
    assert result.exit_code == 2 and "segment 1 is 80x48" in result.output
