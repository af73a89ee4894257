"""The batch's publish manifest: rows from plans and files, CSV and JSON that read back."""
import csv
import hashlib
import io
import json
import shutil

import numpy as np
import pytest

from clipmill.media import encode_mp4
from clipmill.publishing import PublishRow, hashtags, publish_manifest, title_and_description, write_publish_manifest

ZH_KEYWORD_PLAN = {"source_text": "无线耳机放在白色展台上，位于画面中央。镜头缓缓环绕产品……", "language": "zh",
                   "actions": ["无线耳机放在白色展台上"], "location": "简洁的摄影棚，纯白无缝背景"}
EN_PROMPT_PLAN = {"source_text": "A man walks a dog through a park at sunset. The dog runs ahead.", "language": "en",
                  "actions": ["A man walks a dog at sunset"], "location": "a park"}


def row(**overrides):
    values = dict(job_id="earbuds", file="clips/earbuds.mp4", poster="clips/earbuds.png", title="无线耳机",
                  description="无线耳机放在白色展台上。", hashtags=("#无线耳机", "#好物推荐"), duration_s=2.0, width=832,
                  height=480, size_bytes=12345, sha256="ab" * 32, label_status="explicit+implicit",
                  produce_id="0f" * 16)
    return PublishRow(**{**values, **overrides})


def test_titles_and_descriptions_from_the_plan():
    title, description = title_and_description(ZH_KEYWORD_PLAN, "无线耳机", labelled=True)
    assert title == "无线耳机"
    assert description == "无线耳机放在白色展台上。场景：简洁的摄影棚，纯白无缝背景。（本视频由人工智能生成）"
    title, description = title_and_description(EN_PROMPT_PLAN)
    assert title == "A man walks a dog through a park at sunset"
    assert description == EN_PROMPT_PLAN["source_text"]
    _, labelled = title_and_description(EN_PROMPT_PLAN, labelled=True)
    assert labelled.endswith("runs ahead. (This video is AI-generated.)")
    long_title, _ = title_and_description({"source_text": "字" * 80, "language": "zh"})
    assert len(long_title) == 30 and long_title.endswith("…")


def test_hashtags_from_keyword_and_template():
    assert hashtags("无线耳机", "product-showcase", language="zh", labelled=True) == ["#无线耳机", "#好物推荐", "#产品展示", "#AI生成"]
    assert hashtags("wireless earbuds", "trending-short", language="en") == ["#WirelessEarbuds", "#Trending", "#Shorts"]
    assert hashtags("#sale, now!", "my-own-template") == ["#SaleNow", "#MyOwnTemplate"]
    assert hashtags(None, None) == [] and hashtags("Trending", "trending-short") == ["#Trending", "#Shorts"]


def test_csv_and_json_round_trip():
    rows = [row(), row(job_id="walk", title='He said "go", then left', hashtags=(), label_status="off", produce_id="")]
    csv_text, json_text = publish_manifest(rows + [row(job_id="as-dict").to_dict()], batch="demo-2026-12-01")
    parsed = list(csv.DictReader(io.StringIO(csv_text)))
    assert [r["job_id"] for r in parsed] == ["earbuds", "walk", "as-dict"]
    assert parsed[0]["hashtags"] == "#无线耳机 #好物推荐" and parsed[0]["produce_id"] == "0f" * 16
    assert parsed[1]["title"] == 'He said "go", then left' and parsed[1]["label_status"] == "off"
    assert list(parsed[0]) == ["job_id", "file", "poster", "title", "description", "hashtags", "duration_s", "width",
                               "height", "size_bytes", "sha256", "label_status", "produce_id"]
    document = json.loads(json_text)
    assert document["batch"] == "demo-2026-12-01" and document["count"] == 3
    assert document["clips"][0] == row().to_dict() and document["clips"][0]["hashtags"] == ["#无线耳机", "#好物推荐"]
    assert "无线耳机" in json_text  # UTF-8, not \\u escapes


def test_rows_are_checked():
    with pytest.raises(ValueError, match="label_status"):
        row(label_status="yes")
    with pytest.raises(ValueError, match="ProduceID"):
        row(produce_id="")
    with pytest.raises(TypeError):
        publish_manifest([{"job_id": "x"}])


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")
def test_row_from_an_encoded_clip_and_files_on_disk(tmp_path):
    frames = np.random.default_rng(2).integers(0, 255, (32, 48, 64, 3), dtype=np.uint8)
    clip = encode_mp4(frames, tmp_path / "earbuds.mp4", fps=16)
    made = PublishRow.from_clip(clip, job_id="earbuds", plan=ZH_KEYWORD_PLAN, keyword="无线耳机",
                                template="product-showcase", poster=tmp_path / "earbuds.png",
                                label_status="explicit+implicit", produce_id="pid", file="s3://bucket/clips/earbuds.mp4")
    assert (made.duration_s, made.width, made.height) == (2.0, 64, 48)
    assert made.size_bytes == clip.stat().st_size and made.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert made.file == "s3://bucket/clips/earbuds.mp4" and made.poster.endswith("earbuds.png")
    assert made.title == "无线耳机" and "#AI生成" in made.hashtags and made.description.endswith("（本视频由人工智能生成）")
    csv_path, json_path = write_publish_manifest([made], tmp_path / "report", batch="b")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read the Chinese right
    assert json.loads(json_path.read_text(encoding="utf-8"))["clips"][0]["sha256"] == made.sha256
