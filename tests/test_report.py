"""Reports people read: the HTML gallery escapes everything, tables and summaries add up."""
from pathlib import Path

from clipmill.report import render_gallery, render_markdown_summary, results_table, stage_seconds

HOSTILE = '<script>alert("x")</script>'


def report(tmp_path: Path) -> dict:
    clip = tmp_path / "b" / "clips" / "ok.mp4"
    poster = tmp_path / "b" / "jobs" / "bad" / "attempt-2" / "clip.png"
    check = {"stage": "temporal", "metric": "motion", "value": 0.1, "threshold": 0.2, "passed": False,
             "reason": f"clip barely moves {HOSTILE}"}
    return {
        "name": "b", "status": "finished", "counts": {"accepted": 1, "failed": 1, "pending": 0},
        "random_weights": True,
        "jobs": [
            {"key": "ok", "prompt": "a dog", "status": "accepted", "reason": None,
             "attempts": [{"number": 1, "seed": 0, "status": "accepted", "error": None,
                           "timings": {"generate": 2.0, "qa": 1.0},
                           "checks": [{**check, "passed": True, "value": 9.0, "reason": "moves"}]}],
             "artifacts": [{"kind": "clip", "path": str(clip)}]},
            {"key": "bad", "prompt": HOSTILE, "status": "failed", "reason": "motion",
             "attempts": [{"number": 1, "seed": 0, "status": "failed_qa", "error": None, "timings": {"generate": 3.0},
                           "checks": [check]},
                          {"number": 2, "seed": 7, "status": "failed_qa", "error": None, "timings": {"generate": 1.5},
                           "checks": [{**check, "value": None}]}],
             "artifacts": [{"kind": "attempt_poster", "path": str(poster)}]},
        ],
    }


def test_gallery_escapes_prompts_and_reasons_and_links_relative_files(tmp_path):
    page = render_gallery(report(tmp_path), base_dir=tmp_path / "b")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'src="clips/ok.mp4"' in page and 'src="jobs/bad/attempt-2/clip.png"' in page
    assert "Random-weight models" in page
    assert "pending" not in page  # zero counts stay out
    assert "n/a" in page  # a value the database could not store (NaN) is shown, not crashed on


def test_gallery_in_a_store_links_its_own_objects_relatively_and_others_by_url():
    store = "s3://bucket/clipmill/b"
    data = {"name": "b", "counts": {"accepted": 2}, "jobs": [
        {"key": "ok", "prompt": "a dog", "status": "accepted", "attempts": [],
         "artifacts": [{"kind": "clip", "path": f"{store}/clips/ok.mp4"},
                       {"kind": "poster", "path": f"{store}/clips/ok.png"}]},
        {"key": "old", "prompt": "a cat", "status": "accepted", "attempts": [],
         "artifacts": [{"kind": "clip", "path": "s3://bucket/clipmill/b-archive/clips/old.mp4"}]},
    ]}
    page = render_gallery(data, base_dir=store + "/")
    assert 'src="clips/ok.mp4" poster="clips/ok.png"' in page
    assert 'src="s3://bucket/clipmill/b-archive/clips/old.mp4"' in page  # a neighbouring prefix is not "under" it


def test_results_table_has_a_row_per_job_with_the_last_reason(tmp_path):
    rows = results_table(report(tmp_path))
    assert [(r["job"], r["status"], r["attempts"]) for r in rows] == [("ok", "accepted", 1), ("bad", "failed", 2)]
    assert rows[0]["reason"] == "" and "barely moves" in rows[1]["reason"]


def test_summary_counts_yield_reasons_and_time(tmp_path):
    data = report(tmp_path)
    text = render_markdown_summary(data, gallery=tmp_path / "b" / "index.html")
    assert "yield: 1 accepted of 3 attempts" in text
    assert "| clip barely moves" in text and "Random-weight" in text
    assert "<script>" not in text
    assert stage_seconds(data) == {"generate": 6.5, "qa": 1.0}
    assert "generation seconds per accepted clip: 6.5" in text
