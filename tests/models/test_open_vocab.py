"""The open-vocabulary detector loader, with random weights: a YOLOE built from ultralytics' own
yaml, saved as a weights file and loaded back through the same code, its classes set from a shot
plan's subject nouns through a real (random-weight) text encoder. Its detections mean nothing;
the test is that the names reach the model and come back as labels."""
from pathlib import Path

import pytest
import yaml

from clipmill.planning import plan_shot
from clipmill.models.clip import load_clip_scorer
from clipmill.models.open_vocab import OpenVocabDetector, OpenVocabUnavailable, load_open_vocab_detector
from clipmill.models.trust import UntrustedWeightsError, file_sha256
from tests.models.helpers import random_frames


def yoloe_yaml(folder: Path, text_model: str | None) -> str:
    """ultralytics' yoloe-v8 yaml at scale n; `text_model` names the weights' text embedding space."""
    import ultralytics

    config = yaml.safe_load((Path(ultralytics.__file__).parent / "cfg/models/v8/yoloe-v8.yaml").read_text())
    if text_model:
        config["text_model"] = text_model
    path = folder / "yoloe-v8n.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture(scope="module")
def saved_yoloe(tmp_path_factory) -> str:
    """A random YOLOE whose classes are CLIP ViT-B/32 text embeddings, saved as a .pt."""
    folder = tmp_path_factory.mktemp("yoloe")
    built = load_open_vocab_detector(yoloe_yaml(folder, "clip:ViT-B/32"), clip_scorer=random_clip)
    assert built.random_weights and built.text_model == "clip:ViT-B/32"
    path = folder / "random-yoloe-v8n.pt"
    built.model.save(str(path))
    return str(path)


def random_clip():
    return load_clip_scorer("ViT-B-32", "random", device="cpu")


def test_saved_weights_load_back_and_detect_the_plan_nouns(saved_yoloe):
    plan = plan_shot("White sneakers and a bottle of perfume on a marble table, the camera slowly orbits")
    names = list(plan.expectations.open_vocabulary)
    assert "perfume" in names and "sneakers" in names
    detector = load_open_vocab_detector(saved_yoloe, clip_scorer=random_clip,
                                        trusted={saved_yoloe: file_sha256(saved_yoloe)})
    assert isinstance(detector, OpenVocabDetector)
    assert detector.random_weights is True  # carried inside the .pt, and the text encoder is random too
    examined, detections = detector.detect_names(random_frames(4, height=96, width=128), names, stride=2,
                                                 conf=0.001, track=False)
    assert examined == [0, 2]
    assert list(detector.class_names.values()) == names
    assert {d.label for d in detections} <= set(names)
    _, again = detector.detect_names(random_frames(2, height=96, width=128), ["earbuds"], conf=0.001, track=False)
    assert {d.label for d in again} <= {"earbuds"} and list(detector.class_names.values()) == ["earbuds"]


def test_unpinned_weights_are_refused(saved_yoloe):
    with pytest.raises(UntrustedWeightsError):
        load_open_vocab_detector(saved_yoloe, clip_scorer=random_clip)


def test_weights_embedded_with_mobileclip_need_a_local_text_encoder(tmp_path):
    with pytest.raises(OpenVocabUnavailable, match="no local text encoder is configured"):
        load_open_vocab_detector(yoloe_yaml(tmp_path, None))  # yoloe's default: mobileclip:blt
    with pytest.raises(OpenVocabUnavailable, match="not a local file"):
        load_open_vocab_detector(yoloe_yaml(tmp_path, None), text_encoder_file=str(tmp_path / "mobileclip_blt.ts"))


def test_a_clip_model_of_another_space_is_refused(tmp_path):
    def other_clip():
        class Scorer:
            model_name, random_weights = "ViT-L-14", False
        return Scorer()

    with pytest.raises(OpenVocabUnavailable, match="another space"):
        load_open_vocab_detector(yoloe_yaml(tmp_path, "clip:ViT-B/32"), clip_scorer=other_clip)


def test_missing_weights_file_is_not_downloaded(tmp_path):
    with pytest.raises(FileNotFoundError, match="never lets ultralytics download"):
        load_open_vocab_detector(str(tmp_path / "yoloe-11s-seg.pt"))
