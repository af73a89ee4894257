"""The HTML gallery in a real headless Chromium: it renders, every video decodes, nothing is
logged to the console. The screenshot is kept in runs/test-output/gallery.png."""
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from clipmill.media import encode_mp4, save_poster
from clipmill.report import render_gallery

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
OUTPUT = Path(__file__).resolve().parents[1] / "runs" / "test-output"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def gallery(tmp_path: Path, script: str = "") -> Path:
    root = tmp_path / "batch"
    frames = np.stack([np.full((64, 96, 3), 40 + 20 * t, np.uint8) for t in range(9)])
    jobs = []
    for key, status in (("ok-1", "accepted"), ("ok-2", "accepted"), ("bad", "failed")):
        clip = encode_mp4(frames, root / "clips" / f"{key}.mp4", fps=8)
        poster = save_poster(frames, clip.with_suffix(".png"))
        kind = "clip" if status == "accepted" else "attempt_poster"
        jobs.append({"key": key, "prompt": f"prompt <b>{key}</b>", "status": status, "reason": "motion",
                     "attempts": [{"number": 1, "seed": 0, "status": status, "error": None, "timings": {},
                                   "checks": [{"stage": "temporal", "metric": "motion", "value": 1.0,
                                               "threshold": 0.2, "passed": status == "accepted", "reason": "r"}]}],
                     "artifacts": [{"kind": kind, "path": str(clip if kind == "clip" else poster)},
                                   {"kind": "poster", "path": str(poster)}]})
    html = render_gallery({"name": "browser", "counts": {"accepted": 2, "failed": 1}, "jobs": jobs,
                           "random_weights": True}, base_dir=root)
    page = root / "index.html"
    page.write_text(html.replace("</body>", f"<script>{script}</script></body>"))
    return page


def test_gallery_renders_plays_its_videos_and_logs_nothing(tmp_path):
    page = gallery(tmp_path)
    result = chromium(page, tmp_path / "profile", "--enable-logging=stderr", "--v=0",
                      "--virtual-time-budget=8000", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("<video") == 2
    assert len(re.findall(r'data-loaded="1"', result.stdout)) == 2, "a video did not decode"
    assert result.stdout.count('class="card"') == 3
    assert [line for line in result.stderr.splitlines() if ":CONSOLE" in line] == []

    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = chromium(page, tmp_path / "profile-shot", "--window-size=1280,900", "--virtual-time-budget=4000",
                    f"--screenshot={OUTPUT / 'gallery.png'}")
    assert shot.returncode == 0 and (OUTPUT / "gallery.png").stat().st_size > 10_000


def test_the_check_notices_console_errors(tmp_path):
    page = gallery(tmp_path, script="undefinedFunction();")
    result = chromium(page, tmp_path / "profile", "--enable-logging=stderr", "--v=0",
                      "--virtual-time-budget=4000", "--dump-dom")
    assert any(":CONSOLE" in line and "undefinedFunction" in line for line in result.stderr.splitlines())
