"""`plan`, `prep` and `trending` through typer's CliRunner, and the subject crop of the
prepare-image task (with a stand-in detector: judgement of boxes, not of YOLO)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from clipmill.cli import inputs
from clipmill.spec import parse_spec
from clipmill.planning import plan_shot
from clipmill.qa.types import Detection, Expectations

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    app.command()(inputs.plan)
    app.command()(inputs.prep)
    app.command()(inputs.trending)
    return app


def test_every_command_has_help(app):
    for name, words in (("plan", "shot plan"), ("prep", "reference image"), ("trending", "--dry-run")):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and words in result.output


def test_plan_prints_the_structure(app):
    result = runner.invoke(app, ["plan", "A boy throws a yellow frisbee to a brown dog in a sunny park"])
    assert result.exit_code == 0, result.output
    assert "location:      a sunny park" in result.output
    # a park may have others in it: the boy is the fewest people in view
    assert "QA expects:    frisbee x1, dog x1, person (any number); interaction: handover" in result.output


def test_plan_json_with_a_template_and_segments(app):
    result = runner.invoke(app, ["plan", "蓝牙耳机", "--template", "product-showcase", "--segments", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["language"] == "zh" and len(data["segment_prompts"]) == 2
    assert data["prompt"].startswith("蓝牙耳机放在白色展台上")


def test_plan_flags_a_vague_prompt(app):
    result = runner.invoke(app, ["plan", "some animals doing something funny"])
    assert result.exit_code == 0 and "warning: vague prompt" in result.output


def test_plan_unknown_template_exits_2_in_one_line(app):
    result = runner.invoke(app, ["plan", "shoes", "--template", "viral"])
    assert result.exit_code == 2
    assert "unknown template 'viral'" in result.output and "Traceback" not in result.output


def test_plan_loads_a_template_folder(app, tmp_path):
    (tmp_path / "brand.yaml").write_text(
        "name: brand-unboxing\ntext:\n  en: A woman unboxes {keyword} on a {surface}.\n"
        "defaults:\n  en:\n    surface: wooden table\n", encoding="utf-8")
    result = runner.invoke(app, ["plan", "smart watch", "-t", "brand-unboxing", "--templates", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["source_text"] == "A woman unboxes smart watch on a wooden table."


def test_bad_template_folder_is_refused(app, tmp_path):
    (tmp_path / "bad.yaml").write_text("name: broken\ntext:\n  en: no keyword here\n", encoding="utf-8")
    result = runner.invoke(app, ["plan", "x", "--templates", str(tmp_path)])
    assert result.exit_code == 2 and "has no {keyword}" in result.output


def _photo(path: Path, size=(200, 120)) -> Path:
    gradient = np.linspace(0, 255, size[0] * size[1]).astype(np.uint8).reshape(size[1], size[0])
    Image.fromarray(np.stack([gradient] * 3, -1)).save(path)
    return path


def test_prep_writes_the_png(app, tmp_path):
    out = tmp_path / "out.png"
    result = runner.invoke(app, ["prep", str(_photo(tmp_path / "p.jpg")), "-o", str(out), "--size", "64x32"])
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size == (64, 32) and image.mode == "RGB"


@pytest.mark.parametrize("content, size, message", [
    (b"\x89PNG\r\n\x1a\n not really", "64x32", "broken.png"),
    (None, "64by32", "WIDTHxHEIGHT"),
    (None, "65x32", "multiple"),
])
def test_prep_bad_input_exits_2_without_traceback(app, tmp_path, content, size, message):
    source = tmp_path / "broken.png"
    if content is None:
        _photo(source)
    else:
        source.write_bytes(content)
    result = runner.invoke(app, ["prep", str(source), "-o", str(tmp_path / "o.png"), "--size", size])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- subject crop ---------------------------------------------------------------------------


class _FakeDetector:
    def __init__(self, detections):
        self.detections, self.seen_shapes = detections, []

    def detect(self, frames, **options):
        self.seen_shapes.append(frames.shape)
        return [0], self.detections


def _use_detector(monkeypatch, detections) -> _FakeDetector:
    fake = _FakeDetector(detections)
    import clipmill.models.detector

    monkeypatch.setattr(clipmill.models.detector, "load_detector", lambda weights, **_: fake)
    return fake


def test_subject_box_prefers_the_plans_class_then_the_strongest(monkeypatch):
    from clipmill.subject import choose_subject_box, plan_subject_classes

    person = Detection(0, "person", 0.9, (0, 0, 10, 10))
    big_dog = Detection(0, "dog", 0.5, (0, 0, 100, 100))
    small_dog = Detection(0, "dog", 0.9, (0, 0, 20, 20))
    expectations = Expectations(classes={"person": 1, "dog": 1}, subjects=("dog", "person"))
    assert plan_subject_classes(expectations) == ["dog", "person"]
    assert choose_subject_box([person, small_dog, big_dog], ["dog", "person"])[0] == (0, 0, 100, 100)
    assert choose_subject_box([person], ["cat"]) == ((0, 0, 10, 10), "largest detection: person (0.90)")
    assert choose_subject_box([], ["cat"]) == (None, "nothing detected")


def _job(tmp_path, image):
    spec = parse_spec({"name": "b", "defaults": {"width": 64, "height": 64, "crop": "subject"},
                       "jobs": [{"id": "j", "prompt": "a dog", "image": str(image)}]})
    return spec.jobs[0]


def test_prepare_task_centres_on_the_detected_subject(tmp_path, monkeypatch):
    from clipmill.tasks.clip import prepare_input_image

    # 1920x480 photo, the "dog" in the right quarter: box in detector pixels (640x160).
    pixels = np.zeros((480, 1920, 3), np.uint8)
    pixels[:, 1440:] = 255
    source = tmp_path / "wide.png"
    Image.fromarray(pixels).save(source)
    fake = _use_detector(monkeypatch, [Detection(0, "dog", 0.8, (480.0, 0.0, 640.0, 160.0))])
    plan = plan_shot("a dog")
    assert plan.expectations.classes == {"dog": 1}
    result = prepare_input_image.fn(_job(tmp_path, source), tmp_path / "out.png", "random", plan)
    assert fake.seen_shapes == [(1, 160, 640, 3)]  # detection runs on a reduced copy
    assert list(result.subject_box) == [1440.0, 0.0, 1920.0, 480.0]  # scaled back to the photo's pixels
    with Image.open(tmp_path / "out.png") as image:
        assert np.asarray(image).mean() > 250  # the bright right quarter; a centre crop is all dark


def test_prepare_task_falls_back_to_the_centre(tmp_path, monkeypatch, caplog):
    caplog.set_level("INFO", logger="clipmill.tasks.clip")
    from clipmill.tasks.clip import prepare_input_image

    source = _photo(tmp_path / "p.png")
    _use_detector(monkeypatch, [])
    result = prepare_input_image.fn(_job(tmp_path, source), tmp_path / "out.png", "random", None)
    assert result.subject_box is None and result.subject_note == "nothing detected"
    assert "fell back to the centre: nothing detected" in caplog.text
    result = prepare_input_image.fn(_job(tmp_path, source), tmp_path / "out2.png", None, None)
    assert result.subject_note == "no detector given"


# --- trending ---------------------------------------------------------------------------------


def test_trending_dry_run_shows_jobs_and_records_nothing(app, tmp_path, monkeypatch):
    monkeypatch.delenv("CLIPMILL_DATABASE_URL", raising=False)
    words = tmp_path / "words.txt"
    words.write_text("Air Fryer\nair fryer\nToy Gun\n露营装备\n", encoding="utf-8")
    blocklist = tmp_path / "block.txt"
    blocklist.write_text("gun\n", encoding="utf-8")
    result = runner.invoke(app, ["trending", "--source", str(words), "--source", str(tmp_path / "missing.txt"),
                                 "-t", "trending-short", "-t", "product-showcase", "--dry-run", "--json",
                                 "--blocklist", str(blocklist), "--run-root", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["status"] for d in data["decisions"]] == ["new", "duplicate", "blocked", "new"]
    assert [(j["keyword"], j["template"]) for j in data["jobs"]] == [
        ("Air Fryer", "trending-short"), ("Air Fryer", "product-showcase"),
        ("露营装备", "trending-short"), ("露营装备", "product-showcase")]
    assert "no such file" in next(iter(data["failed_sources"].values()))
    assert not (tmp_path / "runs" / "trending").exists()


def test_trending_refuses_a_file_url(app):
    result = runner.invoke(app, ["trending", "--source", "file:///etc/passwd", "--dry-run"])
    assert result.exit_code == 2 and "not accepted" in result.output


def test_plan_shows_absent_classes_camera_and_notes(app):
    result = CliRunner().invoke(app, ["plan", "No people, just a red sports car on a coastal road, slow camera pan"])
    assert result.exit_code == 0, result.output
    assert "absent:        person" in result.output and "camera:        slow camera pan" in result.output
