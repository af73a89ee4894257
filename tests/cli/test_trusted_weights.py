"""`clipmill prep --crop subject` and `clipmill check` load a weights file only when it is
pinned (`--trust-sha256`, or the registry in $CLIPMILL_TRUSTED_WEIGHTS); a hostile .pt never runs."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from clipmill.cli import check, inputs
from clipmill.models.trust import TRUSTED_WEIGHTS_ENV
from tests.models.hostile_weights import write_hostile_checkpoint

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    app.command()(inputs.prep)
    app.command("check")(check.check)
    app.command("calibrate-gate")(check.calibrate_gate)
    return app


@pytest.fixture(autouse=True)
def _offline_models(tmp_path_factory, monkeypatch):
    cache = tmp_path_factory.getbasetemp() / "clipmill-cache-cli"
    monkeypatch.setenv("CLIPMILL_CACHE", str(cache))
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(cache / "ultralytics"))
    monkeypatch.delenv(TRUSTED_WEIGHTS_ENV, raising=False)


@pytest.fixture
def hostile(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "code-ran"
    return write_hostile_checkpoint(tmp_path / "evil.pt", marker), marker


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def yolo_file(tmp_path_factory) -> Path:
    from clipmill.models.detector import load_detector

    path = tmp_path_factory.mktemp("cli-yolo") / "yolo.pt"
    load_detector("random").model.save(str(path))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_prep_refuses_an_unpinned_detector_and_its_code_never_runs(app, hostile, photo, tmp_path):
    evil, marker = hostile
    result = runner.invoke(app, ["prep", str(photo), "-o", str(tmp_path / "out.png"), "--size", "64x48",
                                 "--crop", "subject", "--detector", str(evil)])
    assert result.exit_code == 2, result.output
    assert f"--trust-sha256 {sha256_of(evil)}" in result.output and str(evil) in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not marker.exists() and not (tmp_path / "out.png").exists()


def test_prep_refuses_a_wrong_pin(app, hostile, photo, tmp_path):
    evil, marker = hostile
    result = runner.invoke(app, ["prep", str(photo), "-o", str(tmp_path / "out.png"), "--size", "64x48",
                                 "--crop", "subject", "--detector", str(evil), "--trust-sha256", "e" * 64])
    assert result.exit_code == 2 and "not the pinned " + "e" * 64 in result.output
    assert not marker.exists()
    result = runner.invoke(app, ["prep", str(photo), "-o", str(tmp_path / "out.png"), "--crop", "subject",
                                 "--detector", str(evil), "--trust-sha256", "nope"])
    assert result.exit_code == 2 and "not a sha256" in result.output and not marker.exists()


def test_prep_loads_a_pinned_detector(app, yolo_file, photo, tmp_path):
    result = runner.invoke(app, ["prep", str(photo), "-o", str(tmp_path / "out.png"), "--size", "64x48",
                                 "--crop", "subject", "--detector", str(yolo_file),
                                 "--trust-sha256", sha256_of(yolo_file)])
    assert result.exit_code == 0, result.output
    assert "subject:" in result.output and (tmp_path / "out.png").is_file()


def test_prep_reads_the_registry_file(app, yolo_file, photo, tmp_path, monkeypatch):
    registry = tmp_path / "trusted.yaml"
    registry.write_text(f"{yolo_file}: {sha256_of(yolo_file)}\n")
    monkeypatch.setenv(TRUSTED_WEIGHTS_ENV, str(registry))
    result = runner.invoke(app, ["prep", str(photo), "-o", str(tmp_path / "out.png"), "--size", "64x48",
                                 "--crop", "subject", "--detector", str(yolo_file)])
    assert result.exit_code == 0, result.output


def test_prep_with_a_centre_crop_loads_no_detector(app, hostile, photo, tmp_path):
    evil, marker = hostile
    result = runner.invoke(app, ["prep", str(photo), "-o", str(tmp_path / "out.png"), "--size", "64x48",
                                 "--detector", str(evil)])
    assert result.exit_code == 0, result.output
    assert not marker.exists()


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    from clipmill.media import encode_mp4

    frames = np.random.default_rng(0).integers(40, 200, (6, 64, 96, 3)).astype(np.uint8)
    return encode_mp4(frames, tmp_path_factory.mktemp("trust-video") / "clip.mp4", fps=8)


def test_check_refuses_an_unpinned_detector_and_its_code_never_runs(app, hostile, video):
    evil, marker = hostile
    result = runner.invoke(app, ["check", str(video), "--detector", str(evil)])
    assert result.exit_code == 2, result.output
    assert f"--trust-sha256 {sha256_of(evil)}" in result.output and "Traceback" not in result.output
    assert not marker.exists()


def test_check_refuses_an_unpinned_clip_checkpoint(app, hostile, video):
    evil, marker = hostile
    result = runner.invoke(app, ["check", str(video), "--detector", "random", "--clip-pretrained", str(evil)])
    assert result.exit_code == 2, result.output
    assert "CLIP checkpoint" in result.output and f"--trust-sha256 {sha256_of(evil)}" in result.output
    assert not marker.exists()


def test_calibrate_gate_refuses_an_unpinned_checkpoint(app, hostile, photo, tmp_path):
    evil, marker = hostile
    for label in ("good", "bad"):
        (tmp_path / "pairs" / label).mkdir(parents=True)
        Image.open(photo).save(tmp_path / "pairs" / label / "a.png")
        (tmp_path / "pairs" / label / "a.txt").write_text("a dog")
    result = runner.invoke(app, ["calibrate-gate", str(tmp_path / "pairs"), "--pretrained", str(evil)])
    assert result.exit_code == 2 and f"--trust-sha256 {sha256_of(evil)}" in result.output
    assert not marker.exists()
