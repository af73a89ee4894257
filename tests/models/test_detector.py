import os

import numpy as np
import pytest
import torch

import models.detector

from models.detector import load_detector, prepare_ultralytics_offline
from qa.types import Detection
from tests.models.helpers import random_frames


@pytest.fixture(scope="module")
def saved_random_yolo(tmp_path_factory) -> str:
    """A random yolov8n saved as .pt, as a real weights file would be."""
    path = tmp_path_factory.mktemp("yolo") / "random-yolov8n.pt"
    load_detector("random").model.save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def detector(saved_random_yolo):
    return load_detector(saved_random_yolo)


def test_offline_setup_provides_fonts(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPMILL_CACHE", str(tmp_path))
    monkeypatch.delenv("YOLO_CONFIG_DIR")
    config_dir = prepare_ultralytics_offline()
    assert config_dir == tmp_path / "ultralytics"
    assert os.environ["YOLO_CONFIG_DIR"] == str(config_dir)
    assert os.environ["YOLO_OFFLINE"] == "1"
    for font in ("Arial.ttf", "Arial.Unicode.ttf"):
        assert (config_dir / font).stat().st_size > 10_000


def test_weights_file_loads_with_coco_labels(detector, saved_random_yolo):
    assert detector.source == os.path.realpath(saved_random_yolo)
    assert detector.random_weights is True  # carried inside the .pt
    assert detector.class_names[0] == "person" and detector.class_names[16] == "dog"
    assert load_detector(saved_random_yolo) is detector


def test_detect_returns_examined_frames_and_detections(detector):
    frames = random_frames(5, height=96, width=128)
    indices, detections = detector.detect(frames, stride=2, conf=0.001, imgsz=128, track=False)
    assert indices == [0, 2, 4]
    labels = set(detector.class_names.values())
    for detection in detections:
        assert isinstance(detection, Detection)
        assert detection.frame in indices
        assert detection.label in labels
        assert detection.confidence >= 0.001
        assert len(detection.box) == 4 and all(isinstance(v, float) for v in detection.box)
        assert detection.track_id is None


def test_frames_reach_ultralytics_as_bgr(detector, monkeypatch):
    seen = []

    def fake_predict(images, **options):
        seen.extend(images)
        return []

    monkeypatch.setattr(detector.model, "predict", fake_predict)
    frames = np.zeros((3, 32, 32, 3), dtype=np.uint8)
    frames[..., 0] = 255  # pure red in RGB
    indices, detections = detector.detect(frames, stride=1, track=False)
    assert indices == [0, 1, 2] and detections == []
    assert len(seen) == 3
    assert all(image[..., 2].min() == 255 and image[..., 0].max() == 0 for image in seen)


class FakeBoxes:
    def __init__(self, ids):
        self.xyxy = torch.tensor([[1.0, 2.0, 30.0, 40.0]])
        self.conf = torch.tensor([0.9])
        self.cls = torch.tensor([16.0])
        self.id = None if ids is None else torch.tensor(ids)

    def __len__(self):
        return 1


class FakeResult:
    names = {16: "dog"}

    def __init__(self, ids=None):
        self.boxes = FakeBoxes(ids)


def test_tracks_restart_for_every_clip_and_ids_are_kept(detector, monkeypatch):
    monkeypatch.setattr(models.detector, "_require_lap", lambda: None)
    calls = []

    def fake_track(image, *, persist, **options):
        calls.append(persist)
        return [FakeResult(ids=[7.0])]

    monkeypatch.setattr(detector.model, "track", fake_track)
    frames = random_frames(6)
    indices, detections = detector.detect(frames, stride=2, track=True)
    assert calls == [False, True, True]
    assert indices == [0, 2, 4]
    assert detections[0] == Detection(frame=0, label="dog", confidence=pytest.approx(0.9), box=(1.0, 2.0, 30.0, 40.0), track_id=7)
    assert [d.frame for d in detections] == [0, 2, 4]
    detector.detect(frames, stride=3, track=True)
    assert calls[3:] == [False, True]


def test_tracking_gives_track_ids(detector):
    pytest.importorskip("lap")
    frames = random_frames(3, height=96, width=128)
    indices, detections = detector.detect(frames, conf=0.001, imgsz=128, track=True)
    assert indices == [0, 1, 2]
    assert all(isinstance(d.track_id, int) for d in detections)


def test_tracking_without_lap_says_what_to_install(detector):
    try:
        import lap  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("lap is installed")
    with pytest.raises(ImportError, match="lap"):
        detector.detect(random_frames(2), track=True)


def test_bad_arguments_are_refused(detector):
    with pytest.raises(ValueError, match="stride=0"):
        detector.detect(random_frames(2), stride=0)
    with pytest.raises(ValueError, match="shape"):
        detector.detect(random_frames(1)[0])


def test_hub_weight_names_fail_fast_offline():
    with pytest.raises(FileNotFoundError, match="not a local file"):
        load_detector("yolov8n.pt")
