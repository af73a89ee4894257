from importlib.util import find_spec
import os

import numpy as np
import pytest
import torch

import clipmill.models.detector

from clipmill.models.detector import load_detector, prepare_ultralytics_offline
from clipmill.models.trust import file_sha256
from clipmill.qa.types import Detection
from tests.models.helpers import random_frames


@pytest.fixture(scope="module")
def saved_random_yolo(tmp_path_factory) -> str:
    """A random yolov8n saved as .pt, as a real weights file would be."""
    path = tmp_path_factory.mktemp("yolo") / "random-yolov8n.pt"
    load_detector("random").model.save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def pins(saved_random_yolo) -> dict[str, str]:
    """A .pt file loads only when pinned (models/trust.py): the pin a spec would carry."""
    return {saved_random_yolo: file_sha256(saved_random_yolo)}


@pytest.fixture(scope="module")
def detector(saved_random_yolo, pins):
    return load_detector(saved_random_yolo, trusted=pins)


def test_offline_setup_provides_fonts(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPMILL_CACHE", str(tmp_path))
    monkeypatch.delenv("YOLO_CONFIG_DIR")
    config_dir = prepare_ultralytics_offline()
    assert config_dir == tmp_path / "ultralytics"
    assert os.environ["YOLO_CONFIG_DIR"] == str(config_dir)
    assert os.environ["YOLO_OFFLINE"] == "1"
    for font in ("Arial.ttf", "Arial.Unicode.ttf"):
        assert (config_dir / font).stat().st_size > 10_000


def test_weights_file_loads_with_coco_labels(detector, saved_random_yolo, pins):
    assert detector.source == os.path.realpath(saved_random_yolo)
    assert detector.random_weights is True  # carried inside the .pt
    assert detector.class_names[0] == "person" and detector.class_names[16] == "dog"
    assert load_detector(saved_random_yolo, trusted=pins) is detector


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


def scripted_results(boxes_per_frame, names={0: "person", 16: "dog"}):
    """ultralytics Results with the given (x1, y1, x2, y2, conf, cls) rows, one per frame."""
    from ultralytics.engine.results import Results

    image = np.zeros((240, 320, 3), dtype=np.uint8)
    return [Results(image, path=f"image{i}.jpg", names=names,
                    boxes=torch.tensor(rows, dtype=torch.float32).reshape(-1, 6))
            for i, rows in enumerate(boxes_per_frame)]


def test_tracks_link_moving_boxes_and_restart_for_every_clip(detector, monkeypatch):
    # A dog walking right and a person standing still, in 6 frames, predicted in batches.
    frames_boxes = [[(10 + 5 * t, 50, 60 + 5 * t, 100, 0.9, 16), (200, 40, 240, 160, 0.8, 0)] for t in range(6)]
    batches = []

    def fake_predict(images, **options):
        start = sum(batches)
        batches.append(len(images))
        return scripted_results(frames_boxes[start:start + len(images)])

    monkeypatch.setattr(detector.model, "predict", fake_predict)
    monkeypatch.setattr(clipmill.models.detector, "_PREDICT_BATCH", 4)
    indices, detections = detector.detect(random_frames(6), stride=1, track=True)
    assert indices == list(range(6)) and batches == [4, 2]
    ids = {label: {d.track_id for d in detections if d.label == label} for label in ("dog", "person")}
    assert len(ids["dog"]) == 1 and len(ids["person"]) == 1 and ids["dog"] != ids["person"]
    assert sorted(ids["dog"] | ids["person"]) == [1, 2]
    dog = [d for d in detections if d.label == "dog"]
    assert [d.frame for d in dog] == list(range(6))
    assert dog[3].box == pytest.approx((25.0, 50.0, 75.0, 100.0), abs=2.0)

    batches.clear()
    _, again = detector.detect(random_frames(6), stride=1, track=True)
    assert sorted({d.track_id for d in again}) == [1, 2]  # a new clip starts its ids afresh


def test_a_box_seen_in_one_frame_only_does_not_become_a_track(detector, monkeypatch):
    frames_boxes = [[(10, 10, 50, 50, 0.9, 16)], [], [], []]
    monkeypatch.setattr(detector.model, "predict", lambda images, **o: scripted_results(frames_boxes[:len(images)]))
    _, detections = detector.detect(random_frames(4), stride=1, track=True)
    assert [d.frame for d in detections] == [0]  # ByteTrack confirms first-frame tracks at once


def test_tracking_gives_track_ids(detector):
    pytest.importorskip("lap")
    frames = random_frames(3, height=96, width=128)
    indices, detections = detector.detect(frames, conf=0.001, imgsz=128, track=True)
    assert indices == [0, 1, 2]
    assert all(isinstance(d.track_id, int) for d in detections)


def test_tracking_without_lap_says_what_to_install(detector, monkeypatch):
    import clipmill.models.detector as detector_module

    # lap is a dependency; pretend an install lost it.
    monkeypatch.setattr(detector_module, "find_spec", lambda name: None if name == "lap" else find_spec(name))
    with pytest.raises(ImportError, match="pip install 'lap"):
        detector.detect(random_frames(2), track=True)


def test_bad_arguments_are_refused(detector):
    with pytest.raises(ValueError, match="stride=0"):
        detector.detect(random_frames(2), stride=0)
    with pytest.raises(ValueError, match="shape"):
        detector.detect(random_frames(1)[0])


def test_hub_weight_names_fail_fast_offline():
    with pytest.raises(FileNotFoundError, match="not a local file"):
        load_detector("yolov8n.pt")


def test_detection_leaves_the_process_thread_count_as_it_found_it(saved_random_yolo):
    """ultralytics sets torch to one thread while it builds its predictor; the detector gives
    back what the process had (OMP_NUM_THREADS on a host with a worker per GPU)."""
    fresh = clipmill.models.detector._build(saved_random_yolo, "cpu")  # no predictor built yet
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # neither 1 nor this machine's core count
    try:
        fresh.detect(random_frames(2, 64, 64), stride=1, imgsz=64, track=False)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)
