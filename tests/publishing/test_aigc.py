"""The implicit label: GB 45438-2025's AIGC object written as an MP4 tag and read back by ffprobe."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from clipmill.media import encode_mp4, probe, read_metadata
from clipmill.publishing import AIGC_FIELDS, PublishSettings, aigc_metadata, aigc_tags, new_produce_id, read_aigc

needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def frames(count=9, height=64, width=96):
    return np.random.default_rng(0).integers(0, 255, (count, height, width, 3), dtype=np.uint8)


def test_the_standards_fields_in_order():
    settings = PublishSettings(enabled=True, metadata={"ContentProducer": "某某传媒", "ReservedCode1": "x1"})
    aigc = aigc_metadata(settings, "abc123", propagate_id="p-9")
    assert tuple(aigc) == AIGC_FIELDS
    assert aigc == {"Label": "1", "ContentProducer": "某某传媒", "ProduceID": "abc123", "ReservedCode1": "x1",
                    "ContentPropagator": "", "PropagateID": "p-9", "ReservedCode2": ""}
    assert all(isinstance(v, str) for v in aigc.values())
    with pytest.raises(ValueError, match="ProduceID"):
        aigc_metadata(settings, "")


def test_produce_ids_are_unique():
    ids = {new_produce_id() for _ in range(5000)}
    assert len(ids) == 5000 and all(len(i) == 32 and i.isalnum() for i in ids)


def test_tag_is_compact_utf8_json():
    aigc = aigc_metadata(PublishSettings(metadata={"content_producer": "传媒"}), "id1")
    tag = aigc_tags(aigc)["AIGC"]
    assert "传媒" in tag and " " not in tag and json.loads(tag) == aigc
    with pytest.raises(ValueError, match="not AIGC fields"):
        aigc_tags({**aigc, "Extra": "1"})


@needs_ffprobe
def test_written_into_the_mp4_and_read_back_by_ffprobe(tmp_path):
    aigc = aigc_metadata(PublishSettings(enabled=True, metadata={"ContentProducer": "某某传媒有限公司"}),
                         new_produce_id())
    out = encode_mp4(frames(), tmp_path / "clip.mp4", fps=8, metadata=aigc_tags(aigc))
    # ffprobe itself, as a platform's checker would run it
    shown = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=AIGC", "-of", "json", str(out)],
                           capture_output=True, text=True, check=True).stdout
    assert json.loads(json.loads(shown)["format"]["tags"]["AIGC"]) == aigc
    assert read_aigc(out) == aigc
    info = probe(out)
    assert (info.codec, info.pix_fmt, info.frames) == ("h264", "yuv420p", 9)
    head = out.read_bytes()[:8192]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat")), \
        "+faststart lost"


@needs_ffprobe
def test_without_metadata_nothing_is_added(tmp_path):
    out = encode_mp4(frames(), tmp_path / "plain.mp4", fps=8)
    assert "AIGC" not in read_metadata(out) and read_aigc(out) is None


@needs_ffprobe
def test_several_tags_and_bad_keys(tmp_path):
    out = encode_mp4(frames(), tmp_path / "tags.mp4", fps=8, metadata={"AIGC": "{}", "comment": "a=b c"})
    tags = read_metadata(out)
    assert tags["AIGC"] == "{}" and tags["comment"] == "a=b c"
    for bad in ({"a b": "1"}, {"-y": "1"}, {"k": 1}, {"k": "a\0b"}):
        with pytest.raises(ValueError):
            encode_mp4(frames(), tmp_path / "bad.mp4", fps=8, metadata=bad)
    assert not (tmp_path / "bad.mp4").exists()
