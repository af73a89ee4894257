"""Reports people read: the HTML gallery escapes everything, tables and summaries add up."""
from pathlib import Path

from clipmill.report import (
    failure_causes,
    render_gallery,
    render_markdown_summary,
    results_table,
    stage_seconds,
    yield_by,
)

HOSTILE = '<script>alert("x")</script>'


def report(tmp_path: Path) -> dict:
    clip = tmp_path / "b" / "clips" / "ok.mp4"
    poster = tmp_path / "b" / "jobs" / "bad" / "attempt-2" / "clip.png"
    check = {"stage": "temporal", "kind": "motion", "subject": None, "metric": "motion", "value": 0.1, "threshold": 0.2, "passed": False,
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
    # Grouped by cause, not by the wording of each message.
    assert "| too little motion | 1 |" in text and "Random-weight" in text
    assert "<script>" not in text
    assert stage_seconds(data) == {"generate": 6.5, "qa": 1.0}
    assert "generation seconds per accepted clip: 6.5" in text


def test_causes_name_what_to_fix_whatever_the_message_says():
    def job(status, reason=None, checks=()):
        return {"status": status, "reason": reason, "attempts": [{"checks": list(checks)}] if checks else []}

    def check(stage, kind, subject, passed, reason):  # as storage.reports gives it
        return {"stage": stage, "kind": kind, "subject": subject, "metric": f"{kind}:{subject}" if subject else kind,
                "passed": passed, "reason": reason}

    failed = [check("interaction", "vanish", "dog", False, "dog vanished at 37"),
              check("interaction", "vanish", "cat", False, "cat vanished at 12"),
              check("seam", "seam_ratio", None, False, "seam at 48"),
              check("temporal", "flicker", None, True, "fine")]
    assert failure_causes(job("failed", "x", failed)) == ["subject vanished", "visible seam between segments"]
    assert failure_causes(job("rejected", "similarity 0.1 below 0.25")) == ["image and prompt do not match (input gate)"]
    assert failure_causes(job("error", "photo.jpg: not an image")) == ["bad input"]
    assert failure_causes(job("error", "OutOfMemoryError: CUDA out of memory")) == ["error: OutOfMemoryError"]


def test_summary_gives_yield_per_template_and_keyword_source():
    jobs = [{"key": f"k{i}", "status": status, "params": {"template": template}, "keyword_source": source,
             "attempts": [], "reason": None}
            for i, (status, template, source) in enumerate([
                ("accepted", "product-showcase", "feed.rss"), ("failed", "product-showcase", "feed.rss"),
                ("accepted", "trending-short", "api.json")])]
    data = {"name": "t", "counts": {"accepted": 2, "failed": 1}, "jobs": jobs}
    assert yield_by(data, "template") == {"product-showcase": (1, 2), "trending-short": (1, 1)}
    text = render_markdown_summary(data)
    assert "| product-showcase | 1 | 2 |" in text and "| api.json | 1 | 1 |" in text


def test_gallery_shows_retry_decisions_beside_the_checks(tmp_path):
    data = report(tmp_path)
    data["jobs"][1]["attempts"][0]["events"] = [{"kind": "retry", "action": "regenerate",
                                                 "reason": "retry 2 of 3 with seed 0 -> 7", "details": {}}]
    assert "retry/regenerate — retry 2 of 3 with seed 0 -&gt; 7" in render_gallery(data, base_dir=tmp_path / "b")


def test_summary_text_from_a_spec_or_feed_cannot_become_markup():
    data = {"name": "b", "counts": {"failed": 1}, "jobs": [
        {"key": "k", "status": "failed", "reason": None, "params": {"template": "![t](//evil.example/x.png)"},
         "keyword_source": "[click](javascript:alert(1))", "attempts": []}]}
    text = render_markdown_summary(data, gallery="/runs/b/index.html`<img src=x>")
    assert "](" not in text.replace("\\](", "") and "<img" not in text
    assert "\\!\\[t\\]\\(//evil.example/x.png\\)" in text
