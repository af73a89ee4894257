"""`clipmill check` and `clipmill calibrate-gate`, with scripted models standing in for YOLO and CLIP."""
import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import clipmill.models.clip
import clipmill.models.detector
from clipmill.cli.check import calibrate_gate, check, expectations_from_args, InputError
from clipmill.qa.judge import expects_motion, judge_frames
from clipmill.media import encode_mp4
from clipmill.spec import QASettings
from clipmill.qa.types import Detection, Expectations

app = typer.Typer()
app.command("check")(check)
app.command("calibrate-gate")(calibrate_gate)
runner = CliRunner()


class ScriptedDetector:
    """A dog in every examined frame; a person only in the first half."""

    source, random_weights = "scripted", False
    class_names = {0: "person", 16: "dog"}

    def detect(self, frames, *, stride=1, conf=0.25, imgsz=640, track=True):
        examined = list(range(0, len(frames), stride))
        dets = [Detection(f, "dog", 0.9, (10.0, 10.0, 40.0, 40.0), 1) for f in examined]
        dets += [Detection(f, "person", 0.9, (60.0, 10.0, 90.0, 60.0), 2) for f in examined if f < len(frames) // 2]
        return examined, dets


class ScriptedScorer:
    """Frames embed along axis 0 turning slowly to axis 1; the prompt embeds along axis 0."""

    model_name, source, random_weights = "ViT-B-32", "scripted", False

    def image_embeddings(self, images):
        angles = np.linspace(0, 0.3, len(images))
        return np.stack([np.cos(angles), np.sin(angles), np.zeros(len(images))], axis=1).astype(np.float32)

    def text_embedding(self, text):
        return np.array([1.0, 0.0, 0.0], np.float32)

    def image_text_similarity(self, image, text):
        return float(np.asarray(image).mean() / 255)


@pytest.fixture
def scripted_models(monkeypatch):
    monkeypatch.setattr(clipmill.models.detector, "load_detector", lambda weights, **kw: ScriptedDetector())
    monkeypatch.setattr(clipmill.models.clip, "load_clip_scorer", lambda name="ViT-B-32", pretrained=None, **kw: ScriptedScorer())


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    import cv2

    rng = np.random.default_rng(0)
    # Smoothed noise: texture that moves, without the grain the blur check would rightly fail.
    noise = rng.integers(0, 255, (64, 96 + 40, 3)).astype(np.float32)
    base = np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 40, 200).astype(np.uint8)
    frames = np.stack([base[:, 2 * t: 2 * t + 96] for t in range(20)])
    return encode_mp4(frames, tmp_path_factory.mktemp("video") / "clip.mp4", fps=10)


def test_check_prints_verdict_metrics_and_reasons_and_fails_on_a_vanishing_subject(scripted_models, video):
    result = runner.invoke(app, ["check", str(video), "--expect", "dog", "--expect", "person", "--stride", "1"])
    assert result.exit_code == 1, result.output
    assert "REJECTED" in result.output
    assert "person vanished at frame 10" in result.output
    assert "rejected by vanish: person vanished at frame 10" in result.output
    for metric in ("black_fraction", "frozen_fraction", "flicker", "motion", "presence:dog", "count:dog",
                   "vanish:person", "subject_similarity"):
        assert metric in result.output


def test_check_json_carries_every_check(scripted_models, video):
    result = runner.invoke(app, ["check", str(video), "--expect", "dog:1", "--prompt", "a dog runs", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["passed"] is True and data["expects_motion"] is True
    metrics = {c["metric"]: c for c in data["checks"]}
    assert metrics["text_video_clip_cosine"]["value"] == pytest.approx(np.mean(np.cos(np.linspace(0, 0.3, 8))), abs=1e-4)
    assert metrics["subject_similarity"]["value"] == pytest.approx(np.cos(0.3), abs=1e-4)
    assert data["examined_frames"] == 10 and data["expectations"]["enforced"]["classes"] == {"dog": 1}
    assert data["verdict"] == "accepted" and data["reasons"] == []
    assert {"flicker", "frozen", "black", "cut", "blur", "text", "presence", "count", "vanish", "consistency"} <= set(
        data["metrics"])


def test_check_json_names_the_check_behind_each_reason(scripted_models, video):
    result = runner.invoke(app, ["check", str(video), "--expect", "dog", "--expect", "person", "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["verdict"] == "rejected"
    assert data["reasons"] == [{"check": "vanish", "message": "person vanished at frame 10 (last seen at frame 8, "
                                                              "absent from the remaining 5 checked frames)"}]


def test_without_expect_the_prompts_plan_gives_the_expectations(scripted_models, video):
    result = runner.invoke(app, ["check", str(video), "--prompt", "a dog and a person", "--json"])
    data = json.loads(result.output)
    assert data["expectations"]["from"] == "prompt"
    assert data["expectations"]["enforced"]["classes"] == {"dog": 1}  # no home said: the person is the fewest
    assert data["expectations"]["enforced"]["at_least"] == {"person": 1}
    assert isinstance(data["expectations"]["unchecked"], list)


@pytest.mark.parametrize("args, message", [
    (["--stride", "0"], "--stride 0: must be at least 1"),
    (["--expect", "dog:two"], "whole number"),
    (["--expect", "unicorn"], "'unicorn' not among the detector's classes"),
    (["--interaction", "chase", "--expect", "dog"], "choose one of approach"),
    (["--interaction", "approach", "--expect", "dog"], "needs 2 expected subjects"),
])
def test_bad_arguments_end_with_one_line_and_exit_2(scripted_models, video, args, message):
    result = runner.invoke(app, ["check", str(video), *args])
    assert result.exit_code == 2 and message in result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not an escaped error
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_missing_or_broken_video_is_a_bad_input(scripted_models, tmp_path):
    result = runner.invoke(app, ["check", str(tmp_path / "none.mp4")])
    assert result.exit_code == 2 and "no such video file" in result.output
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_missing_detector_weights_are_a_bad_input(video):
    result = runner.invoke(app, ["check", str(video), "--detector", "/nowhere/yolov8n.pt"])
    assert result.exit_code == 2 and "not a local file" in result.output


def test_handover_subjects_follow_the_expect_order():
    floor = expectations_from_args(["person:2+", "cup"], None)
    assert floor.classes == {"cup": 1} and floor.at_least == {"person": 2}
    with pytest.raises(InputError, match="both as an exact count and as 'at least'"):
        expectations_from_args(["person:2", "person:1+"], None)
    with pytest.raises(InputError, match="a whole number, or one followed by"):
        expectations_from_args(["person:two+"], None)
    exp = expectations_from_args(["person:2", "cup"], "handover")
    assert exp.subjects == ("person", "person", "cup") and exp.classes == {"person": 2, "cup": 1}
    assert expectations_from_args(["dog"], "enter").subjects == ()
    with pytest.raises(InputError, match="at least 1"):
        expectations_from_args(["dog:0"], None)


def test_judge_relaxes_motion_only_when_no_action_is_asked_for():
    still = np.full((6, 32, 32, 3), 120, np.uint8)
    qa = QASettings()
    asked = judge_frames(still, qa=qa, expectations=Expectations(), text=None, detector=None, scorer=None)
    calm = judge_frames(still, qa=qa, expectations=Expectations(), text=None, detector=None, scorer=None,
                        expects_motion=False)
    assert not asked.verdict.passed and "barely moves" in asked.verdict.reasons[-1]
    motion = [c for c in calm.verdict.checks if c.metric == "motion"][0]
    assert motion.passed and motion.threshold is None
    assert expects_motion([], Expectations(interaction=None)) is False
    assert expects_motion(["A dog runs."], Expectations()) is True
    assert expects_motion([], Expectations(interaction="approach")) is True


def test_judge_enforces_the_spec_thresholds_for_drift_and_text_match():
    frames = np.random.default_rng(1).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    qa = QASettings(min_subject_similarity=0.99, min_text_video_cosine=0.99)
    verdict = judge_frames(frames, qa=qa, expectations=Expectations(), text="a dog", detector=None,
                           scorer=ScriptedScorer()).verdict
    failed = {c.metric for c in verdict.failures if c.stage == "consistency"}  # (the noise frames also fail blur)
    assert failed == {"subject_similarity", "text_video_clip_cosine"}


def test_judge_records_but_does_not_enforce_expectations_when_told():
    frames = np.random.default_rng(1).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    judged = judge_frames(frames, qa=QASettings(enforce_expectations=False, detect_stride=1),
                          expectations=Expectations(classes={"cat": 1}), text=None, detector=ScriptedDetector(),
                          scorer=None)
    presence = [c for c in judged.verdict.checks if c.metric == "presence:cat"][0]
    assert presence.passed and presence.reason.startswith("not enforced: cat never seen")
    assert judged.to_dict()["detected_labels"] == ["dog", "person"]


def write_pair(folder, name, shade, prompt):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (shade, shade, shade)).save(folder / f"{name}.png")
    (folder / f"{name}.txt").write_text(prompt)


def test_calibrate_gate_prints_scores_and_the_suggested_threshold(scripted_models, tmp_path):
    # The scripted scorer scores an image by its brightness: good pairs are bright.
    for i, shade in enumerate((200, 220)):
        write_pair(tmp_path / "good", f"g{i}", shade, "a bright picture")
    for i, shade in enumerate((20, 60)):
        write_pair(tmp_path / "bad", f"b{i}", shade, "a bright picture")
    result = runner.invoke(app, ["calibrate-gate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "good  0.7843  g0.png: a bright picture" in result.output
    threshold = (60 / 255 + 200 / 255) / 2
    assert f"suggested gate threshold for ViT-B-32 (scripted): {threshold:.4f}" in result.output
    assert "balanced accuracy 100.0%" in result.output


def test_calibrate_gate_explains_a_wrong_layout(scripted_models, tmp_path):
    result = runner.invoke(app, ["calibrate-gate", str(tmp_path)])
    assert result.exit_code == 2 and "good: missing" in result.output
    write_pair(tmp_path / "good", "g", 200, "x")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "lonely.png").write_bytes((tmp_path / "good" / "g.png").read_bytes())
    result = runner.invoke(app, ["calibrate-gate", str(tmp_path)])
    assert result.exit_code == 2 and "no prompt file lonely.txt" in result.output


@pytest.mark.timeout(60)
def test_calibrate_gate_refuses_a_fifo_among_the_images_in_one_line(scripted_models, tmp_path):
    """PIL's open() of a FIFO waits for a writer forever: the pair is refused before PIL sees it."""
    import os

    write_pair(tmp_path / "good", "g", 200, "a bright picture")
    write_pair(tmp_path / "bad", "b", 20, "a bright picture")
    os.mkfifo(tmp_path / "good" / "trap.png")
    (tmp_path / "good" / "trap.txt").write_text("a bright picture")
    result = runner.invoke(app, ["calibrate-gate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "trap.png: is a FIFO (named pipe), not a regular file" in result.output
    assert "Traceback" not in result.output
