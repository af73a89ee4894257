"""encode_published: one call gives a labelled, tagged (and, when configured, signed) MP4."""
import math
import shutil

import numpy as np
import pytest

from clipmill.media import read_metadata, read_video
from clipmill.publishing import (
    LabelError,
    PublishSettings,
    check_publish_settings,
    encode_published,
    find_label_font,
    read_aigc,
)

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


@pytest.fixture(scope="module", autouse=True)
def cjk_font():
    try:
        find_label_font("AI生成")
    except LabelError as error:
        pytest.skip(str(error))


def clip(count=40, height=128, width=224):
    return np.full((count, height, width, 3), 90, np.uint8)


def test_off_is_a_plain_encode(tmp_path):
    labels = encode_published(clip(), tmp_path / "a.mp4", fps=16, settings=PublishSettings())
    assert labels.status == "off" and labels.produce_id is None and labels.labelled_frames == 0
    assert read_aigc(tmp_path / "a.mp4") is None
    decoded, _ = read_video(tmp_path / "a.mp4")
    assert np.abs(decoded.astype(int) - 90).max() < 4


def test_on_labels_tags_and_reports(tmp_path):
    settings = PublishSettings(enabled=True, label={"seconds": 2}, metadata={"ContentProducer": "某某传媒"})
    labels = encode_published(clip(), tmp_path / "b.mp4", fps=16, settings=settings, produce_id="pid-7")
    assert labels.status == "explicit+implicit" and labels.produce_id == "pid-7" and not labels.c2pa_signed
    assert labels.labelled_frames == 32 and labels.label_seconds == 2.0
    assert labels.text_px >= math.ceil(0.05 * 128)
    assert read_aigc(tmp_path / "b.mp4") == labels.aigc and labels.aigc["ContentProducer"] == "某某传媒"
    decoded, _ = read_video(tmp_path / "b.mp4")
    bright = (decoded.min(axis=-1) > 200).any(axis=(1, 2))
    assert bright[:32].all() and not bright[32:].any()
    assert labels.to_dict()["aigc"]["ProduceID"] == "pid-7"


def test_a_new_produce_id_per_clip(tmp_path):
    settings = PublishSettings(enabled=True)
    first = encode_published(clip(8), tmp_path / "c.mp4", fps=8, settings=settings)
    second = encode_published(clip(8), tmp_path / "d.mp4", fps=8, settings=settings)
    assert first.produce_id and first.produce_id != second.produce_id
    assert read_aigc(tmp_path / "d.mp4")["ProduceID"] == second.produce_id


def test_with_c2pa(tmp_path):
    pytest.importorskip("c2pa", reason="c2pa-python not installed")
    pytest.importorskip("cryptography")
    from clipmill.publishing import clip_manifest, read_c2pa
    from tests.publishing.test_credentials import make_signing_files

    cert, key = make_signing_files(tmp_path)
    settings = PublishSettings(enabled=True, c2pa={"cert": cert, "key": key})
    manifest = clip_manifest(title="e.mp4", model="tiny", record={"job": "e"}, produce_id="pid-e")
    labels = encode_published(clip(16), tmp_path / "e.mp4", fps=8, settings=settings, produce_id="pid-e",
                              c2pa_manifest=manifest)
    assert labels.status == "explicit+implicit+c2pa" and labels.c2pa_signed
    found = read_c2pa(tmp_path / "e.mp4")
    assert found.assertion("org.clipmill.record")["produce_id"] == "pid-e"
    assert "AIGC" in read_metadata(tmp_path / "e.mp4")


def test_preflight_check(tmp_path):
    assert check_publish_settings(PublishSettings()) == []
    assert check_publish_settings(PublishSettings(enabled=True)) == []
    missing = PublishSettings(enabled=True, label={"font": tmp_path / "none.ttf"},
                              c2pa={"cert": tmp_path / "chain.pem", "key": tmp_path / "key.pem"})
    problems = check_publish_settings(missing)
    assert any("none.ttf not found" in p for p in problems)
    assert any(p.startswith("publish.c2pa.cert:") for p in problems) and any("publish.c2pa.key:" in p for p in problems)
    assert all("\n" not in p for p in problems)
