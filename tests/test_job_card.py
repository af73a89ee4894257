"""A job's dashboard card and the batch's contact sheet: pure functions of the job report; the
batch state's name and the summary a failed batch carries; where a card's links point."""
from clipmill.job_card import job_files, render_contact_sheet, render_job_card
from clipmill.outcomes import BatchEnded
from clipmill.storage.config import RunConfig


def _job(key, status, reason=None, attempts=(), artifacts=(), accepted=None):
    return {"key": key, "status": status, "reason": reason, "accepted_attempt": accepted,
            "attempts": [{"number": n, "seed": 100 + n} for n in attempts],
            "artifacts": [{"kind": k, "path": p, "attempt": a} for k, p, a in artifacts]}


ACCEPTED = _job("ok", "accepted", attempts=[1, 2], accepted=2, artifacts=[
    ("attempt_poster", "/r/b/jobs/ok/attempt-1/clip.png", 1), ("clip", "/r/b/clips/ok.mp4", None),
    ("poster", "/r/b/clips/ok.png", None)])
FAILED = _job("still", "failed", "clip barely moves | (a table cell break)", attempts=[1, 2], artifacts=[
    ("attempt_clip", "/r/b/jobs/still/attempt-1/clip.mp4", 1), ("attempt_poster", "/r/b/jobs/still/attempt-1/clip.png", 1),
    ("attempt_clip", "/r/b/jobs/still/attempt-2/clip.mp4", 2),
    ("attempt_clip", "/r/b/jobs/still/attempt-2/clip-repair.mp4", 2),
    ("attempt_poster", "/r/b/jobs/still/attempt-2/clip.png", 2)])
REJECTED = _job("gate", "rejected", "below the gate threshold", attempts=[1],
                artifacts=[("prepared_image", "/r/b/jobs/gate/input.png", 1)])
BROKEN = _job("broken", "error", "photo.jpg: not an image", attempts=[1])


def public(path):
    return "http://files:8700" + path[len("/r"):]


def test_each_card_shows_the_files_of_how_the_job_ended():
    assert job_files(ACCEPTED) == ("/r/b/clips/ok.png", "/r/b/clips/ok.mp4")
    assert job_files(FAILED) == ("/r/b/jobs/still/attempt-2/clip.png", "/r/b/jobs/still/attempt-2/clip-repair.mp4")
    assert job_files(REJECTED) == ("/r/b/jobs/gate/input.png", None)
    assert job_files(BROKEN) == (None, None)

    card = render_job_card(FAILED, public)
    assert card.poster == "http://files:8700/b/jobs/still/attempt-2/clip.png"
    assert f"![last frame of still]({card.poster})" in card.markdown
    assert "| failed | clip barely moves \\| \\(a table cell break\\) | 2 | 102 |" in card.markdown
    assert card.markdown.rstrip().endswith("[Open the clip of attempt 2](http://files:8700/b/jobs/still/attempt-2/clip-repair.mp4)")
    ok = render_job_card(ACCEPTED, public)
    assert "| accepted | accepted on attempt 2 | 2 | 102 |" in ok.markdown and "[Open the clip](" in ok.markdown
    assert "![input image of gate](http://files:8700/b/jobs/gate/input.png)" in render_job_card(REJECTED, public).markdown
    broken = render_job_card(BROKEN, public)
    assert broken.poster is None and "![" not in broken.markdown and "photo.jpg: not an image" in broken.markdown


def test_the_contact_sheet_has_a_row_per_job():
    sheet = render_contact_sheet({"name": "b", "jobs": [ACCEPTED, FAILED, REJECTED, BROKEN]}, public)
    rows = [line for line in sheet.splitlines() if line.startswith("| ") and not line.startswith("| job")]
    assert [row.split(" | ")[0] for row in rows] == ["| ok", "| still", "| gate", "| broken"]
    assert "![ok](http://files:8700/b/clips/ok.png)" in rows[0] and rows[3] == "| broken | - | error | photo.jpg: not an image | 1 | - |"


def test_links_go_where_a_browser_can_open_them(tmp_path, monkeypatch):
    config = RunConfig(run_root=tmp_path, database="sqlite:///x.db", artifact_url=str(tmp_path))
    stored = f"{tmp_path}/b/clips/ok.png"
    monkeypatch.delenv("CLIPMILL_PUBLIC_URL", raising=False)
    assert config.public_url(stored) == stored  # nothing serves it: the path, as before
    served = RunConfig(run_root=tmp_path, database="sqlite:///x.db", artifact_url=str(tmp_path),
                       public_base="http://files:8700/")
    assert served.public_url(stored) == "http://files:8700/b/clips/ok.png"
    monkeypatch.setenv("CLIPMILL_PUBLIC_URL", "http://worker-own:9000")
    assert served.public_url(stored) == "http://worker-own:9000/b/clips/ok.png"
    monkeypatch.delenv("CLIPMILL_PUBLIC_URL")
    # An object store the browser cannot read: a presigned URL where its filesystem signs, the
    # URL itself where it cannot (memory://).
    memory = RunConfig(run_root=tmp_path, database="sqlite:///x.db", artifact_url="memory://store")
    assert memory.browser_url("memory://store/b/clips/ok.png") == "memory://store/b/clips/ok.png"
    assert served.browser_url(stored) == "http://files:8700/b/clips/ok.png"


def test_the_batch_state_carries_counts_and_a_resolvable_summary():
    from clipmill.flows.batch import batch_state, batch_summary

    summary = {"batch": "b", "jobs": {}}
    failed = batch_state({"accepted": 4, "rejected": 1, "failed": 1, "error": 1}, summary, ran=7)
    assert (failed.type.value, failed.name) == ("FAILED", "4/7 accepted")
    assert failed.message == "4/7 accepted · 1 rejected · 1 failed QA · 1 error"
    assert isinstance(failed.data, BatchEnded) and batch_summary(failed)["counts"]["failed"] == 1
    assert (batch_state({"accepted": 2}, summary, ran=2).type.value,
            batch_state({"accepted": 2}, summary, ran=2).name) == ("COMPLETED", "2/2 accepted")
    nothing = batch_state({"accepted": 4, "failed": 3}, summary, ran=0)
    assert (nothing.type.value, nothing.name) == ("COMPLETED", "Nothing to do")
    assert batch_summary(nothing)["message"] == "4/7 accepted · 3 failed QA"
