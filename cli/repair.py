"""`clipmill deflicker` and `clipmill stitch`: the repair stages as standalone commands.

Registered in cli/main.py. Bad input (a missing or undecodable file, mismatched
segment sizes, a bad option) ends in one line on stderr and exit code 2, never a
traceback: these are run by hand on files from elsewhere.
"""
from __future__ import annotations

from pathlib import Path

import typer

from clipmill.cli.console import fail


def _read(path: Path):
    from clipmill.media import MediaError, read_video

    try:
        return read_video(path)
    except MediaError as error:
        fail(str(error))


def _encode(frames, output: Path, fps: float) -> None:
    from clipmill.media import MediaError, encode_mp4

    try:
        encode_mp4(frames, output, fps=fps)
    except (MediaError, OSError) as error:
        fail(f"{output}: {error}")


def deflicker(
    input: Path = typer.Argument(..., help="video to repair"),
    output: Path = typer.Argument(..., help="where the repaired MP4 goes"),
    strength: float = typer.Option(1.0, "--strength", "-s", help="0 = unchanged, 1 = full correction"),
) -> None:
    """Remove brightness and colour flicker from a video (optical-flow based; edges and motion untouched)."""
    from clipmill.qa.deflicker import deflicker as remove_flicker
    from clipmill.qa.temporal import flicker_score

    if not 0.0 <= strength <= 4.0:
        fail(f"--strength {strength}: must be between 0 and 4")
    frames, fps = _read(input)
    repaired = remove_flicker(frames, strength=strength)
    _encode(repaired, output, fps or 24.0)
    typer.echo(f"flicker {flicker_score(frames):.2f} -> {flicker_score(repaired):.2f} luma levels "
               f"({len(frames)} frames, {fps:.2f} fps)")
    typer.echo(f"wrote {output}")


def stitch(
    segments: list[Path] = typer.Argument(..., help="segment videos in order; each later one starts on the previous one's last frame"),
    output: Path = typer.Option(..., "--output", "-o", help="where the stitched MP4 goes"),
    blend: int = typer.Option(0, "--blend", help="crossfade this many shared frames (needs that many shared)"),
) -> None:
    """Join segment videos without a visible seam: drop the repeated frame, match colour, undo a small jump."""
    import numpy as np

    from clipmill.qa.stitch import seam_metrics, stitch_segments

    if len(segments) < 2:
        fail("stitch needs at least two segment videos")
    if blend < 0:
        fail(f"--blend {blend}: must be 0 or more")
    clips, rates = [], []
    for path in segments:
        frames, fps = _read(path)
        clips.append(frames)
        rates.append(fps)
    # The generator repeats exactly one boundary frame; blending needs as many shared frames.
    shared = max(1, blend)
    try:
        result = stitch_segments(clips, shared_frames=shared, blend_frames=blend)
    except ValueError as error:
        fail(str(error))
    _encode(result.frames, output, rates[0] or 24.0)
    for m, jump, warp in zip(seam_metrics(result.frames, result.seams), result.jumps, result.warps):
        zoom = float(np.sqrt(abs(np.linalg.det(warp[:, :2]))))
        turn = float(np.degrees(np.arctan2(warp[1, 0] - warp[0, 1], warp[0, 0] + warp[1, 1])))
        typer.echo(f"seam at frame {m['index']}: ratio {m['seam_ratio']:.2f} (1.0 = like any frame step; "
                   f"{m['across_diff']:.2f} vs {m['inside_median_diff']:.2f} luma levels), "
                   f"colour shift dE {m['colour_shift']:.2f}, colour step dE {m['colour_step']:.2f}, "
                   f"jump undone ({jump[0]:+.1f}, {jump[1]:+.1f}) px, zoom {zoom:.4f}, turn {turn:+.2f} deg")
    typer.echo(f"wrote {output} ({len(result.frames)} frames)")
